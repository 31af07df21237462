"""front-door's latency band note (shared/adapters/routing/front_door.py notes), against the local Resource
Manager: a 1% flight splits requests; a band of 1 ms is a band, one of 0 ms none."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import FrontDoorRouting
from tests.routing import arm_resources as R
from tests.routing.test_routing_true_shares import _seed_front_door

GROUP = (
    "origin group og-payroll of Front Door profile afd-payroll in rg-payroll-net (subscription "
    "00000000-0000-0000-0000-0000000000a1)"
)


def notes(settings, percents):
    routing = FrontDoorRouting(**R.routing("front-door"))
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing).notes(percents)


def band(ms: int) -> str:
    return (
        f"{GROUP}: weights split requests only where both origins are within {ms} ms of the fastest "
        "(loadBalancingSettings.additionalLatencyInMilliseconds), as each Front Door environment measures it; "
        "elsewhere the faster origin gets every request, so the share varies by Front Door environment"
    )


def set_band(arm, ms: int) -> None:
    arm.edit(
        f"{R.CDN}/profiles/afd-payroll/originGroups/og-payroll",
        lambda g: g["properties"]["loadBalancingSettings"].update(additionalLatencyInMilliseconds=ms),
    )


def test_the_band_is_noted_for_a_one_percent_flight_and_a_band_of_one_ms_only(arm, settings_arm):
    _seed_front_door(arm)
    assert notes(settings_arm, [0, 1, 100]) == [band(50)]
    set_band(arm, 1)
    assert notes(settings_arm, [0, 1, 100]) == [band(1)]
    set_band(arm, 0)
    assert notes(settings_arm, [0, 1, 100]) == []
