"""A load balancer (or an application gateway's flight pool) sends each address of its pool an equal part of
the users: the share promote records is that ratio rounded to the nearest percent, not cut down. 2 target
addresses of 3 give 67%, not 66%; 1 of 6 gives 17%, not 16%."""

from __future__ import annotations

import pytest

from shared.domain.plan import validate_plan
from shared.domain.shares import load_balancer_share
from tests.fakes import event, world

SOURCES = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"]
TARGETS = ["10.1.0.1", "10.1.0.2", "10.1.0.3"]


@pytest.mark.parametrize(
    "percent, sources, targets, share",
    [(67, 3, 3, 67), (66, 1, 2, 67), (17, 5, 1, 17), (83, 1, 3, 75), (33, 2, 1, 33)],
)
def test_the_share_of_a_pool_is_its_target_ratio_rounded(percent, sources, targets, share):
    assert load_balancer_share(percent, sources, targets) == share


def test_a_flight_on_a_load_balancer_records_and_routes_the_rounded_share():
    routing = {
        "provider": "load-balancer",
        "subscription": "00000000-0000-0000-0000-000000000000",
        "resource_group": "rg",
        "load_balancer": "lb",
        "backend_pool": "be",
        "source_addresses": SOURCES[:3],
        "target_addresses": TARGETS,
    }
    w = world()
    w.service.apply(
        validate_plan(
            {
                "release": "r1",
                "model": "flight",
                "flights": [{"percent": 67}, {"percent": 100}],
                "workloads": [{"name": "w1", "assets": ["a"], "routing": routing}],
            }
        )
    )
    w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a"))
    result = w.service.handle(event("tests-passed", "r1", "w1", "m2"))
    assert result.outcome == "applied" and "flight 1, 67%" in result.reason
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.traffic_percent) == ("flighting", 67)
    assert w.network.writes == [("r1", "w1", 67)]
