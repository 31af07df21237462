"""route-table and traffic-manager against the local Resource Manager: the exact changes and refusals
(shared/adapters/routing/route_table.py, traffic_manager.py, _weighted.py)."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import RouteTableRouting, TrafficManagerRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

IN = "in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
RT = f"{R.NET}/routeTables/rt-payroll"
TM = f"{R.NET}/trafficManagerProfiles/tm-payroll"
ROUTE = f"route to-payroll of route table rt-payroll {IN}"
PROFILE = f"Traffic Manager profile tm-payroll {IN}"


def router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def test_a_route_reports_its_next_hop_change_and_realises_only_0_or_100(arm, settings_arm):
    arm.seed(R.route_table())
    route = router(settings_arm, RouteTableRouting(**R.routing("route-table")))
    assert route.describe() == ROUTE
    assert route.diff(0) == []
    change = Change(f"route table rt-payroll {IN}", "routes/to-payroll: nextHopIpAddress", "10.0.0.4", "10.1.0.4")
    assert route.diff(100) == [change]
    assert route.problems([0, 25, 100, 75]) == [
        f"{ROUTE}: a route realises 0% or 100%, not 25%",
        f"{ROUTE}: a route realises 0% or 100%, not 75%",
    ]
    with pytest.raises(RoutingError) as error:
        route.apply(50)
    assert str(error.value) == f"{ROUTE}: a route realises 0% or 100%, not 50%"
    assert arm.writes() == []
    assert route.apply(100) == [change] and route.read() == 100
    assert route.apply(100) == []


def test_a_route_to_another_hop_is_named(arm, settings_arm):
    arm.seed(R.route_table())
    arm.edit(f"{RT}/routes/to-payroll", lambda r: r["properties"].update(nextHopIpAddress="10.9.9.9"))
    with pytest.raises(RoutingError) as error:
        router(settings_arm, RouteTableRouting(**R.routing("route-table"))).read()
    assert str(error.value) == f"{ROUTE}: next hop is 10.9.9.9, neither the source 10.0.0.4 nor the target 10.1.0.4"


def test_a_profile_moves_weights_gaining_side_first_and_reports_each_endpoint(arm, settings_arm):
    arm.seed(R.traffic_manager())
    tm = router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    assert tm.describe() == PROFILE
    assert tm.read() == 0
    to_30 = [
        Change(
            PROFILE,
            "externalEndpoints/payroll-onprem: endpointStatus, weight",
            "Enabled, weight 100",
            "Enabled, weight 70",
        ),
        Change(PROFILE, "externalEndpoints/payroll-azure: endpointStatus, weight", "Disabled", "Enabled, weight 30"),
    ]
    assert tm.diff(30) == to_30
    assert tm.problems([0, 30, 100]) == []
    arm.clear_log()
    assert tm.apply(30) == to_30 and tm.read() == 30
    patched = [r.path.rsplit("/", 1)[-1] for r in arm.writes()]
    assert patched == ["payroll-azure", "payroll-onprem"]  # the endpoint gaining users first
    arm.clear_log()
    # at 0% the target is disabled; the source, enabled already, keeps the weight it has
    assert tm.apply(0) == [
        Change(PROFILE, "externalEndpoints/payroll-azure: endpointStatus, weight", "Enabled, weight 30", "Disabled")
    ]
    assert [r.path.rsplit("/", 1)[-1] for r in arm.writes()] == ["payroll-azure"]
    assert tm.read() == 0


def test_a_profile_with_both_endpoints_disabled_or_one_missing_is_named(arm, settings_arm):
    profile = R.traffic_manager()
    profile["properties"]["endpoints"][0]["properties"]["endpointStatus"] = "Disabled"
    arm.seed(profile)
    tm = router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    with pytest.raises(RoutingError) as error:
        tm.read()
    assert str(error.value) == f"{PROFILE}: both endpoints payroll-onprem, payroll-azure are disabled"
    missing = router(
        settings_arm, TrafficManagerRouting(**R.routing("traffic-manager", target_endpoint="payroll-gone"))
    )
    with pytest.raises(RoutingError) as error:
        missing.read()
    assert str(error.value) == f"{PROFILE}: has no externalEndpoints endpoint 'payroll-gone'"
