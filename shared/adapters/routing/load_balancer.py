"""load-balancer: the plan's source and target addresses in one IP-based backend pool.

Every member of a pool receives new flows unless its adminState is Down (Azure: no new connections, whatever
its health probe says), so the share is the target addresses' part of all the pool's members that receive
flows, members the plan does not name included (the true share); a Down member neither receives nor counts.
A move whose true share would differ from the plan's (a foreign member in the pool) is refused before
anything is written, naming those members. Only the plan's addresses are added or removed, through the
backend pool sub-resource, guarded by the pool's ETag (If-Match): if someone changed the pool between
promote's read and write, the pool is read and merged again. With `drain_period`, each move also sets the
pool's drainPeriodInSeconds: Load Balancer then waits that long before it resets the connections of an
address removed from the pool.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.plan import LoadBalancerRouting
from shared.domain.plan.shares import realisable_share
from shared.domain.routing import (
    Change,
    foreign_refusal,
    lb_drain_property,
    lb_members,
    lb_value,
    resource,
    settings,
    true_share,
)

NEEDS = (
    "Microsoft.Network/loadBalancers/backendAddressPools/read and /write on the load balancer and "
    "Microsoft.Network/virtualNetworks/joinLoadBalancer/action on the pool's virtual network"
)


class LoadBalancerRouter:
    def __init__(self, routing: LoadBalancerRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"backend pool {routing.backend_pool} of {self.resource}"
        self.property = next(iter(settings(routing, 0)))
        self.owned = set(routing.source_addresses) | set(routing.target_addresses)

    def describe(self) -> str:
        return self.what

    def _pool(self) -> Any:
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            return self.client.load_balancer_backend_address_pools.get(
                r.resource_group, r.load_balancer, r.backend_pool
            )

    def _members(self, pool: Any) -> set[str]:
        return {a.ip_address for a in pool.load_balancer_backend_addresses or []} & self.owned

    @staticmethod
    def _down(pool: Any) -> set[str]:
        """Addresses whose adminState is Down: no new flows go to them."""
        return {
            a.ip_address or a.name or "?"
            for a in pool.load_balancer_backend_addresses or []
            if _arm.text(a.admin_state).lower() == "down"
        }

    def _foreign(self, pool: Any) -> list[str]:
        """Members the plan does not name that receive flows: other addresses (not Down), and network interfaces
        joined to the pool."""
        down = self._down(pool)
        others = [
            a.ip_address or a.name or "?"
            for a in pool.load_balancer_backend_addresses or []
            if a.ip_address not in self.owned and (a.ip_address or a.name or "?") not in down
        ]
        nics = [c.id.split("/networkInterfaces/")[-1] for c in pool.backend_ip_configurations or [] if c.id]
        return others + [f"network interface {n}" for n in nics]

    def _share_of(self, pool: Any, members: set[str] | list[str]) -> int | None:
        """The true share of the plan's `members` in `pool`: Down ones receive nothing, foreign ones count."""
        receiving = set(members) - self._down(pool)
        targets = len(receiving & set(self.routing.target_addresses))
        return true_share(targets, len(receiving) + len(self._foreign(pool)))

    def read(self) -> int:
        pool = self._pool()
        members = self._members(pool)
        share = self._share_of(pool, members)
        if not members or share is None:
            raise RoutingError(f"{self.what}: holds none of the plan's source or target addresses")
        return share

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._pool(), percent)

    def problems(self, percents: list[int]) -> list[str]:
        pool = self._pool()
        return [p for p in (self._refusal(pool, percent) for percent in percents) if p]

    def _refusal(self, pool: Any, percent: int) -> str | None:
        foreign, wanted = self._foreign(pool), lb_members(self.routing, percent)
        achieved = self._share_of(pool, wanted)
        if achieved != realisable_share(self.routing, percent) and (foreign or percent):
            if foreign:
                return foreign_refusal(self.what, "members", foreign, percent, achieved)
            down = sorted(set(wanted) & self._down(pool))
            return (
                f"{self.what}: refused before any change: {percent}% would really be {achieved or 0}% of the "
                f"traffic, because the plan's addresses {', '.join(down)} have adminState Down (no new flows); "
                "set them to None or Up first"
            )
        return None

    def _diff(self, pool: Any, percent: int) -> list[Change]:
        foreign = self._foreign(pool)
        before = lb_value(self.routing, self._members(pool), foreign)
        after = lb_value(self.routing, lb_members(self.routing, percent), foreign)
        out = [] if before == after else [Change(self.resource, self.property, before, after)]
        drain = self.routing.drain_period
        if out and drain is not None and pool.drain_period_in_seconds != drain:  # set with a move, not alone
            live = "(none)" if pool.drain_period_in_seconds is None else str(pool.drain_period_in_seconds)
            out.append(Change(self.resource, lb_drain_property(self.routing), live, str(drain)))
        return out

    def notes(self, percents: list[int]) -> list[str]:
        """What the shares mean here, read live: Down members, and what happens to the removed ones' flows."""
        pool, out = self._pool(), []
        down = sorted(self._down(pool))
        if down:
            out.append(
                f"{self.what}: adminState Down on {', '.join(down)}: no new flows go there (established TCP "
                "connections stay), so they do not count in the share; adminState takes effect only when the "
                "load-balancing rules have a health probe"
            )
        drain = self.routing.drain_period or pool.drain_period_in_seconds
        if drain:
            out.append(
                f"{self.what}: drainPeriodInSeconds {drain}: the connections of an address promote removes are "
                f"reset {drain}s after its removal"
            )
        else:
            out.append(
                f"{self.what}: no drainPeriodInSeconds on the pool (and no drain_period in the plan): Azure "
                "documents no draining for an address removed from the pool; set drain_period to have Load "
                "Balancer wait before it resets the removed addresses' connections"
            )
        return out

    def apply(self, percent: int) -> list[Change]:
        def attempt() -> list[Change]:
            pool = self._pool()
            refusal = self._refusal(pool, percent)
            if refusal:
                raise RoutingError(refusal)
            changes = self._diff(pool, percent)
            if changes:
                self._write(pool, set(lb_members(self.routing, percent)))
            return changes

        return _arm.guarded(attempt)

    def _write(self, pool: Any, wanted: set[str]) -> None:
        from azure.mgmt.network.models import LoadBalancerBackendAddress, SubResource

        r, addresses = self.routing, list(pool.load_balancer_backend_addresses or [])
        kept = [a for a in addresses if a.ip_address not in self.owned or a.ip_address in wanted]
        present = {a.ip_address for a in kept}
        added = [ip for ip in r.source_addresses + r.target_addresses if ip in wanted and ip not in present]
        if added:
            network = pool.virtual_network or next((a.virtual_network for a in addresses if a.virtual_network), None)
            if network is None:
                raise RoutingError(
                    f"{self.what}: names no virtual network (neither the pool nor any of its "
                    f"addresses), so {', '.join(added)} cannot be added; set the pool's virtual network"
                )
            kept += [
                LoadBalancerBackendAddress(
                    name=_address_name(ip), ip_address=ip, virtual_network=SubResource(id=network.id)
                )
                for ip in added
            ]
        pool.load_balancer_backend_addresses = kept
        if r.drain_period is not None:
            pool.drain_period_in_seconds = r.drain_period
        with _arm.arm_errors(self.what, NEEDS):
            _arm.wait(
                self.client.load_balancer_backend_address_pools.begin_create_or_update(
                    r.resource_group, r.load_balancer, r.backend_pool, pool, **_arm.if_match(pool.etag)
                )
            )


def _address_name(ip: str) -> str:
    return "promote-" + ip.replace(":", "-").strip("-")


def build(routing: LoadBalancerRouting, settings: ArmSettings) -> LoadBalancerRouter:
    from azure.mgmt.network import NetworkManagementClient

    return LoadBalancerRouter(routing, _arm.client(NetworkManagementClient, settings, routing.subscription))
