"""Routing providers behind the Router port. Azure providers are imported only when a plan uses them.

The factory and each provider take the plan's typed routing settings (shared/domain/plan/routing.py): a
provider is handed its own model (TrafficManagerRouting, ...), so mypy checks every field it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.adapters.routing._arm import ArmSettings
from shared.domain.budget import COALESCED, Unit, scope_of
from shared.domain.errors import RoutingError
from shared.domain.plan import (
    ApplicationGatewayRouting,
    AzureFirewallRouting,
    DnsRouting,
    FrontDoorRouting,
    LoadBalancerRouting,
    LocalRouting,
    Plan,
    PrivateDnsRouting,
    RevokeAccess,
    RouteTableRouting,
    Routing,
    TrafficManagerRouting,
)
from shared.domain.routing import Change
from shared.domain.ttl import RestoredTtl

if TYPE_CHECKING:
    from shared.application.ports import AccessRevoker, Router, RouterFactory


def router_factory(local_table_factory: Callable[[], Any], settings: ArmSettings) -> RouterFactory:
    """A RouterFactory: (release, workload, routing) -> Router; it also coalesces a batch's writes (`coalesced`)."""
    return _Routers(local_table_factory, settings)


class _Routers:
    def __init__(self, local_table_factory: Callable[[], Any], settings: ArmSettings):
        self.local_table_factory, self.settings = local_table_factory, settings

    def coalesced(self, moves: list[tuple[str, Routing, int]]) -> Unit | None:
        """One unit that writes `moves` (workload, routing, percent: one resource's, by budget.write_key) in one
        call, when their provider can (a route table's routes: one PUT of the table); else None."""
        if len(moves) < 2 or not all(isinstance(r, RouteTableRouting) for _, r, _ in moves):
            return None
        from shared.adapters.routing import route_table

        batch = route_table.build_batch(
            [(w, r, p) for w, r, p in moves if isinstance(r, RouteTableRouting)], self.settings
        )
        return Unit(tuple(w for w, _, _ in moves), COALESCED[0], batch.apply, scope_of(moves[0][1]), COALESCED[1])

    def local_batch(self, release: str) -> Any:
        """promote's own routing records of `release`, moved together (routing/local.LocalBatch)."""
        from shared.adapters.routing.local import LocalBatch

        return LocalBatch(self.local_table_factory(), release)

    def __call__(self, release: str, workload: str, routing: Routing) -> Router:
        settings = self.settings
        # Each provider's module is imported here, when a plan first uses it (its SDK later still, on first call).
        if isinstance(routing, LocalRouting):
            from shared.adapters.routing.local import LocalRouter

            return LocalRouter(self.local_table_factory(), release, workload)
        if isinstance(routing, TrafficManagerRouting):
            from shared.adapters.routing import traffic_manager

            return traffic_manager.build(routing, settings)
        if isinstance(routing, LoadBalancerRouting):
            from shared.adapters.routing import load_balancer

            return load_balancer.build(routing, settings)
        if isinstance(routing, ApplicationGatewayRouting):
            from shared.adapters.routing import application_gateway

            return application_gateway.build(routing, settings)
        if isinstance(routing, RouteTableRouting):
            from shared.adapters.routing import route_table

            return route_table.build(routing, settings)
        if isinstance(routing, FrontDoorRouting):
            from shared.adapters.routing import front_door

            return front_door.build(routing, settings)
        if isinstance(routing, DnsRouting | PrivateDnsRouting | RestoredTtl):
            from shared.adapters.routing import dns

            return dns.build(routing, settings)
        if isinstance(routing, AzureFirewallRouting):
            from shared.adapters.routing import azure_firewall

            return azure_firewall.build(routing, settings)
        raise RoutingError(f"unknown routing provider {getattr(routing, 'provider', routing)!r}")


def access_revoker(local_table_factory: Callable[[], Any], settings: ArmSettings) -> AccessRevoker:
    """An AccessRevoker dispatching on revoke_access.provider."""

    class _Revoker:
        def revoke(self, release: str, config: RevokeAccess) -> list[Change]:
            """Returns the changes made (the history records them)."""
            return self._build(config).revoke(release, config)

        def problems(self, release: str, config: RevokeAccess) -> list[str]:
            return self._build(config).problems(release, config)

        def _build(self, config: RevokeAccess) -> AccessRevoker:
            if config.provider == "local":
                from shared.adapters.routing.local import LocalAccessRevoker

                return LocalAccessRevoker(local_table_factory())
            from shared.adapters.routing.network_security_group import build_revoker

            return build_revoker(config, settings)

    return _Revoker()


def live_notes(doc: dict, plan: Plan, settings: ArmSettings) -> None:
    """`promote plan --live`: add to each workload of `doc` (domain.routing.change_plan) the `notes` its provider
    reads from the live resources: what can make a share differ from what is asked without promote refusing
    it (a latency band, affinity, a TTL, members that are Down, draining). A resource that cannot be read is
    already named by the live problems."""
    from shared.domain.errors import PromoteError
    from shared.domain.routing import release_steps
    from shared.domain.shares import realisable_share

    routers = router_factory(lambda: None, settings)
    percents = {w.name: [realisable_share(w.routing, p) for _, p in release_steps(plan)] for w in plan.workloads}
    for w in doc["workloads"]:
        routing, w["notes"] = plan.routing_of(w["name"]), []
        if routing.provider == "local":
            continue
        notes: Any = getattr(routers(plan.release, w["name"], routing), "notes", None)
        try:
            w["notes"] = notes([p for p in percents[w["name"]] if p is not None]) if notes else []
        except PromoteError:
            pass
