"""The plan's edge routing sections (shared/domain/plan/edge.py): DNS record sets and Azure Firewall DNAT
rules, each refusal by path and exact text, and what is read from the resource ids."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan

SUB = "00000000-0000-0000-0000-000000000001"
ZONE = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/contoso.com"
PRIVATE = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/corp.local"
POLICY = f"/subscriptions/{SUB}/resourceGroups/rg-fw/providers/Microsoft.Network/firewallPolicies/fw-policy"
DNS = {"provider": "dns", "zone": ZONE, "record": "app", "type": "A", "source": ["10.0.0.1"], "target": ["10.1.0.1"]}
FW = {
    "provider": "azure-firewall",
    "policy": POLICY,
    "rule_collection_group": "g",
    "rule_collection": "c",
    "rule": "r",
    "source": "10.0.0.1",
    "target": "10.1.0.1",
}


def _routing(section: dict):
    raw = {"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": section}]}
    return validate_plan(raw).workloads[0].routing


def problems(section: dict) -> list:
    raw = {"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": section}]}
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def test_what_is_read_from_the_ids():
    dns = _routing(DNS)
    assert (dns.subscription, dns.resource_group, dns.zone_name) == (SUB, "rg-dns", "contoso.com")
    private = _routing({**DNS, "provider": "private-dns", "zone": PRIVATE})
    assert private.zone_name == "corp.local"
    firewall = _routing(FW)
    assert (firewall.subscription, firewall.resource_group, firewall.policy_name) == (SUB, "rg-fw", "fw-policy")


def test_record_refusals():
    assert problems({**DNS, "zone": PRIVATE}) == [
        (
            "workloads[0].routing.zone",
            "must be the zone's resource id, /subscriptions/<id>/resourceGroups/<group>/providers/"
            "Microsoft.Network/dnsZones/<zone>",
        )
    ]
    assert problems({**DNS, "provider": "private-dns"}) == [
        (
            "workloads[0].routing.zone",
            "must be the zone's resource id, /subscriptions/<id>/resourceGroups/<group>/providers/"
            "Microsoft.Network/privateDnsZones/<zone>",
        )
    ]
    relative = "must be the record's name relative to the zone ('@' for the zone apex)"
    assert problems({**DNS, "record": "app."}) == [("workloads[0].routing.record", relative)]
    assert problems({**DNS, "record": "a b"}) == [("workloads[0].routing.record", relative)]
    for record in ("@", "*", "*.app", "_sip._tcp", "a.b"):
        assert _routing({**DNS, "record": record}).record == record
    assert problems({**DNS, "source": ["10.0.0.x"]}) == [
        ("workloads[0].routing", "source: '10.0.0.x' is not an IPv4 address")
    ]
    assert problems({**DNS, "target": ["::1"]}) == [
        ("workloads[0].routing", "target: '::1' is not an IPv4 address (A record)")
    ]
    assert problems({**DNS, "type": "AAAA", "source": ["::1"]}) == [
        ("workloads[0].routing", "target: '10.1.0.1' is not an IPv6 address (AAAA record)")
    ]
    assert problems({**DNS, "source": ["10.0.0.1", "10.0.0.1"]}) == [
        ("workloads[0].routing", "source: values must be unique")
    ]
    assert problems({**DNS, "target": ["10.0.0.1"]}) == [("workloads[0].routing", "source and target must differ")]


def test_cname_refusals():
    cname = {**DNS, "type": "CNAME", "source": ["old.contoso.com"], "target": ["new.contoso.com."]}
    assert _routing(cname).target == ["new.contoso.com."]
    assert problems({**cname, "source": ["a.contoso.com", "b.contoso.com"]}) == [
        ("workloads[0].routing", "source: a CNAME record set holds exactly one host name")
    ]
    assert problems({**cname, "target": ["bad host"]}) == [
        ("workloads[0].routing", "target: a CNAME record set holds exactly one host name")
    ]
    assert problems({**cname, "target": ["OLD.contoso.com."]}) == [
        ("workloads[0].routing", "source and target must differ")
    ]
    assert problems({**cname, "record": "@"}) == [
        ("workloads[0].routing", "a CNAME record set cannot be at the zone apex ('@'): Azure refuses it")
    ]


def test_firewall_refusals():
    assert problems({**FW, "policy": ZONE}) == [
        (
            "workloads[0].routing.policy",
            "must be the firewall policy's resource id, /subscriptions/<id>/resourceGroups/<group>/providers/"
            "Microsoft.Network/firewallPolicies/<policy>",
        )
    ]
    assert problems({**FW, "target": "10.0.0.1"}) == [
        ("workloads[0].routing", "source and target must be two different addresses")
    ]
    refs = [{"rule_collection": "n", "rule": "x"}, {"rule_collection": "N", "rule": "X"}]
    assert problems({**FW, "network_rules": refs}) == [("workloads[0].routing", "network_rules: each rule once")]
    assert len(_routing({**FW, "network_rules": refs[:1]}).network_rules) == 1
