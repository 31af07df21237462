"""A plan's pool name is looked up whole on the gateway (issue 21): the plan admits '/' in it (1..80 chars)."""

from __future__ import annotations

import pytest

from shared.domain.errors import RoutingError
from tests.routing import arm_resources as R
from tests.routing.test_pin_application_gateway import AGW, NAME, router


def test_a_target_pool_named_with_a_slash_is_refused_as_missing_never_cut_to_a_pool_that_exists(arm, settings_arm):
    gateway = R.application_gateway()
    pools = gateway["properties"]["backendAddressPools"]
    # real pools named like either half of 'pool-azure/b': a cut name would switch the rule to one of them
    pools += [{"id": f"{AGW}/backendAddressPools/{n}", "name": n, "properties": {}} for n in ("pool-azure", "b")]
    pools[:] = list({p["name"]: p for p in pools}.values())
    arm.seed(gateway)
    gw = router(settings_arm, target_pool="pool-azure/b")
    with pytest.raises(RoutingError) as error:
        gw.apply(100)
    assert str(error.value) == f"{NAME}: has no backend pool 'pool-azure/b'"
    rule = arm.get(AGW)["properties"]["requestRoutingRules"][0]["properties"]
    assert rule["backendAddressPool"] == {"id": f"{AGW}/backendAddressPools/pool-onprem"}
