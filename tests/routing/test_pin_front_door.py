"""front-door against the local Resource Manager (shared/adapters/routing/front_door.py): each refusal and
note in full, and the changes a move reports."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import FrontDoorRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R
from tests.routing.test_routing_true_shares import _seed_front_door

PROFILE = "Front Door profile afd-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
GROUP = f"origin group og-payroll of {PROFILE}"


def router(settings, **extra):
    return router_factory(lambda: None, settings)(
        "wave-1", "payroll", FrontDoorRouting(**R.routing("front-door", **extra))
    )


def test_a_split_reports_each_origins_state_and_weight(arm, settings_arm):
    _seed_front_door(arm)
    door = router(settings_arm)
    assert door.describe() == GROUP
    prop = "originGroups/og-payroll/origins/{}: enabledState, weight"
    moved = door.apply(25)
    assert moved == [
        Change(PROFILE, prop.format("payroll-onprem"), "Enabled, weight 1000", "Enabled, weight 75"),
        Change(PROFILE, prop.format("payroll-azure"), "Disabled", "Enabled, weight 25"),
    ]
    assert door.read() == 25


def test_an_origin_of_better_priority_is_named_in_full(arm, settings_arm):
    _seed_front_door(
        arm, **{"payroll-onprem": {"priority": 3}, "payroll-azure": {"priority": 3}, "payroll-standby": {"priority": 2}}
    )
    assert router(settings_arm).problems([0, 40]) == [
        f"{GROUP}: refused before any change: 40% would really be 0% of the traffic, because origin "
        "payroll-standby has priority 2, better than the plan's origins (3): Front Door sends it every request "
        "while it is healthy; disable it or give it a worse priority"
    ]


def test_origins_of_different_priorities_and_a_missing_origin_are_named(arm, settings_arm):
    _seed_front_door(arm, **{"payroll-azure": {"priority": 2}})
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == (
        f"{GROUP}: origins payroll-onprem, payroll-azure have different priorities; weights split requests only "
        "between origins of the same priority"
    )
    with pytest.raises(RoutingError) as error:
        router(settings_arm, target_origin="payroll-gone").read()
    assert str(error.value) == f"{GROUP}: has no origin 'payroll-gone'"


def test_the_notes_name_the_latency_band_and_session_affinity_in_full(arm, settings_arm):
    _seed_front_door(arm)
    door = router(settings_arm)
    band = (
        f"{GROUP}: weights split requests only where both origins are within 50 ms of the fastest "
        "(loadBalancingSettings.additionalLatencyInMilliseconds), as each Front Door environment measures it; "
        "elsewhere the faster origin gets every request, so the share varies by Front Door environment"
    )
    assert door.notes([0, 10, 100]) == [band]
    assert door.notes([0, 100]) == []  # no split: the band changes nothing
    arm.edit(
        f"{R.CDN}/profiles/afd-payroll/originGroups/og-payroll",
        lambda g: g["properties"].update(sessionAffinityState="Enabled"),
    )
    assert router(settings_arm).notes([0, 100]) == [
        f"{GROUP}: session affinity is enabled: a client stays on the origin of its first request, so a flight's "
        "share applies to new sessions; existing ones move only when their origin is disabled"
    ]
