"""traffic-manager: endpoints read without a weight count as weight 1, and another enabled endpoint is named by
its type's last segment and name (shared/adapters/routing/traffic_manager.py `_read`); an endpoint without a
status is enabled (`_enabled`); a 403 names the profile or the endpoint (`_read`, `_patch`), against the
local Resource Manager."""

from __future__ import annotations

import pytest

from shared.domain.errors import RoutingError
from shared.domain.plan import TrafficManagerRouting
from shared.domain.routing import Change
from tests.routing import arm_resources as R
from tests.routing.test_pin_route_table_and_traffic_manager import PROFILE, router


def seed(arm, **endpoints) -> None:
    """R.traffic_manager() with each named endpoint's properties changed (None: removed)."""
    profile = R.traffic_manager()
    for doc in profile["properties"]["endpoints"]:
        for key, value in endpoints.get(doc["name"].replace("-", "_"), {}).items():
            if value is None:
                doc["properties"].pop(key)
            else:
                doc["properties"][key] = value
    arm.seed(profile)


def tm(settings):
    return router(settings, TrafficManagerRouting(**R.routing("traffic-manager")))


def test_the_plans_endpoints_without_a_weight_are_read_as_weight_1(arm, settings_arm):
    seed(arm, payroll_onprem={"weight": None}, payroll_azure={"weight": None, "endpointStatus": "Enabled"})
    assert tm(settings_arm).read() == 50
    assert tm(settings_arm).diff(30) == [
        Change(PROFILE, "externalEndpoints/payroll-onprem: endpointStatus, weight", "Enabled, weight 1",
               "Enabled, weight 70"),
        Change(PROFILE, "externalEndpoints/payroll-azure: endpointStatus, weight", "Enabled, weight 1",
               "Enabled, weight 30"),
    ]  # fmt: skip


def test_another_enabled_endpoint_without_a_weight_is_named_with_its_type_and_weight_1(arm, settings_arm):
    seed(arm, payroll_azure={"endpointStatus": "Enabled"}, payroll_dr={"weight": None, "endpointStatus": "Enabled"})
    assert tm(settings_arm).problems([100]) == [
        f"{PROFILE}: refused before any change: 100% would really be 50% of the traffic, because enabled "
        "endpoints the plan does not name also receive it: externalEndpoints/payroll-dr (weight 1); remove or "
        "disable them, or name them in the plan"
    ]


TM_NEEDS = (
    "access denied (403); the identity needs Microsoft.Network/trafficManagerProfiles/read and the profile's "
    "endpoints' write (e.g. Microsoft.Network/trafficManagerProfiles/externalEndpoints/write) on the profile: "
    "AuthorizationFailed: injected 403"
)


def test_a_403_names_the_profile_or_the_endpoint_denied_and_the_permission(arm, settings_arm):
    seed(arm)
    arm.fail("GET", "trafficmanagerprofiles/tm-payroll", 403, times=10)
    with pytest.raises(RoutingError) as error:
        tm(settings_arm).read()
    assert str(error.value) == f"{PROFILE}: {TM_NEEDS}"
    arm.faults.clear()
    arm.fail("PATCH", "externalendpoints/payroll-azure", 403, times=10)
    with pytest.raises(RoutingError) as error:
        tm(settings_arm).apply(100)
    assert str(error.value) == f"endpoint payroll-azure of {PROFILE}: {TM_NEEDS}"


def test_an_endpoint_without_a_status_is_enabled(arm, settings_arm):
    seed(arm, payroll_onprem={"endpointStatus": None})
    assert tm(settings_arm).read() == 0
