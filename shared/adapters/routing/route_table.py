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


class RouteTableBatch:
    """Routes of one route table moved together by a release-level move: one GET of the table, the next hops
    that differ set, one PUT of the table guarded by its ETag (If-Match; a table changed meanwhile is read and
    merged again). Routes the plan does not name, and every other property, are written back as read."""

    def __init__(self, moves: list[tuple[str, RouteTableRouting, int]], client: Any):
        self.moves, self.client = moves, client
        first = moves[0][1]
        self.resource_group, self.table, self.resource = first.resource_group, first.route_table, resource(first)
        self.needs = "Microsoft.Network/routeTables/read and /write on the route table"

    def apply(self) -> dict[str, list[Change]]:
        for workload, r, percent in self.moves:
            if percent not in (0, 100):
                raise RoutingError(f"route {r.route} of {self.resource} ({workload}): a route realises 0% or 100%")
        return _arm.guarded(self._attempt)

    def _attempt(self) -> dict[str, list[Change]]:
        with _arm.arm_errors(self.resource, self.needs):
            table = self.client.route_tables.get(self.resource_group, self.table)
        routes = {route.name.lower(): route for route in table.routes or []}
        made: dict[str, list[Change]] = {}
        for workload, r, percent in self.moves:
            route = routes.get(r.route.lower())
            if route is None:
                raise RoutingError(f"route {r.route} of {self.resource}: not found (404)")
            prop, wanted = next(iter(settings(r, percent).items()))
            before = route.next_hop_ip_address or "(none)"
            made[workload] = [] if before == wanted else [Change(self.resource, prop, before, wanted)]
            route.next_hop_ip_address = wanted
        if any(made.values()):
            with _arm.arm_errors(self.resource, self.needs):
                _arm.wait(
                    self.client.route_tables.begin_create_or_update(
                        self.resource_group, self.table, table, **_arm.if_match(table.etag)
                    )
                )
        return made


def build_batch(moves: list[tuple[str, RouteTableRouting, int]], settings: ArmSettings) -> RouteTableBatch:
    from azure.mgmt.network import NetworkManagementClient

    return RouteTableBatch(moves, _arm.client(NetworkManagementClient, settings, moves[0][1].subscription))
