"""Finishing a migration (contract §8): the pure gates built on the plan's data_sync / hypercare /
decommission sections (shared/domain/plan/finishing.py): data-sync, hypercare, finalize. No I/O, no clock
reads: `now` is passed in.

The holds are plain predicates returning what holds the workload (or None); the one gates registry
(shared/domain/gates.py) holds them beside the others, so the flow, `status` and the board answer "why not
yet?" from one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.model import Op, Release, Workload, WorkloadState
from shared.domain.plan.finishing import DecommissionTarget  # the plan's section (effects import it here)

TIMER_HOP = timedelta(days=7)  # a scheduled queue message waits at most seven days; longer waits re-schedule
DECOMMISSION_RETRY_FIRST = 30  # seconds before the first retry of a failed decommission, doubling
DECOMMISSION_RETRY_MAX = 30 * 60  # ... up to this
AUTO_ACTOR = "promote"  # who finalizes with decommission.approval: auto


# -- the gates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hold:
    """A gate that holds a workload now: `gate` is the contract's name; `details` what a person needs."""

    gate: str
    reason: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, **self.details}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def lag_age(w: Workload, now: datetime) -> float | None:
    return None if w.lag_at is None else max(0.0, (now - w.lag_at).total_seconds())


def data_sync_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    """Why the workload may not move users onto the migrated system now (None: it may, or no gate)."""
    spec = release.plan.workload(w.name)
    sync = getattr(spec, "data_sync", None)
    if sync is None:
        return None
    migrated = w.migration == Op.SUCCEEDED and getattr(release.plan, "source", None) is not None
    if migrated and w.attempt == 0:
        return None  # Azure Migrate's migrate made the final replication (v3 §16): there is no lag left to wait for
    # A later attempt is a retry after a rollback, and users reach Azure only once the migration succeeded (a plan's
    # source is never amended in): they wrote to the source again since, which Azure Migrate no longer replicates.
    since = (
        "; Azure Migrate's replication ended at the migration, users were back on the source since" if migrated else ""
    )
    details = {
        "lag_seconds": w.lag_seconds,
        "max_lag_seconds": sync.max_lag,
        "reported_at": _iso(w.lag_at),
        "max_age_seconds": sync.max_age,
    }
    age = lag_age(w, now)
    if w.lag_seconds is None or age is None:
        return Hold("data-sync", "data-sync: no replication-lag reported yet" + since, details)
    if w.lag_seconds > sync.max_lag:
        return Hold("data-sync", f"data-sync: latest lag {w.lag_seconds:g}s is above max_lag {sync.max_lag}s", details)
    if age > sync.max_age:
        return Hold(
            "data-sync",
            f"data-sync: latest lag report is {age:.0f}s old, older than max_age {sync.max_age}s" + since,
            details,
        )
    return None


def data_synced(release: Release, w: Workload, now: datetime) -> bool:
    return data_sync_hold(release, w, now) is None


def hypercare_until(release: Release, w: Workload) -> datetime | None:
    if w.promoted_at is None:
        return None
    return w.promoted_at + timedelta(seconds=release.plan.hypercare)


def in_hypercare(release: Release, w: Workload, now: datetime) -> bool:
    until = hypercare_until(release, w)
    return w.state == WorkloadState.PROMOTED and until is not None and now < until


def hypercare_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    if not in_hypercare(release, w, now):
        return None
    until = hypercare_until(release, w)
    return Hold("hypercare", f"hypercare until {_iso(until)}", {"until": _iso(until)})


def decommission_of(release: Release, name: str) -> DecommissionTarget:
    """The decommission target of one workload: its own, else the release's, else `local`."""
    spec = release.plan.workload(name)
    own = getattr(spec, "decommission", None)
    return own or release.plan.decommission or DecommissionTarget()


def finalize_approval(release: Release) -> str:
    return release.plan.decommission.approval if release.plan.decommission else "manual"


def finalize_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    """A promoted workload past hypercare that is not finalized yet: who may finalize, or the failed step."""
    if w.state != WorkloadState.PROMOTED or in_hypercare(release, w, now):
        return None
    details: dict[str, Any] = {
        "approval": finalize_approval(release),
        "approvers": list(release.plan.approvers),
        "provider": decommission_of(release, w.name).provider,
    }
    if w.finalize_requested_by:
        details.update(
            requested_by=w.finalize_requested_by,
            requested_at=_iso(w.finalize_requested_at),
            error=w.decommission_error,
            failures=w.decommission_failures,
        )
        if not (w.decommission_failures or w.decommission_error):  # the decommission message has not run yet
            return Hold("finalize", f"finalize requested by {w.finalize_requested_by}; turning the source off", details)
        return Hold(
            "finalize",
            f"finalize requested by {w.finalize_requested_by}; decommission failed "
            f"{w.decommission_failures} time(s): {w.decommission_error}; retrying",
            details,
        )
    if details["approval"] == "auto" and w.promoted_at is None:
        return None
    who = "automatic at hypercare end" if details["approval"] == "auto" else "an approver's override finalize"
    return Hold("finalize", f"waiting for finalize ({who})", details)


def finish_holds(release: Release, w: Workload, now: datetime) -> list[Hold]:
    """Every §8 gate holding the workload now (for status / waiting_for)."""
    holds = []
    if w.state in (WorkloadState.READY, WorkloadState.FLIGHTING) and not w.paused:
        if hold := data_sync_hold(release, w, now):
            holds.append(hold)
    for gate in (hypercare_hold, finalize_hold):
        if hold := gate(release, w, now):
            holds.append(hold)
    return holds


def retry_delay(failures: int) -> int:
    """Seconds before the next attempt after `failures` failed decommissions (30s doubling, at most 30m)."""
    return min(DECOMMISSION_RETRY_MAX, DECOMMISSION_RETRY_FIRST * 2 ** max(0, min(failures - 1, 10)))
