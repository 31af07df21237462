"""Why not yet? The gates that hold a workload now, computed from the recorded state alone (pure).

One registry, GATES, answers it for status, the board, notifications and the machine alike: a gate is a
small check returning the details a person needs (or None when it does not hold), and `describe(gate)` is
its one text. Adding a gate is adding an entry; the order of GATES is the order shown.
- `waiting_for(release, w, now)`: every gate that holds `w` now, as shown;
- `waiting_for(..., holding=True)`: the gates that hold whatever `w` does next; the machine's flow moves a
  workload exactly when this list is empty and the flow row's own gates (data-sync, paused, hypercare) are
  open (machine/flow.py), so what is shown and what is decided cannot disagree.

`waiting_period(release, workload)` is the period a deadline counts for (contract section 9).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain.finishing import data_sync_hold, finalize_hold, hypercare_hold
from shared.domain.migration import migration_gate, rehearsal_gate
from shared.domain.model import TERMINAL, GateName, Release, ReleaseState, Workload, WorkloadState
from shared.domain.times import iso, ms
from shared.domain.ttl import ttl_hold
from shared.domain.windows import closed

G, S = GateName, WorkloadState
PROMOTED_STATES = (ReleaseState.PROMOTED, ReleaseState.FINALIZED)  # a release in one of these satisfies `after`
RELEASE_WIDE = (G.RELEASE, G.WINDOW, G.AFTER)  # gates that hold every workload of the release alike
MOVE_GATES = (G.WINDOW, G.AFTER)  # gates that hold only moves onto the migrated system


@dataclass(frozen=True)
class Gate:
    gate: GateName
    details: dict[str, Any]
    text: str | None = None  # what a person reads, where the check words it itself (it depends on `now`)

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, **self.details}


# -- what the workload does next if nothing holds it ---------------------------------------------------
def first_move(release: Release, w: Workload) -> bool:
    """The next step puts users on the migrated system for the first time (promotion, flight 1, the staged
    release's promotion)."""
    return w.state == S.READY


def moves_users(release: Release, w: Workload) -> bool:
    """The next step moves users onto the migrated system: a first move, or a flight growing its share."""
    if first_move(release, w):
        return True
    return w.state == S.FLIGHTING and w.flight < len(release.plan.flights or [])


def bake_due(release: Release, w: Workload) -> datetime:
    assert release.plan.flights is not None and w.flight_started_at is not None, "only asked of a flighting workload"
    return w.flight_started_at + timedelta(seconds=release.plan.flights[w.flight - 1].bake)


# -- the gates ------------------------------------------------------------------------------------------
Details = dict[str, Any]
GateCheck = Callable[[Release, Workload, datetime], "Details | Gate | None"]


def _assets(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != S.REPLICATING:
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
    if w.state != S.TESTING or w.tests_passed:
        return None
    return {"needs": "tests-passed"}


def _approval(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != S.READY or release.plan.approval_mode == "auto" or w.approved:
        return None
    details: Details = {"approvers": list(release.plan.approvers)}
    if release.plan.quorum > 1 or w.approvals:
        details.update(approvals=list(w.approvals), needed=release.plan.quorum)
    return details


def _release(release: Release, w: Workload, now: datetime) -> Details | None:
    """Staged: the release moves at once, when every workload still open is ready and held by nothing."""
    if release.plan.model != "staged" or w.state != S.READY:
        return None
    others = [o for o in release.workloads.values() if o.name != w.name and o.state not in TERMINAL]
    # gates that hold the whole release (window, after) show on `w` itself, not as "the others"
    holding = [
        o.name for o in others if o.state != S.READY or waiting_for(release, o, now, skip=RELEASE_WIDE, holding=True)
    ]
    if not holding:
        return None
    return {"workloads": holding[:20], "workload_count": len(holding)}


def _bake(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != S.FLIGHTING or w.flight_started_at is None:
        return None
    due = bake_due(release, w)
    if now >= due:
        return None
    return {"flight": w.flight, "until": iso(due), "seconds_left": int((due - now).total_seconds() + 0.999)}


def _verdict(release: Release, w: Workload, now: datetime) -> Details | None:
    if w.state != S.FLIGHTING or w.healthy_flight == w.flight:
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
    if w.state != S.ROLLED_BACK:
        return None
    return {
        "needs": "override retry",
        "operators": list(dict.fromkeys(release.plan.operators + release.plan.approvers)),
    }


def _data_sync(release: Release, w: Workload, now: datetime) -> Gate | None:
    """§8: shown while a move onto the migrated system may wait for it; the flow's rows hold on it."""
    if w.state not in (S.READY, S.FLIGHTING) or w.paused:
        return None
    hold = data_sync_hold(release, w, now)
    return None if hold is None else Gate(G.DATA_SYNC, hold.details, hold.reason)


def _hypercare(release: Release, w: Workload, now: datetime) -> Gate | None:
    hold = hypercare_hold(release, w, now)
    return None if hold is None else Gate(G.HYPERCARE, hold.details, hold.reason)


def _ttl(release: Release, w: Workload, now: datetime) -> Gate | None:
    """§17: the first move of a DNS cutover waits out the record's old TTL (shared/domain/ttl.py)."""
    hold = ttl_hold(release, w, now) if first_move(release, w) else None
    return None if hold is None else Gate(G.TTL, hold.details, hold.reason)


def _finalize(release: Release, w: Workload, now: datetime) -> Gate | None:
    hold = finalize_hold(release, w, now)
    return None if hold is None else Gate(G.FINALIZE, hold.details, hold.reason)


@dataclass(frozen=True)
class GateSpec:
    check: GateCheck
    holding: bool = True  # holds whatever the workload does next (False: a flow row names it as its own)
    terminal: bool = False  # also asked of a workload in a terminal state (a promoted one may still finalize)


GATES: dict[GateName, GateSpec] = {
    G.ASSETS: GateSpec(_assets),
    G.TESTS: GateSpec(_tests),
    G.APPROVAL: GateSpec(_approval),
    G.RELEASE: GateSpec(_release),
    G.BAKE: GateSpec(_bake),
    G.VERDICT: GateSpec(_verdict),
    G.WINDOW: GateSpec(_window),
    G.AFTER: GateSpec(_after),
    G.TTL: GateSpec(_ttl),
    G.REHEARSAL: GateSpec(rehearsal_gate),  # v3 §16: shared/domain/migration.py
    G.MIGRATION_JOB: GateSpec(migration_gate),
    G.PAUSED: GateSpec(_paused),
    G.RETRY: GateSpec(_retry),
    G.DATA_SYNC: GateSpec(_data_sync, holding=False),
    G.HYPERCARE: GateSpec(_hypercare, holding=False, terminal=True),
    G.FINALIZE: GateSpec(_finalize, holding=False, terminal=True),
}
assert set(GATES) == set(GateName)


def waiting_for(
    release: Release, w: Workload, now: datetime, *, skip: tuple[GateName, ...] = (), holding: bool = False
) -> list[Gate]:
    """The gates holding `w` now. `holding`: only those that hold its next step whatever it is; that list is
    empty exactly when the workload is terminal or its next step may happen now."""
    found = []
    for name, check in _checks(tuple(skip), holding, w.state in TERMINAL):
        result = check(release, w, now)
        if result is not None:
            found.append(result if isinstance(result, Gate) else Gate(name, result))
    return found


@functools.cache
def _checks(skip: tuple[GateName, ...], holding: bool, terminal: bool) -> tuple[tuple[GateName, Any], ...]:
    """The gates to check, in order, for one kind of question: asked for each of 5,000 workloads of a move.
    GATES is fixed once imported; a test that patches it gives `_checks` a cache of its own."""
    return tuple(
        (name, spec.check)
        for name, spec in GATES.items()
        if name not in skip and (spec.holding or not holding) and (spec.terminal or not terminal)
    )


def _names(values: list[str], count: int | None = None) -> str:
    more = (count or len(values)) - len(values)
    return ", ".join(values) + (f" and {more} more" if more > 0 else "")


def _local(opens: str | None, zone: str) -> str:
    """A window's opening in the plan's zone, with the zone named, and in UTC: 2026-12-07 05:41 Europe/Amsterdam
    (04:41Z)."""
    if opens is None:
        return "never"
    from zoneinfo import ZoneInfo

    moment = datetime.fromisoformat(opens.replace("Z", "+00:00"))
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {zone} ({moment.astimezone(UTC):%H:%M}Z)"


def describe(gate: Gate) -> str:
    """What a person reads for one gate: status, the board, history's "held: ..." and notifications."""
    if gate.text is not None:
        return gate.text
    d = gate.details
    if gate.gate == G.ASSETS:
        return f"assets: {d['replicated']}/{d['total']} replicated, pending {_names(d['pending'], d['pending_count'])}"
    if gate.gate == G.TESTS:
        return "tests: waiting for tests-passed"
    if gate.gate == G.APPROVAL:
        if "needed" in d:
            got = ", ".join(a["by"] for a in d["approvals"])
            return (
                f"{len(d['approvals'])} of {d['needed']} approvals"
                + (f" ({got})" if got else "")
                + (f" by {_names(d['approvers'])}")
            )
        return f"approval by one of {_names(d['approvers'])}"
    if gate.gate == G.RELEASE:
        return f"the rest of the release: {_names(d['workloads'], d['workload_count'])}"
    if gate.gate == G.BAKE:
        return f"bake of flight {d['flight']}: {d['seconds_left']}s left (until {d['until']})"
    if gate.gate == G.VERDICT:
        return f"a flight-healthy verdict for flight {d['flight']}"
    if gate.gate == G.WINDOW:
        return f"change window closed ({d['reason']}), opens {_local(d['opens'], d['timezone'])}"
    if gate.gate == G.AFTER:
        return f"waiting for release(s) {', '.join(d['releases'])} to be promoted"
    if gate.gate == G.PAUSED:
        return "paused" + (f" by {d['by']}" if d.get("by") else "") + (f": {d['reason']}" if d.get("reason") else "")
    if gate.gate == G.REHEARSAL:
        return f"a passing rehearsal of this plan ({d['plan_hash']}): {d['why']}"
    if gate.gate == G.MIGRATION_JOB:
        return f"Azure Migrate's migration: {d['why']}"
    assert gate.gate == G.RETRY, gate.gate
    return f"override retry by one of {_names(d['operators'])}"


# -- deadlines ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WaitingPeriod:
    """One stretch of waiting a deadline counts for: its kind (a key of the plan's `deadlines`) and start."""

    kind: str  # replicating | testing | approval | verdict
    since: datetime
    limit: int | None  # seconds the plan allows (None: no deadline for this kind)

    @property
    def key(self) -> str:
        return f"{self.kind}:{ms(self.since)}"

    @property
    def deadline(self) -> datetime | None:
        return None if self.limit is None else self.since + timedelta(seconds=self.limit)


def waiting_period(release: Release, w: Workload) -> WaitingPeriod | None:
    if w.state in TERMINAL:
        return None
    kind, since = None, w.state_since
    if w.state == S.REPLICATING:
        kind = "replicating"
    elif w.state == S.TESTING and not w.tests_passed:
        kind = "testing"
    elif w.state == S.READY and release.plan.approval_mode == "manual" and not w.approved:
        kind = "approval"
    elif w.state == S.FLIGHTING and w.healthy_flight != w.flight and w.flight_started_at is not None:
        kind, since = "verdict", bake_due(release, w)  # the verdict is due once the bake is over
    if kind is None or since is None:
        return None
    deadlines = release.plan.deadlines
    return WaitingPeriod(kind, since, getattr(deadlines, kind) if deadlines else None)
