"""load-balancer against the local Resource Manager (shared/adapters/routing/load_balancer.py): the notes,
refusals and changes in full."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import LoadBalancerRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R

POOL = f"{R.NET}/loadBalancers/lb-payroll/backendAddressPools/be-payroll"
LB = "load balancer lb-payroll in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"
WHAT = f"backend pool be-payroll of {LB}"
MEMBERS = "backendAddressPools/be-payroll: loadBalancerBackendAddresses"


def router(settings, **extra):
    return router_factory(lambda: None, settings)(
        "wave-1", "payroll", LoadBalancerRouting(**R.routing("load-balancer", **extra))
    )


def set_admin(arm, ip: str, state: str) -> None:
    def change(pool):
        for a in pool["properties"]["loadBalancerBackendAddresses"]:
            if a["properties"]["ipAddress"] == ip:
                a["properties"]["adminState"] = state

    arm.edit(POOL, change)


def test_the_notes_name_down_members_and_the_drain_period_in_full(arm, settings_arm):
    arm.seed(R.load_balancer())
    assert router(settings_arm).describe() == WHAT
    assert router(settings_arm).notes([100]) == [
        f"{WHAT}: no drainPeriodInSeconds on the pool (and no drain_period in the plan): Azure documents no "
        "draining for an address removed from the pool; set drain_period to have Load Balancer wait before it "
        "resets the removed addresses' connections"
    ]
    set_admin(arm, "10.0.1.5", "Down")
    set_admin(arm, "10.0.1.4", "Down")
    assert router(settings_arm, drain_period=45).notes([100]) == [
        f"{WHAT}: adminState Down on 10.0.1.4, 10.0.1.5: no new flows go there (established TCP connections stay), "
        "so they do not count in the share; adminState takes effect only when the load-balancing rules have a "
        "health probe",
        f"{WHAT}: drainPeriodInSeconds 45: the connections of an address promote removes are reset 45s after its "
        "removal",
    ]


def test_a_move_onto_down_addresses_is_refused_naming_them(arm, settings_arm):
    arm.seed(R.load_balancer())
    set_admin(arm, "10.0.1.4", "Down")
    lb = router(settings_arm)
    [refusal] = lb.problems([0, 50])  # 50%: all four sources and four targets, one source Down: 4 of 7
    assert refusal == (
        f"{WHAT}: refused before any change: 50% would really be 57% of the traffic, because the plan's addresses "
        "10.0.1.4 have adminState Down (no new flows); set them to None or Up first"
    )
    with pytest.raises(RoutingError) as error:
        lb.apply(50)
    assert str(error.value) == refusal
    assert arm.writes() == []


def test_a_move_reports_the_members_and_the_drain_period_it_sets(arm, settings_arm):
    arm.seed(R.load_balancer())
    lb = router(settings_arm, drain_period=30)
    sources, targets = ", ".join(R.SOURCES), ", ".join(R.TARGETS)
    assert lb.apply(100) == [
        Change(LB, MEMBERS, f"{sources} (0% target)", f"{targets} (100% target)"),
        Change(LB, "backendAddressPools/be-payroll: drainPeriodInSeconds", "(none)", "30"),
    ]
    assert lb.read() == 100 and lb.diff(100) == []
    assert router(settings_arm, drain_period=60).diff(0) == [
        Change(LB, MEMBERS, f"{targets} (100% target)", f"{sources} (0% target)"),
        Change(LB, "backendAddressPools/be-payroll: drainPeriodInSeconds", "30", "60"),
    ]


def test_a_pool_without_the_plans_addresses_or_a_network_is_named(arm, settings_arm):
    arm.seed(R.load_balancer())
    arm.edit(POOL, lambda pool: pool["properties"].update(loadBalancerBackendAddresses=[]))
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == f"{WHAT}: holds none of the plan's source or target addresses"
    with pytest.raises(RoutingError) as error:
        router(settings_arm).apply(100)
    assert str(error.value) == (
        f"{WHAT}: names no virtual network (neither the pool nor any of its addresses), so "
        "10.1.1.4, 10.1.1.5, 10.1.1.6, 10.1.1.7 cannot be added; set the pool's virtual network"
    )
