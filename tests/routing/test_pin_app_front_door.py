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


def seed(arm, group: dict | None = None, **origins) -> None:
    """R.front_door() with each named origin's properties replaced (None: removed, as Azure may leave them)."""
    for doc in R.front_door():
        for key, value in origins.get(doc["name"].replace("-", "_"), {}).items():
            if value is None:
                doc["properties"].pop(key, None)
            else:
                doc["properties"][key] = value
        if doc["name"] == "og-payroll" and group:
            doc["properties"]["loadBalancingSettings"].update(group)
        arm.seed(doc)


def router(settings):
    return router_factory(lambda: None, settings)("wave-1", "payroll", FrontDoorRouting(**R.routing("front-door")))


def test_the_best_of_several_better_origins_is_named_even_for_one_percent(arm, settings_arm):
    seed(arm, payroll_onprem={"priority": 3}, payroll_azure={"priority": 3}, payroll_standby={"priority": 2})
    arm.seed({**R.front_door()[-1], "id": R.front_door()[-1]["id"].replace("payroll-standby", "a-backup"),
              "name": "a-backup"})  # fmt: skip
    arm.edit(R.front_door()[-1]["id"].replace("payroll-standby", "a-backup"),
             lambda o: o["properties"].update(priority=2))  # fmt: skip
    arm.edit(R.front_door()[-1]["id"], lambda o: o["properties"].update(priority=1))
    assert router(settings_arm).problems([0, 1]) == [
        f"{GROUP}: refused before any change: 1% would really be 0% of the traffic, because origin "
        "payroll-standby has priority 1, better than the plan's origins (3): Front Door sends it every request "
        "while it is healthy; disable it or give it a worse priority"
    ]


def test_a_better_origin_takes_everything_while_only_the_target_is_enabled(arm, settings_arm):
    seed(arm, payroll_onprem={"priority": 2, "enabledState": "Disabled"},
         payroll_azure={"priority": 2, "enabledState": "Enabled"}, payroll_standby={"priority": 1})  # fmt: skip
    assert router(settings_arm).read() == 0


def test_without_a_latency_band_only_a_split_is_refused(arm, settings_arm):
    seed(arm, {"additionalLatencyInMilliseconds": 0})
    [refusal] = router(settings_arm).problems([0, 1, 100])
    assert refusal.startswith(f"{GROUP}: 1% is not a share Front Door keeps: loadBalancingSettings")


def test_origins_without_a_priority_are_all_of_priority_one(arm, settings_arm):
    """Azure's default priority is 1: a third origin without one shares the requests by its weight."""
    seed(arm, payroll_onprem={"priority": None, "weight": 500},
         payroll_azure={"priority": None, "weight": 500, "enabledState": "Enabled"},
         payroll_standby={"priority": None, "weight": 1000})  # fmt: skip
    assert router(settings_arm).read() == 25
