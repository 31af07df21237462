"""Plans for the routing providers of issue 10: front-door, and application-gateway flights on one pool."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from shared.domain.routing import change_plan

AZURE = {"subscription": "00000000-0000-0000-0000-0000000000a1", "resource_group": "rg"}
GATEWAY = {
    "provider": "application-gateway",
    **AZURE,
    "application_gateway": "agw",
    "rule": "r",
    "source_pool": "old",
    "target_pool": "new",
}
FLIGHT_POOL = {
    "flight_pool": "mixed",
    "source_addresses": ["192.168.1.4", "app.onprem.contoso.com"],
    "target_addresses": ["10.1.1.4", "app.azure.contoso.com"],
}


def flight(routing: dict, percents=(50, 100)) -> dict:
    return {
        "release": "r1",
        "model": "flight",
        "flights": [{"percent": p} for p in percents],
        "workloads": [{"name": "w1", "assets": ["a"], "routing": routing}],
    }


def test_front_door_takes_any_share_and_names_its_origins():
    plan = validate_plan(
        flight(
            {
                "provider": "front-door",
                **AZURE,
                "profile": "afd",
                "origin_group": "og",
                "source_origin": "onprem",
                "target_origin": "azure",
            },
            (10, 50, 100),
        )
    )
    steps = change_plan(plan)["workloads"][0]["steps"]
    assert [s["to_percent"] for s in steps] == [10, 50, 100]
    assert [(c["property"], c["to"]) for c in steps[0]["changes"]] == [
        ("originGroups/og/origins/onprem: enabledState, weight", "Enabled, weight 90"),
        ("originGroups/og/origins/azure: enabledState, weight", "Enabled, weight 10"),
    ]
    with pytest.raises(PlanError, match="two different origins"):
        validate_plan(
            flight(
                {
                    "provider": "front-door",
                    **AZURE,
                    "profile": "afd",
                    "origin_group": "og",
                    "source_origin": "x",
                    "target_origin": "X",
                }
            )
        )


def test_application_gateway_flights_need_a_flight_pool():
    with pytest.raises(PlanError, match="application-gateway with a flight_pool"):
        validate_plan(flight(GATEWAY))
    plan = validate_plan(flight({**GATEWAY, **FLIGHT_POOL}))
    [fifty, hundred] = change_plan(plan)["workloads"][0]["steps"]
    assert [(c["property"], c["to"]) for c in fifty["changes"]] == [
        ("requestRoutingRules/r: backendAddressPool", "backendAddressPools/mixed"),
        (
            "backendAddressPools/mixed: backendAddresses",
            "192.168.1.4, app.onprem.contoso.com, 10.1.1.4, app.azure.contoso.com (50% target)",
        ),
    ]
    assert hundred["changes"][0]["to"] == "backendAddressPools/new"


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"flight_pool": "mixed"}, "go together"),
        ({**FLIGHT_POOL, "flight_pool": "old"}, "a pool of its own"),
        ({**FLIGHT_POOL, "target_addresses": ["App.Onprem.Contoso.com"]}, "must not overlap"),
        ({**FLIGHT_POOL, "source_addresses": ["not a host!"]}, "neither an IP address nor a host name"),
    ],
)
def test_application_gateway_flight_pool_is_checked(bad, problem):
    with pytest.raises(PlanError, match=problem):
        validate_plan(flight({**GATEWAY, **bad}))


def test_the_demo_shows_both_new_providers_in_a_plan_preview():
    from shared.local.demo import azure_plan_preview

    lines: list[str] = []
    azure_plan_preview(lines.append)
    text = "\n".join(lines)
    assert "web-shop (front-door): Front Door profile afd-contoso" in text
    assert (
        "flight 1: 0% -> 10%: originGroups/og-shop/origins/shop-onprem: enabledState, weight -> Enabled, weight 90"
        in text
    )
    assert "portal (application-gateway)" in text and "flight 1: 0% -> 20%" in text
    assert "backendAddressPools/pool-flight" in text
    # the DNS cutover's choreography (contract §17): lowered at apply, waited out, switched, restored
    dns = text[text.index("A DNS cutover") :]
    assert "payroll  private-dns  private DNS zone corp.contoso.com" in dns
    assert dns.index("at apply: TTL lowered to 60s") < dns.index("promotion: 0% -> 100%") < dns.index("at finalize")
