"""route-table: the next hop of one route of a route table (0 or 100).

Reads the route through the routes sub-resource, sets nextHopIpAddress to the source or target next hop and
PUTs that one route back with everything else it had, guarded by the route's ETag (If-Match: a route changed
by someone else in between is read again, never overwritten); the table's other routes are not touched.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.plan import RouteTableRouting
from shared.domain.routing import Change, resource, settings

NEEDS = "Microsoft.Network/routeTables/routes/read and /write on the route table"


class RouteTableRouter:
    def __init__(self, routing: RouteTableRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"route {routing.route} of {self.resource}"
        self.property = next(iter(settings(routing, 0)))

    def describe(self) -> str:
        return self.what

    def _route(self) -> Any:
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            return self.client.routes.get(r.resource_group, r.route_table, r.route)

    def read(self) -> int:
        hop, r = self._route().next_hop_ip_address, self.routing
        if hop not in (r.source_next_hop, r.target_next_hop):
            raise RoutingError(
                f"{self.what}: next hop is {hop or 'not an IP address'}, neither the source "
                f"{r.source_next_hop} nor the target {r.target_next_hop}"
            )
        return 100 if hop == r.target_next_hop else 0

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._route(), percent)

    def _diff(self, route: Any, percent: int) -> list[Change]:
        wanted, before = settings(self.routing, percent)[self.property], route.next_hop_ip_address or "(none)"
        return [] if before == wanted else [Change(self.resource, self.property, before, wanted)]

    def problems(self, percents: list[int]) -> list[str]:
        return [f"{self.what}: a route realises 0% or 100%, not {p}%" for p in percents if p not in (0, 100)]

    def apply(self, percent: int) -> list[Change]:
        if percent not in (0, 100):
            raise RoutingError(f"{self.what}: a route realises 0% or 100%, not {percent}%")

        def attempt() -> list[Change]:
            route = self._route()
            changes = self._diff(route, percent)
            if changes:
                r = self.routing
                route.next_hop_ip_address = changes[0].after
                with _arm.arm_errors(self.what, NEEDS):
                    _arm.wait(
                        self.client.routes.begin_create_or_update(
                            r.resource_group, r.route_table, r.route, route, **_arm.if_match(route.etag)
                        )
                    )
            return changes

        return _arm.guarded(attempt)


def build(routing: RouteTableRouting, settings: ArmSettings) -> RouteTableRouter:
    from azure.mgmt.network import NetworkManagementClient

    return RouteTableRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
