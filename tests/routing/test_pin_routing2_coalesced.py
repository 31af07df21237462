"""The factory's coalescing of a release-level move (shared/adapters/routing/__init__.py `coalesced`): only two
or more routes of one route table become one unit, which spends one write, the GET and the reads of one operation."""

from __future__ import annotations

from shared.adapters.routing import router_factory
from shared.domain.plan import LoadBalancerRouting, RouteTableRouting
from tests.routing import arm_resources as R


def test_only_several_routes_of_one_table_are_coalesced_into_one_unit(arm, settings_arm):
    arm.seed(R.route_table())
    routers = router_factory(lambda: None, settings_arm)
    payroll = RouteTableRouting(**R.routing("route-table"))
    balanced = LoadBalancerRouting(**R.routing("load-balancer"))
    assert routers.coalesced([("payroll", payroll, 100)]) is None  # one route: its own unit
    assert routers.coalesced([("payroll", payroll, 100), ("billing", balanced, 100)]) is None  # mixed
    unit = routers.coalesced([("payroll", payroll, 100), ("billing", payroll, 100)])
    assert unit is not None
    assert (unit.workloads, unit.writes, unit.scope, unit.reads) == (
        ("payroll", "billing"),
        1,
        "00000000-0000-0000-0000-0000000000a1",
        4,  # the GET of the table and the three reads of its PUT's operation
    )
