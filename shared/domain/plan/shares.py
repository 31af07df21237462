"""Which traffic shares a routing provider can realise. Pure: used at apply time and by decide()."""

from __future__ import annotations

from functools import lru_cache

from shared.domain.plan.routing import ApplicationGatewayRouting, LoadBalancerRouting, Routing

ANY_SHARE = ("local", "traffic-manager", "front-door")
ALL_OR_NOTHING = ("application-gateway", "route-table", "dns", "private-dns", "azure-firewall")


@lru_cache(maxsize=1024)
def pool_composition(percent: int, source_count: int, target_count: int) -> tuple[int, int]:
    """(source addresses, target addresses) whose target ratio is nearest `percent`.

    Ties prefer the larger pool (more capacity), then more target addresses.
    0% is every source address and 100% every target address.
    """
    if percent <= 0:
        return source_count, 0
    if percent >= 100:
        return 0, target_count
    best: tuple[float, int, int, int, int] | None = None
    for targets in range(0, target_count + 1):
        for sources in range(0, source_count + 1):
            if targets + sources == 0:
                continue
            distance = abs(100 * targets / (targets + sources) - percent)
            key = (distance, -(targets + sources), -targets, sources, targets)
            if best is None or key < best:
                best = key
    assert best is not None
    return best[3], best[4]


def load_balancer_share(percent: int, source_count: int, target_count: int) -> int:
    sources, targets = pool_composition(percent, source_count, target_count)
    return round(100 * targets / (sources + targets))


def pool_addresses(routing: LoadBalancerRouting | ApplicationGatewayRouting) -> tuple[list[str], list[str]]:
    """(source, target) addresses a pool is composed of (an application gateway's only with a flight_pool)."""
    return list(routing.source_addresses or []), list(routing.target_addresses or [])


def realisable_share(routing: Routing, percent: int) -> int | None:
    """The share `routing` would actually achieve for `percent`, or None if it cannot come close."""
    if routing.provider in ANY_SHARE:
        return percent
    if isinstance(routing, ApplicationGatewayRouting) and routing.flight_pool:
        sources, targets = pool_addresses(routing)
        return load_balancer_share(percent, len(sources), len(targets))
    if routing.provider in ALL_OR_NOTHING:
        return percent if percent in (0, 100) else None
    if isinstance(routing, LoadBalancerRouting):
        return load_balancer_share(percent, len(routing.source_addresses), len(routing.target_addresses))
    raise ValueError(f"unknown routing provider {routing.provider!r}")
