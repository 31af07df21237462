"""dns, private-dns and azure-firewall through the real SDKs (azure-mgmt-dns, azure-mgmt-privatedns,
azure-mgmt-network) against the local Resource Manager, and what the stand-in refuses as Azure does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.routing import router_factory
from shared.adapters.routing.dns import LOWERED_AT, ORIGINAL
from shared.domain.errors import PlanError, RoutingError
from shared.domain.plan import AzureFirewallRouting, DnsRouting, PrivateDnsRouting, validate_plan
from shared.domain.ttl import RestoredTtl
from tests.routing import arm_resources as R

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ZONES = {"private-dns": R.PRIVATE_ZONE, "dns": R.PUBLIC_ZONE}
TTL_KEY = {"private-dns": "ttl", "dns": "TTL"}
A_KEY = {"private-dns": "aRecords", "dns": "ARecords"}


def _router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def _dns(provider: str, **extra):
    model = PrivateDnsRouting if provider == "private-dns" else DnsRouting
    return model(**{**R.routing(provider), **extra})


def _seed_record(arm, provider: str, values=("10.1.0.4",), ttl=3600, kind="A", name="payroll", **metadata):
    arm.seed(R.dns_zone(ZONES[provider]))
    arm.seed(R.record_set(ZONES[provider], kind, name, list(values), ttl, **metadata))
    return f"{ZONES[provider]}/{kind}/{name}"


def _addresses(doc: dict, provider: str) -> list[str]:
    return [a["ipv4Address"] for a in doc["properties"][A_KEY[provider]]]


# -- dns / private-dns: the switch -----------------------------------------------------------------
@pytest.mark.parametrize("provider", ["private-dns", "dns"])
def test_a_record_switches_with_the_etag_read_and_keeps_everything_else(arm, settings_arm, provider):
    record = _seed_record(arm, provider)
    router = _router(settings_arm, _dns(provider))
    assert router.read() == 0
    arm.clear_log()
    [change] = router.apply(100)
    assert (change.property, change.before, change.after) == ("A/payroll: records", "10.1.0.4", "10.20.0.4")
    assert change.resource.startswith("private DNS zone corp.contoso.com" if provider == "private-dns" else "DNS zone")
    [put] = [r for r in arm.log if r.method == "PUT"]
    # sent exactly as Azure returned it: a bare GUID (the Private DNS SDK would have quoted it)
    assert put.headers == {"If-Match": "11111111-1111-1111-1111-111111111111"}
    assert put.api_version == ("2024-06-01" if provider == "private-dns" else "2018-05-01")
    after = arm.get(record)
    assert _addresses(after, provider) == ["10.20.0.4"]
    assert after["properties"][TTL_KEY[provider]] == 3600  # the TTL is not touched by a switch
    assert after["properties"]["metadata"] == {"owner": "dns-team"}
    assert router.read() == 100

    arm.clear_log()
    assert router.apply(100) == []  # in place: nothing written
    assert [r.method for r in arm.log] == ["GET"]
    router.apply(0)
    assert _addresses(arm.get(record), provider) == ["10.1.0.4"]


def test_a_cname_record_switches_between_two_host_names(arm, settings_arm):
    record = _seed_record(arm, "dns", values=["payroll.onprem.contoso.com"], kind="CNAME", name="www")
    routing = _dns("dns", record="www", type="CNAME", source=["payroll.onprem.contoso.com"],
                   target=["payroll-contoso.azurefd.net"])  # fmt: skip
    router = _router(settings_arm, routing)
    [change] = router.apply(100)
    assert (change.property, change.after) == ("CNAME/www: cname", "payroll-contoso.azurefd.net")
    assert arm.get(record)["properties"]["CNAMERecord"] == {"cname": "payroll-contoso.azurefd.net"}
    assert router.read() == 100


def test_a_record_changed_between_read_and_write_is_read_again_not_overwritten(arm, settings_arm):
    record = _seed_record(arm, "private-dns")

    def someone_adds_metadata(fake):
        fake.edit(record, lambda doc: doc["properties"]["metadata"].update(ticket="CHG-42"))

    arm.after("GET", "/A/payroll", someone_adds_metadata)
    arm.clear_log()
    _router(settings_arm, _dns("private-dns")).apply(100)
    assert [(r.method, r.status) for r in arm.log] == [("GET", 200), ("PUT", 412), ("GET", 200), ("PUT", 200)]
    doc = arm.get(record)
    assert doc["properties"]["metadata"] == {"owner": "dns-team", "ticket": "CHG-42"}  # theirs kept
    assert _addresses(doc, "private-dns") == ["10.20.0.4"]


def test_a_record_with_other_values_is_neither_share_and_a_missing_one_is_named(arm, settings_arm):
    _seed_record(arm, "private-dns", values=["10.7.7.7"])
    router = _router(settings_arm, _dns("private-dns"))
    with pytest.raises(RoutingError, match=r"holds 10\.7\.7\.7, neither the source 10\.1\.0\.4 nor the target"):
        router.read()
    other = _router(settings_arm, _dns("private-dns", record="nothere"))
    with pytest.raises(RoutingError, match="not found; promote switches an existing record set"):
        other.apply(100)
    assert arm.writes() == []


def test_dns_and_firewall_plans_refuse_flights_naming_the_weighted_providers():
    plan = {
        "release": "wave-9",
        "model": "flight",
        "flights": [{"percent": 10}, {"percent": 100}],
        "workloads": [
            {"name": "payroll", "assets": ["vm-1"], "routing": R.routing("private-dns")},
            {"name": "hr", "assets": ["vm-2"], "routing": R.routing("azure-firewall")},
        ],
    }
    with pytest.raises(PlanError) as refused:
        validate_plan(plan)
    assert [path for path, _ in refused.value.problems] == [
        "workloads[0].routing.provider",
        "workloads[1].routing.provider",
    ]
    for _, reason in refused.value.problems:
        assert "can only realise 0% or 100%" in reason and "traffic-manager, front-door" in reason


# -- the TTL choreography ----------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["private-dns", "dns"])
def test_lowering_the_ttl_keeps_the_values_and_records_the_original_once(arm, settings_arm, provider):
    record = _seed_record(arm, provider, ttl=3600)
    router = _router(settings_arm, _dns(provider, lower_ttl_to=60))
    lowered = router.lower_ttl(T0)
    assert (lowered.old_ttl, lowered.until) == (3600, T0 + timedelta(seconds=3600))
    assert [str(c).split(": ", 1)[1] for c in lowered.changes] == ["A/payroll: TTL 3600s -> 60s"]
    doc = arm.get(record)
    assert doc["properties"][TTL_KEY[provider]] == 60
    assert _addresses(doc, provider) == ["10.1.0.4"]  # never in the same write as a switch
    assert doc["properties"]["metadata"] == {"owner": "dns-team", ORIGINAL: "3600", LOWERED_AT: "2026-11-27T09:00:00Z"}

    arm.clear_log()  # a second apply: found lowered, the same wait, nothing written
    again = router.lower_ttl(T0 + timedelta(minutes=5))
    assert (again.old_ttl, again.until, again.changes) == (3600, T0 + timedelta(seconds=3600), [])
    assert [r.method for r in arm.log] == ["GET"]

    router.apply(100)  # the switch keeps the lowered TTL
    assert arm.get(record)["properties"][TTL_KEY[provider]] == 60

    restorer = _router(settings_arm, RestoredTtl(_dns(provider, lower_ttl_to=60)))
    [change] = restorer.apply(100)
    assert (change.before, change.after) == ("60s", "3600s")
    doc = arm.get(record)
    assert doc["properties"][TTL_KEY[provider]] == 3600 and doc["properties"]["metadata"] == {"owner": "dns-team"}
    assert _addresses(doc, provider) == ["10.20.0.4"]
    assert restorer.apply(100) == []  # nothing recorded any more: nothing to put back


def test_an_abort_puts_the_values_back_then_the_ttl_in_two_writes(arm, settings_arm):
    record = _seed_record(arm, "private-dns", values=["10.20.0.4"], ttl=60, **{ORIGINAL: "3600", LOWERED_AT: "x"})
    arm.clear_log()
    changes = _router(settings_arm, RestoredTtl(_dns("private-dns", lower_ttl_to=60))).apply(0)
    assert [(c.property, c.before, c.after) for c in changes] == [
        ("A/payroll: records", "10.20.0.4", "10.1.0.4"),
        ("A/payroll: TTL", "60s", "3600s"),
    ]
    puts = [r.body["properties"] for r in arm.log if r.method == "PUT"]
    assert [(p["ttl"], p["aRecords"]) for p in puts] == [
        (60, [{"ipv4Address": "10.1.0.4"}]),  # the values first, at the low TTL
        (3600, [{"ipv4Address": "10.1.0.4"}]),
    ]
    assert arm.get(record)["properties"]["metadata"] == {"owner": "dns-team"}


def test_a_ttl_already_low_is_not_written_and_the_switch_need_not_wait(arm, settings_arm):
    _seed_record(arm, "private-dns", ttl=30)
    arm.clear_log()
    lowered = _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).lower_ttl(T0)
    assert (lowered.old_ttl, lowered.until, lowered.changes) == (30, T0, [])
    assert arm.writes() == []


def test_a_ttl_raised_again_after_promote_lowered_it_is_lowered_again_and_waited_out(arm, settings_arm):
    record = _seed_record(arm, "private-dns", ttl=600, **{ORIGINAL: "3600", LOWERED_AT: "2026-11-27T09:00:00Z"})
    later = T0 + timedelta(hours=2)
    lowered = _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).lower_ttl(later)
    # resolvers may hold the raised TTL (600s) from now: the earlier wait (until 10:00) is over
    assert lowered.until == later + timedelta(seconds=600)
    meta = arm.get(record)["properties"]["metadata"]
    assert (meta[ORIGINAL], meta[LOWERED_AT]) == ("3600", "2026-11-27T11:00:00Z")  # the first original kept


# -- what the stand-in refuses, as Azure does ------------------------------------------------------------
def _private_client(settings):
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    from shared.adapters.routing import _arm

    return _arm.client(PrivateDnsManagementClient, settings, R.SUB)


def test_the_stand_in_refuses_what_azure_dns_refuses(arm, settings_arm):
    from azure.core import MatchConditions
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceModifiedError
    from azure.mgmt.privatedns.models import ARecord, CnameRecord, RecordSet

    _seed_record(arm, "private-dns")
    sets = _private_client(settings_arm).record_sets
    with pytest.raises(HttpResponseError) as apex:  # no CNAME at the zone apex
        sets.create_or_update(
            R.RG, "corp.contoso.com", "CNAME", "@", RecordSet(ttl=60, cname_record=CnameRecord(cname="x.y"))
        )
    assert apex.value.status_code == 400
    with pytest.raises(ResourceExistsError) as clash:  # a CNAME cannot share a name with an A record set
        sets.create_or_update(
            R.RG, "corp.contoso.com", "CNAME", "payroll", RecordSet(ttl=60, cname_record=CnameRecord(cname="x.y"))
        )
    assert clash.value.status_code == 409 and "another record with the same name" in str(clash.value)
    with pytest.raises(HttpResponseError) as ttl:
        sets.create_or_update(
            R.RG, "corp.contoso.com", "A", "other", RecordSet(ttl=0, a_records=[ARecord(ipv4_address="10.0.0.1")])
        )
    assert ttl.value.status_code == 400 and "TTL" in str(ttl.value)
    with pytest.raises(HttpResponseError) as wrong:  # an A record set holds IPv4 addresses only
        sets.create_or_update(
            R.RG, "corp.contoso.com", "A", "other", RecordSet(ttl=60, a_records=[ARecord(ipv4_address="fe80::1")])
        )
    assert wrong.value.status_code == 400
    # the SDK's own If-Match quotes a bare GUID: the stand-in does not take that as equal (Azure does not say so)
    with pytest.raises(ResourceModifiedError):
        etag, unchanged = "11111111-1111-1111-1111-111111111111", MatchConditions.IfNotModified
        sets.update(R.RG, "corp.contoso.com", "A", "payroll", RecordSet(ttl=60), etag=etag, match_condition=unchanged)
    with pytest.raises(ResourceExistsError):  # If-None-Match: * on an existing record set
        sets.create_or_update(
            R.RG, "corp.contoso.com", "A", "payroll", RecordSet(ttl=60), match_condition=MatchConditions.IfMissing
        )


# -- azure-firewall -----------------------------------------------------------------------------------
def _seed_policy(arm):
    for doc in R.firewall_policy():
        arm.seed(doc)


def _rules(arm) -> dict[str, dict]:
    return {r["name"]: r for c in arm.get(R.RCG)["properties"]["ruleCollections"] for r in c["rules"]}


def test_firewall_switches_the_dnat_rule_and_its_network_rule_in_one_guarded_write(arm, settings_arm):
    _seed_policy(arm)
    before = _rules(arm)
    router = _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall")))
    assert router.read() == 0
    arm.clear_log()
    changes = router.apply(100)
    assert [(c.property, c.before, c.after) for c in changes] == [
        ("ruleCollectionGroups/migration/dnat-payroll/https: translatedAddress", "10.1.0.4", "10.20.0.4"),
        (
            "ruleCollectionGroups/migration/net-payroll/sql: destinationAddresses",
            "10.1.0.4 + not in the plan: 10.9.9.9",
            "10.20.0.4 + not in the plan: 10.9.9.9",
        ),
    ]
    puts = [r for r in arm.log if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].headers == {"If-Match": 'W/"seed-group"'}
    assert any("/operations/" in r.path and r.note == "Succeeded" for r in arm.log)  # the LRO followed to its end
    after = _rules(arm)
    assert after["https"]["translatedAddress"] == "10.20.0.4"
    assert after["sql"]["destinationAddresses"] == ["10.20.0.4", "10.9.9.9"]  # order and the other address kept
    assert after["ssh-jump"] == before["ssh-jump"] and after["dns"] == before["dns"]
    assert router.read() == 100
    arm.clear_log()
    assert router.apply(100) == [] and arm.writes() == []


def test_a_busy_firewall_policy_is_waited_out_not_failed(arm, settings_arm, naps):
    _seed_policy(arm)
    router = _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall")))
    arm.edge.busy(R.POLICY, 0.3)  # someone else's update of the policy is running
    router.apply(100)
    assert _rules(arm)["https"]["translatedAddress"] == "10.20.0.4"
    assert naps.asked and naps.asked[0] == 5.0  # waited (5 s, doubling), then wrote

    # a write answered 409 AnotherOperationInProgress, as when the policy got busy after promote looked
    naps.asked.clear()
    arm.fail("PUT", "rulecollectiongroups/migration", 409, code="AnotherOperationInProgress", times=2)
    arm.clear_log()
    router.apply(0)
    assert [r.status for r in arm.log if r.method == "PUT"] == [409, 409, 200]
    assert naps.asked == [5.0, 10.0]
    assert _rules(arm)["https"]["translatedAddress"] == "10.1.0.4"


def test_a_policy_busy_for_longer_than_the_budget_fails_the_attempt_for_a_redelivery(arm, settings_arm, naps):
    _seed_policy(arm)
    arm.fail("PUT", "rulecollectiongroups/migration", 409, code="AnotherOperationInProgress", times=99)
    router = _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall")))
    with pytest.raises(
        RoutingError, match=r"conflict \(409\).*still busy after waiting 125s; the redelivery waits again"
    ):
        router.apply(100)
    assert naps.asked == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]  # the next 30 s would pass the 150 s budget


def test_a_429_for_another_operation_is_waited_out_once_the_sdk_has_retried_it(arm, settings_arm, naps):
    _seed_policy(arm)
    # the SDK retries a 429 three times by itself (4 requests); the fifth succeeds after promote's own wait
    arm.fail("PUT", "rulecollectiongroups/migration", 429, code="RetryableErrorDueToAnotherOperation", times=4)
    arm.clear_log()
    _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall"))).apply(100)
    assert [r.status for r in arm.log if r.method == "PUT"] == [429, 429, 429, 429, 200]
    assert naps.asked == [5.0]


def test_firewall_refuses_a_network_rule_naming_neither_address_and_reads_a_mixed_group_as_changed(arm, settings_arm):
    _seed_policy(arm)
    routing = AzureFirewallRouting(
        **R.routing("azure-firewall", network_rules=[{"rule_collection": "net-payroll", "rule": "dns"}])
    )
    with pytest.raises(
        RoutingError, match=r"network rule dns of net-payroll names neither 10\.1\.0\.4 nor 10\.20\.0\.4"
    ):
        _router(settings_arm, routing).apply(100)
    assert arm.writes() == []

    arm.edit(R.RCG, lambda g: g["properties"]["ruleCollections"][0]["rules"][0].update(translatedAddress="10.20.0.4"))
    with pytest.raises(
        RoutingError, match="translates to 10.20.0.4 but network rule sql of net-payroll has destination"
    ):
        _router(settings_arm, AzureFirewallRouting(**R.routing("azure-firewall"))).read()


def test_the_stand_in_refuses_a_group_azure_would_refuse_and_a_stale_etag(arm, settings_arm):
    from azure.core.exceptions import HttpResponseError

    from shared.adapters.routing import _arm

    _seed_policy(arm)
    from azure.mgmt.network import NetworkManagementClient

    groups = _arm.client(NetworkManagementClient, settings_arm, R.SUB).firewall_policy_rule_collection_groups
    group = groups.get(R.RG, "fw-pol", "migration")
    group.rule_collections[0].rules[0].translated_fqdn = "payroll.contoso.com"  # both an address and an FQDN
    with pytest.raises(HttpResponseError) as bad:
        groups.begin_create_or_update(R.RG, "fw-pol", "migration", group).result()
    assert bad.value.status_code == 400 and "exactly one of translatedAddress and translatedFqdn" in str(bad.value)
    group = groups.get(R.RG, "fw-pol", "migration")
    with pytest.raises(HttpResponseError) as stale:
        groups.begin_create_or_update(R.RG, "fw-pol", "migration", group, headers={"If-Match": 'W/"old"'}).result()
    assert stale.value.status_code == 412
