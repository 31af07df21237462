"""The TTL choreography at `promote apply` (contract §17): the one effect promote has outside a message.

A DNS cutover lowers the record's TTL days ahead, so that by the switch no resolver holds the old value for
its old TTL. promote lowers it when a release is applied (the wait then overlaps replication and tests, and
rarely delays the switch) and records on each workload when the old TTL will have run out; the gate `ttl`
holds the switch until then (shared/domain/ttl.py, rules/ttl.py).
"""

from __future__ import annotations

from datetime import datetime

from shared.application.ports import RouterFactory
from shared.domain.model import Release
from shared.domain.ttl import lowering, with_waits


def lower_ttls(routers: RouterFactory, release: Release, now: datetime) -> Release:
    """Lower the TTL of every workload's record set that asks for it (`lower_ttl_to`) and return the release
    with each one's `ttl_wait_until`. Raises RoutingError before the release is registered; applying again is
    safe (a record promote lowered before is found so, with the wait it recorded)."""
    waits = {}
    for name in release.workloads:
        routing = lowering(release.plan.routing_of(name))
        if routing is not None:
            router = routers(release.name, name, routing)
            waits[name] = router.lower_ttl(now).until  # type: ignore[attr-defined]  # the dns providers have it
    return with_waits(release, waits)
