"""route-table against the local Resource Manager (shared/adapters/routing/route_table.py) when a route has no
next hop address (a next hop type without one), and a route table batch's refusals, in full."""

from __future__ import annotations

import pytest

from shared.adapters.routing import route_table, router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import RouteTableRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

IN = "in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
RT = f"{R.NET}/routeTables/rt-payroll"
TABLE = f"route table rt-payroll {IN}"
PROP = "routes/to-payroll: nextHopIpAddress"


def no_address(arm) -> None:
    arm.seed(R.route_table())
    arm.edit(f"{RT}/routes/to-payroll", lambda r: r["properties"].pop("nextHopIpAddress"))


def test_a_route_without_a_next_hop_address_is_named_and_changed_from_none(arm, settings_arm):
    no_address(arm)
    route = router_factory(lambda: None, settings_arm)(
        "wave-1", "payroll", RouteTableRouting(**R.routing("route-table"))
    )
    with pytest.raises(RoutingError) as error:
        route.read()
    assert str(error.value) == (
        f"route to-payroll of {TABLE}: next hop is not an IP address, neither the source 10.0.0.4 nor the target "
        "10.1.0.4"
    )
    assert route.diff(100) == [Change(TABLE, PROP, "(none)", "10.1.0.4")]


def test_a_batch_moves_a_route_without_an_address_and_names_what_it_refuses(arm, settings_arm):
    no_address(arm)
    payroll = RouteTableRouting(**R.routing("route-table"))
    gone = RouteTableRouting(**R.routing("route-table", route="gone"))
    with pytest.raises(RoutingError) as error:
        route_table.build_batch([("payroll", payroll, 100), ("crm", payroll, 50)], settings_arm).apply()
    assert str(error.value) == f"route to-payroll of {TABLE} (crm): a route realises 0% or 100%"
    with pytest.raises(RoutingError) as error:
        route_table.build_batch([("payroll", payroll, 100), ("crm", gone, 0)], settings_arm).apply()
    assert str(error.value) == f"route gone of {TABLE}: not found (404)"
    assert arm.writes() == []
    etag = arm.get(RT)["etag"]
    made = route_table.build_batch([("payroll", payroll, 100)], settings_arm).apply()
    assert made == {"payroll": [Change(TABLE, PROP, "(none)", "10.1.0.4")]}
    [put] = [r for r in arm.log if r.method == "PUT"]
    assert put.headers == {"If-Match": etag}  # the table as read: a change meanwhile is refused (412)


def refused(call) -> str:
    with pytest.raises(RoutingError) as error:
        call()
    return str(error.value)


def test_a_403_names_the_route_or_table_and_the_permission_needed(arm, settings_arm):
    arm.seed(R.route_table())
    payroll = RouteTableRouting(**R.routing("route-table"))
    route = router_factory(lambda: None, settings_arm)("wave-1", "payroll", payroll)
    denied = "access denied (403); the identity needs Microsoft.Network/routeTables"
    arm.fail("GET", "routetables/rt-payroll/routes/to-payroll", 403, times=10)
    assert refused(route.read) == (
        f"route to-payroll of {TABLE}: {denied}/routes/read and /write on the route table: AuthorizationFailed: "
        "injected 403"
    )
    arm.faults.clear()
    arm.fail("PUT", "routetables/rt-payroll/routes/to-payroll", 403, times=10)
    assert refused(lambda: route.apply(100)) == (
        f"route to-payroll of {TABLE}: {denied}/routes/read and /write on the route table: AuthorizationFailed: "
        "injected 403"
    )
    arm.faults.clear()
    batch = route_table.build_batch([("payroll", payroll, 100)], settings_arm)
    table = f"{TABLE}: {denied}/read and /write on the route table: AuthorizationFailed: injected 403"
    arm.fail("GET", "routetables/rt-payroll", 403, times=10)
    assert refused(batch.apply) == table
    arm.faults.clear()
    arm.fail("PUT", "routetables/rt-payroll", 403, times=10)
    assert refused(batch.apply) == table
