"""dns and private-dns against the local Resource Manager (shared/adapters/routing/dns.py): the refusals,
the change a switch reports and the TTL notes, each in full."""

from __future__ import annotations

import pytest

from shared.domain.errors import RoutingError
from shared.domain.routing import Change
from tests.routing.test_routing_edge import _dns, _router, _seed_record

ZONE = "private DNS zone corp.contoso.com in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
WHAT = f"A record set payroll of {ZONE}"


def test_a_record_set_realises_only_0_or_100_and_reports_its_values(arm, settings_arm):
    _seed_record(arm, "private-dns")
    dns = _router(settings_arm, _dns("private-dns"))
    assert dns.describe() == WHAT
    assert dns.problems([0, 100, 40]) == [f"{WHAT}: a record set realises 0% or 100%, not 40%"]
    with pytest.raises(RoutingError) as error:
        dns.apply(60)
    assert str(error.value) == f"{WHAT}: a record set realises 0% or 100%, not 60%"
    assert dns.diff(0) == []
    assert dns.apply(100) == [Change(ZONE, "A/payroll: records", "10.1.0.4", "10.20.0.4")]
    assert dns.read() == 100


def test_a_record_set_with_other_values_or_none_is_named_in_full(arm, settings_arm):
    _seed_record(arm, "private-dns", values=["10.7.7.7", "10.7.7.8"])
    with pytest.raises(RoutingError) as error:
        _router(settings_arm, _dns("private-dns")).read()
    assert str(error.value) == f"{WHAT}: holds 10.7.7.7, 10.7.7.8, neither the source 10.1.0.4 nor the target 10.20.0.4"
    with pytest.raises(RoutingError) as error:
        _router(settings_arm, _dns("private-dns", record="nothere")).read()
    assert str(error.value) == (
        f"A record set nothere of {ZONE}: not found; promote switches an existing record set (create it with the "
        "source values 10.1.0.4 first)"
    )


def test_the_ttl_notes_say_how_long_resolvers_keep_the_old_value(arm, settings_arm):
    _seed_record(arm, "private-dns", ttl=3600)
    assert _router(settings_arm, _dns("private-dns")).notes([100]) == [
        f"{WHAT}: TTL 3600s: resolvers that asked before the switch keep the old value up to 3600s after it "
        "(set lower_ttl_to to lower it at apply)"
    ]
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).notes([100]) == [
        f"{WHAT}: TTL 3600s: promote apply lowers it to 60s, and the switch waits 3600s from then (resolvers may "
        "hold the old TTL that long); the original comes back at finalize"
    ]
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=3600)).notes([100]) == [
        f"{WHAT}: TTL 3600s is already at most lower_ttl_to (3600s): no wait"
    ]


def test_a_ttl_promote_lowered_is_noted_with_its_original(arm, settings_arm):
    _seed_record(arm, "private-dns", ttl=60, promoteOriginalTtl="3600")
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).notes([100]) == [
        f"{WHAT}: TTL lowered to 60s by promote (original 3600s, put back at finalize)"
    ]
    _seed_record(arm, "private-dns", ttl=300, promoteOriginalTtl="someone else's")  # not a TTL: not promote's
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).notes([100]) == [
        f"{WHAT}: TTL 300s: promote apply lowers it to 60s, and the switch waits 300s from then (resolvers may hold "
        "the old TTL that long); the original comes back at finalize"
    ]
