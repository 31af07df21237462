"""Traffic Manager endpoints and Front Door origins carry no ETags promote can write under, so a weighted router
reads the share back after writing it: when someone changed the weights in between, the share users get is
not the one asked for, and the change is refused (the redelivery reads it again) rather than recorded."""

from __future__ import annotations

import pytest

from shared.adapters.routing import router_factory
from shared.domain.errors import RoutingError
from shared.domain.plan import FrontDoorRouting, TrafficManagerRouting
from tests.routing import arm_resources as R

TM = f"{R.NET}/trafficManagerProfiles/tm-payroll"
GROUP = f"{R.CDN}/profiles/afd-payroll/originGroups/og-payroll"


def _router(settings, routing):
    return router_factory(lambda: None, settings)("wave-1", "payroll", routing)


def _weight(doc: dict, weight: int) -> None:
    doc["properties"]["weight"] = weight


def test_traffic_manager_refuses_a_share_changed_between_its_write_and_its_read_back(arm, settings_arm):
    arm.seed(R.traffic_manager())
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    # right after promote's last write, a colleague sets the migrated endpoint's weight by hand
    arm.after(
        "PATCH",
        "/externalEndpoints/payroll-onprem",
        lambda a: a.edit(f"{TM}/externalEndpoints/payroll-azure", lambda d: _weight(d, 60)),
    )
    with pytest.raises(RoutingError) as err:
        router.apply(10)
    assert str(err.value).startswith("Traffic Manager profile tm-payroll in rg-payroll-net")
    assert str(err.value).endswith(
        "wrote 10% but the profile now gives the target 40%: it was changed meanwhile; the redelivery reads it again"
    )
    assert router.read() == 40  # what users get now: the caller is told it was not 10%


def test_front_door_refuses_a_share_changed_between_its_write_and_its_read_back(arm, settings_arm):
    for doc in R.front_door():
        arm.seed(doc)
    router = _router(settings_arm, FrontDoorRouting(**R.routing("front-door")))
    arm.after(
        "PATCH", "/origins/payroll-onprem", lambda a: a.edit(f"{GROUP}/origins/payroll-azure", lambda d: _weight(d, 10))
    )
    with pytest.raises(RoutingError) as err:
        router.apply(50)  # the read-back is less than asked this time: 10 / (50 + 10)
    assert "wrote 50% but the group now gives the target 17%: it was changed meanwhile" in str(err.value)
    assert router.read() == 17


def test_an_undisturbed_write_reads_back_the_share_asked(arm, settings_arm):
    arm.seed(R.traffic_manager())
    router = _router(settings_arm, TrafficManagerRouting(**R.routing("traffic-manager")))
    assert router.apply(10) and router.read() == 10
