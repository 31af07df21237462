"""Why not yet? The gates that hold a workload now, computed from the recorded state alone (pure).

`waiting_for(release, workload, now)` answers it for status, the board and notifications, and the machine's
`advance` moves a workload exactly when this list is empty, so what is shown and what is decided can never
disagree. A gate is a small function in GATES (name -> check returning the details a person needs, or None
when it does not hold); adding one is adding an entry. The order of GATES is the order shown.

`waiting_period(release, workload)` is the period a deadline counts for (contract section 9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.model import TERMINAL, Release, Workload
from shared.domain.windows import closed

PROMOTED_STATES = ("promoted", "finalized")  # a release in one of these satisfies `after`
RELEASE_WIDE = ("release", "window", "after")  # gates that hold every workload of the release alike


@dataclass(frozen=True)
class Gate:
    gate: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, **self.details}


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- what the workload does next if nothing holds it ---------------------------------------------------
def first_move(release: Release, w: Workload) -> bool:
    """The next step puts users on the migrated system for the first time (promotion, flight 1, the staged
    release's promotion)."""
    return w.state == "ready"


def moves_users(release: Release, w: Workload) -> bool:
    """The next step moves users onto the migrated system: a first move, or a flight growing its share."""
    if first_move(release, w):
        return True
    return w.state == "flighting" and w.flight < len(release.plan.flights or [])


def bake_due(release: Release, w: Workload) -> datetime:
    assert release.plan.flights is not None and w.flight_started_at is not None, "only asked of a flighting workload"
    return w.flight_started_at + timedelta(seconds=release.plan.flights[w.flight - 1].bake)


# -- the gates ------------------------------------------------------------------------------------------
Details = dict[str, Any]
GateCheck = Callable[[Release, Workload, datetime], "Details | None"]


def _assets(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "replicating":
        return None
    pending = [a for a, done in w.assets.items() if not done]
    if not pending:
        return None
    return {
        "pending": pending[:20],
        "pending_count": len(pending),
        "replicated": len(w.assets) - len(pending),
        "total": len(w.assets),
    }


def _tests(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "testing" or w.tests_passed:
        return None
    return {"needs": "tests-passed"}


def _approval(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "ready" or release.plan.approval == "auto" or w.approved:
        return None
    return {"approvers": list(release.plan.approvers)}


def _release(release: Release, w: Workload, now: datetime) -> Details | None:
    """Staged: the release moves at once, when every workload still open is ready and held by nothing."""
    if release.plan.model != "staged" or w.state != "ready":
        return None
    others = [o for o in release.workloads.values() if o.name != w.name and o.state not in TERMINAL]
    # gates that hold the whole release (window, after) show on `w` itself, not as "the others"
    holding = [o.name for o in others if o.state != "ready" or waiting_for(release, o, now, skip=RELEASE_WIDE)]
    if not holding:
        return None
    return {"workloads": holding[:20], "workload_count": len(holding)}


def _bake(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "flighting" or w.flight_started_at is None:
        return None
    due = bake_due(release, w)
    if now >= due:
        return None
    return {"flight": w.flight, "until": iso(due), "seconds_left": int((due - now).total_seconds() + 0.999)}


def _verdict(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "flighting" or w.healthy_flight == w.flight:
        return None
    return {"flight": w.flight, "needs": "flight-healthy", "since": iso(w.flight_started_at)}


def _window(release: Release, w: Workload, now: datetime) -> Details | None:
    if release.plan.windows is None or not moves_users(release, w):
        return None
    why = closed(release.plan.windows, now)
    if why is None:
        return None
    return {"reason": why.reason, "opens": iso(why.opens), "timezone": release.plan.windows.timezone}


def _after(release: Release, w: Workload, now: datetime) -> Details | None:
    if not first_move(release, w):
        return None
    waiting = [name for name in release.plan.after if name not in release.after_met]
    return {"releases": waiting} if waiting else None


def _paused(release: Release, w: Workload, now: datetime) -> Details | None:
    if not w.paused:
        return None
    return {"by": w.paused_by, "at": iso(w.paused_at), "reason": w.paused_reason}


def _retry(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != "rolled-back":
        return None
    return {
        "needs": "override retry",
        "operators": list(dict.fromkeys(release.plan.operators + release.plan.approvers)),
    }


GATES: dict[str, GateCheck] = {
    "assets": _assets,
    "tests": _tests,
    "approval": _approval,
    "release": _release,
    "bake": _bake,
    "verdict": _verdict,
    "window": _window,
    "after": _after,
    "paused": _paused,
    "retry": _retry,
}


def waiting_for(release: Release, w: Workload, now: datetime, *, skip: tuple[str, ...] = ()) -> list[Gate]:
    """The gates holding `w` now; empty exactly when it is terminal or its next step may happen now."""
    if w.state in TERMINAL:
        return []
    return [
        Gate(name, details)
        for name, check in GATES.items()
        if name not in skip and (details := check(release, w, now)) is not None
    ]


# -- deadlines ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitingPeriod:
    """One stretch of waiting a deadline counts for: its kind (a key of the plan's `deadlines`) and start."""

    kind: str  # replicating | testing | approval | verdict
    since: datetime
    limit: int | None  # seconds the plan allows (None: no deadline for this kind)

    @property
    def key(self) -> str:
        return f"{self.kind}:{int(self.since.timestamp() * 1000)}"

    @property
    def deadline(self) -> datetime | None:
        return None if self.limit is None else self.since + timedelta(seconds=self.limit)


def waiting_period(release: Release, w: Workload) -> WaitingPeriod | None:
    if w.state in TERMINAL:
        return None
    kind, since = None, w.state_since
    if w.state == "replicating":
        kind = "replicating"
    elif w.state == "testing" and not w.tests_passed:
        kind = "testing"
    elif w.state == "ready" and release.plan.approval == "manual" and not w.approved:
        kind = "approval"
    elif w.state == "flighting" and w.healthy_flight != w.flight and w.flight_started_at is not None:
        kind, since = "verdict", bake_due(release, w)  # the verdict is due once the bake is over
    if kind is None or since is None:
        return None
    deadlines = release.plan.deadlines
    return WaitingPeriod(kind, since, getattr(deadlines, kind) if deadlines else None)
