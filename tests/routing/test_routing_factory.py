"""The router factory hands each provider the plan's own typed settings: one model, one provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import pytest

from shared.adapters.routing import router_factory
from shared.adapters.routing.application_gateway import ApplicationGatewayRouter
from shared.adapters.routing.azure_firewall import FirewallRouter
from shared.adapters.routing.dns import DnsRouter
from shared.adapters.routing.front_door import FrontDoorRouter
from shared.adapters.routing.load_balancer import LoadBalancerRouter
from shared.adapters.routing.local import LocalRouter
from shared.adapters.routing.route_table import RouteTableRouter
from shared.adapters.routing.traffic_manager import TrafficManagerRouter
from shared.domain.errors import RoutingError
from shared.domain.plan import PROVIDERS, AzureRouting, LocalRouting
from tests.routing import arm_resources as R

PROVIDER_ROUTERS = {
    "traffic-manager": TrafficManagerRouter,
    "load-balancer": LoadBalancerRouter,
    "application-gateway": ApplicationGatewayRouter,
    "route-table": RouteTableRouter,
    "front-door": FrontDoorRouter,
    "dns": DnsRouter,
    "private-dns": DnsRouter,
    "azure-firewall": FirewallRouter,
}


# provider -> the plan's model for it
MODELS = {model.model_fields["provider"].annotation.__args__[0]: model for model in get_args(AzureRouting)}


@dataclass(frozen=True)
class _Settings:
    arm_endpoint: str | None = None
    arm_credential: object = object()  # building a client asks for no token


def test_every_provider_of_the_plan_has_its_router():
    assert set(MODELS) == set(PROVIDER_ROUTERS) == set(PROVIDERS) - {"local"}


@pytest.mark.parametrize("provider", sorted(PROVIDER_ROUTERS))
def test_each_routing_model_gets_its_provider_s_router_with_the_settings_as_given(provider):
    routing = MODELS[provider](**R.routing(provider))
    router = router_factory(lambda: None, _Settings())("wave-1", "payroll", routing)
    assert type(router) is PROVIDER_ROUTERS[provider]
    assert router.routing is routing


def test_local_routing_gets_the_local_record():
    table = object()
    router = router_factory(lambda: table, _Settings())("wave-1", "payroll", LocalRouting())
    assert isinstance(router, LocalRouter) and router.table is table


def test_settings_that_are_not_the_plan_s_are_refused_by_name():
    class Pigeon:
        provider = "carrier-pigeon"

    with pytest.raises(RoutingError, match="unknown routing provider 'carrier-pigeon'"):
        router_factory(lambda: None, _Settings())("wave-1", "payroll", Pigeon())  # type: ignore[arg-type]
