"""front-door: what an origin without a weight counts as (shared/adapters/routing/front_door.py `_read`),
against the local Resource Manager. Azure's weight is 1-1000; an origin read without one is taken at the
most it can be, 1000, for the plan's origins and for another origin that shares the requests. Both plan origins
disabled are an error even when a better origin takes the requests (`read`)."""

from __future__ import annotations

import pytest

from shared.domain.errors import RoutingError
from tests.routing.test_pin_app_front_door import GROUP, router, seed


def test_a_plan_origin_without_a_weight_is_read_as_weight_1000(arm, settings_arm):
    seed(arm, payroll_onprem={"weight": None}, payroll_azure={"enabledState": "Enabled", "weight": 1000})
    assert [(c.property, c.before, c.after) for c in router(settings_arm).diff(50)] == [
        ("originGroups/og-payroll/origins/payroll-onprem: enabledState, weight", "Enabled, weight 1000",
         "Enabled, weight 50"),
        ("originGroups/og-payroll/origins/payroll-azure: enabledState, weight", "Enabled, weight 1000",
         "Enabled, weight 50"),
    ]  # fmt: skip


def test_another_origin_without_a_weight_is_named_with_weight_1000(arm, settings_arm):
    seed(arm, payroll_standby={"priority": 1, "weight": None})
    assert router(settings_arm).problems([100]) == [
        f"{GROUP}: refused before any change: 100% would really be 50% of the traffic, because enabled origins "
        "the plan does not name also receive it: payroll-standby (weight 1000); remove or disable them, or name "
        "them in the plan"
    ]


def test_both_plan_origins_disabled_are_named_even_with_a_better_origin(arm, settings_arm):
    seed(arm, payroll_onprem={"priority": 2, "enabledState": "Disabled"}, payroll_azure={"priority": 2},
         payroll_standby={"priority": 1})  # fmt: skip
    with pytest.raises(RoutingError) as error:
        router(settings_arm).read()
    assert str(error.value) == f"{GROUP}: both origins payroll-onprem, payroll-azure are disabled"
