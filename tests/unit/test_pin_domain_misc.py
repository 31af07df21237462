"""Small pure parts of shared/domain no other in-process test reads in full: a firewall network rule's
destinations as shown and as switched (edge.py), record-set property names, `promote plan --live`'s notes
(routing.py), a shard's facts as stored (machine/scope.py), a stale TTL timer (machine/rules/ttl.py), a
move's ETA at its start and its hours (progress.py), a window boundary late in the spring gap (windows.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from shared.domain import edge
from shared.domain.machine.scope import ShardFacts
from shared.domain.model import Tally, WorkloadState
from shared.domain.plan import AzureFirewallRouting, DnsRouting
from shared.domain.plan.routing import ROUTING
from shared.domain.progress import RoutingProgress, progress_text
from shared.domain.routing import notes_text
from shared.domain.windows import _local
from tests.unit.test_machine import Driver, make_plan
from tests.unit.test_pin_domain_edge import _firewall
from tests.unit.test_pin_migrate_rules import said

SUB = "00000000-0000-0000-0000-000000000001"
ZONE = f"/subscriptions/{SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnsZones/contoso.com"
SOURCE, TARGET, OTHER = "10.0.0.1", "10.1.0.1", "10.9.9.9"


def test_destinations_name_the_plan_s_addresses_first_then_the_others():
    fw: AzureFirewallRouting = _firewall()
    assert edge.destinations_value(fw, []) == "(neither address of the plan)"
    assert edge.destinations_value(fw, [OTHER]) == "(neither address of the plan) + not in the plan: 10.9.9.9"
    assert edge.destinations_value(fw, [OTHER, TARGET, "10.8.8.8", SOURCE]) == (
        "10.0.0.1, 10.1.0.1 + not in the plan: 10.9.9.9, 10.8.8.8"
    )
    assert edge.destinations_value(fw, [TARGET]) == "10.1.0.1"


def test_switched_destinations_replace_the_other_address_in_place():
    fw = _firewall()
    assert edge.switched_destinations(fw, [OTHER, SOURCE, "10.8.8.8"], 100) == [OTHER, TARGET, "10.8.8.8"]
    assert edge.switched_destinations(fw, [OTHER, TARGET, "10.8.8.8"], 0) == [OTHER, SOURCE, "10.8.8.8"]
    assert edge.switched_destinations(fw, [TARGET], 99) == [SOURCE]
    assert edge.switched_destinations(fw, [SOURCE, TARGET], 100) == [TARGET]  # not twice
    assert edge.switched_destinations(fw, [TARGET, SOURCE], 0) == [SOURCE]
    assert edge.switched_destinations(fw, [OTHER], 100) == [OTHER]


def _record(**fields) -> DnsRouting:
    section = {"provider": "dns", "zone": ZONE, "record": "app", "type": "A", "source": [SOURCE], "target": [TARGET]}
    routing = ROUTING.validate_python({**section, **fields})
    assert isinstance(routing, DnsRouting)
    return routing


def test_record_set_properties_and_settings():
    a = _record()
    cname = _record(record="www", type="CNAME", source=["old.contoso.com"], target=["new.contoso.net"])
    assert (edge.record_property(a), edge.ttl_property(a)) == ("A/app: records", "A/app: TTL")
    assert (edge.record_property(cname), edge.ttl_property(cname)) == ("CNAME/www: cname", "CNAME/www: TTL")
    assert edge.dns_settings(a, 100) == {"A/app: records": TARGET}
    assert edge.dns_settings(cname, 99) == {"CNAME/www: cname": "old.contoso.com"}
    assert edge.record_value([]) == "(none)"
    assert edge.kind_and_name(a) == ("DNS zone", "contoso.com")
    assert edge.kind_and_name(_firewall()) == ("firewall policy", "fw-policy")


def test_live_notes_are_listed_per_workload_and_absent_without_any():
    doc = {"workloads": [{"name": "web", "notes": ["pool has 1 foreign member", "drain 30s"]}, {"name": "db"}]}
    assert notes_text(doc) == (
        "\n\nlive check: what the shares mean here\n  web: pool has 1 foreign member\n  web: drain 30s"
    )
    assert notes_text({"workloads": [{"name": "web", "notes": []}, {"name": "db"}]}) == ""


def test_a_shard_s_facts_as_stored_and_read_back():
    until = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    facts = ShardFacts(
        Tally(((WorkloadState.READY, 2), (WorkloadState.TESTING, 1)), 1),  # sorted by state, as Tally.of counts them
        True,
        until,
    )
    doc = {"states": {"ready": 2, "testing": 1}, "ready_unapproved": 1, "ready": True, "ready_until": until.isoformat()}
    assert facts.to_json() == doc
    assert doc["ready_until"] == "2026-12-07T09:30:00+00:00"
    assert ShardFacts.from_json(doc) == facts
    endless = ShardFacts(Tally(((WorkloadState.PROMOTED, 3),), 0))
    assert endless.to_json() == {"states": {"promoted": 3}, "ready_unapproved": 0, "ready": False, "ready_until": None}
    assert ShardFacts.from_json(endless.to_json()) == endless


def test_a_ttl_timer_for_no_ttl_wait_is_stale():
    d = Driver(make_plan("single-step"))
    assert said(d.send("ttl-elapsed", until_ms=0)) == [
        ("ignored", "ttl timer is stale (not for this workload's TTL wait)")
    ]


def test_a_move_recorded_at_its_start_with_no_forecast_is_due_then():
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    p = RoutingProgress(0, 10, 0, 4, start, start, 0.0)
    assert p.eta() == start
    assert p.to_json(start)["eta"] == "2026-03-02T12:00:00Z"


def test_hours_are_shown_to_a_tenth():
    doc = {"total": 5000, "writes": 795, "took_s": 36180.0}  # 10.05 h
    assert progress_text(doc) == "routing took 10.1 h (5,000 workloads, 795 Azure writes)"


def test_a_boundary_late_in_the_spring_gap_is_the_jump_to_the_second():
    paris = ZoneInfo("Europe/Paris")  # 2027-03-28: 02:00 -> 03:00, at 01:00:00Z
    assert _local(date(2027, 3, 28), time(2, 59), paris) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert _local(date(2027, 3, 28), time(2, 0), paris) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
