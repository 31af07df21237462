"""Which traffic shares a routing provider can realise: kept in the plan beside the routing models
(shared/domain/plan/shares.py), since validate_plan needs it; importable from here as before."""

from __future__ import annotations

from shared.domain.plan.shares import (
    ALL_OR_NOTHING,
    ANY_SHARE,
    load_balancer_share,
    pool_addresses,
    pool_composition,
    realisable_share,
)

__all__ = [
    "ALL_OR_NOTHING",
    "ANY_SHARE",
    "load_balancer_share",
    "pool_addresses",
    "pool_composition",
    "realisable_share",
]
