"""The TTL choreography of a DNS cutover (contract §17), pure.

Resolvers keep a record for its TTL. A DNS move (provider `dns` or `private-dns` with `lower_ttl_to`):
1. `promote apply` lowers the record set's TTL to `lower_ttl_to` without touching its values, and keeps the
   original in the record set's metadata; the workload records when the old TTL will have run out
   (`Workload.ttl_wait_until`: the lowering plus the old TTL);
2. the switch (the first move onto the migrated system) waits for that instant: gate `ttl`; a `ttl-elapsed`
   message wakes the workload then, if it is ready before;
3. at finalize (when it is requested, after hypercare: the point of no return, before the source is turned
   off), or when the workload is aborted, the original TTL is put back
   (`RestoredTtl`, a routing the service carries out like any other: the record set at its share, then its
   recorded original TTL).
Rollbacks are never held: with the TTL low, they reach resolvers within `lower_ttl_to` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.domain.finishing import Hold
from shared.domain.model import Release, Workload, WorkloadState
from shared.domain.plan import DnsRouting, PrivateDnsRouting
from shared.domain.times import iso

GATE = "ttl"


@dataclass(frozen=True)
class RestoredTtl:
    """A DNS routing whose TTL choreography is over: its router puts the record set at the share it is given,
    then its TTL back to the original recorded when it was lowered (two writes: never both at once)."""

    routing: DnsRouting | PrivateDnsRouting

    @property
    def provider(self) -> str:
        return self.routing.provider


def lowering(routing: Any) -> DnsRouting | PrivateDnsRouting | None:
    """The routing when it lowers a TTL for the cutover, else None."""
    if isinstance(routing, DnsRouting | PrivateDnsRouting) and routing.lower_ttl_to is not None:
        return routing
    return None


def ttl_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    """Why the switch of `w`'s record waits now (None: it may happen, or it has no TTL choreography). Asked of a
    workload whose next step is its first move onto the migrated system."""
    routing = lowering(release.plan.routing_of(w.name))
    if routing is None:
        return None
    lowered = f"lowered to {routing.lower_ttl_to}s"
    if w.ttl_wait_until is None:
        return Hold(
            GATE,
            f"ttl: the record's TTL was not {lowered} at apply, so resolvers may hold the old value for its old "
            "TTL; the switch waits (promote apply lowers it)",
            {"lower_ttl_to": routing.lower_ttl_to, "until": None},
        )
    if now >= w.ttl_wait_until:
        return None
    left = int((w.ttl_wait_until - now).total_seconds() + 0.999)
    return Hold(
        GATE,
        f"ttl: resolvers may hold the record for its old TTL until {iso(w.ttl_wait_until)} ({left}s left; "
        f"{lowered} at apply)",
        {"lower_ttl_to": routing.lower_ttl_to, "until": iso(w.ttl_wait_until), "seconds_left": left},
    )


def with_waits(release: Release, waits: dict[str, datetime]) -> Release:
    """The release with each workload's `ttl_wait_until` (workload -> the instant its old TTL has run out)."""
    if not waits:
        return release
    workloads = {
        name: replace(w, ttl_wait_until=waits[name]) if name in waits else w for name, w in release.workloads.items()
    }
    return release.evolve(workloads=workloads)


def restores(before: Workload, after: Workload) -> bool:
    """The decision requests the workload's finalize (from then on no rollback can come) or aborts it: its
    record's TTL goes back to the original. Not with the decommission itself: a restore that failed there would
    leave a source turned off by a decision recorded as not carried out."""
    if after.state == WorkloadState.ABORTED:
        return before.state != after.state
    return (
        after.state == WorkloadState.PROMOTED and bool(after.finalize_requested_by) and not before.finalize_requested_by
    )


def ttl_plan(routing: Any) -> dict[str, Any] | None:
    """What `promote plan` says of the choreography (None without one)."""
    dns = lowering(routing)
    if dns is None:
        return None
    return {
        "lower_ttl_to": dns.lower_ttl_to,
        "lowered": "at apply (the original kept in the record set's metadata)",
        "switch_waits": "until the old TTL has passed since the lowering (gate ttl)",
        "restored": "at finalize",
    }


def ttl_plan_text(doc: dict[str, Any] | None, *, after: bool) -> list[str]:
    if doc is None:
        return []
    if after:
        return ["  at finalize: TTL back to its original"]
    return [f"  at apply: TTL lowered to {doc['lower_ttl_to']}s; the switch waits {doc['switch_waits']}"]
