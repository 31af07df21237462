"""The figures of a release, from its decisions' history entries (pure): how long each workload spent in each
state and gate, its flights and pauses, each rollback with its cause, each approval with its wait, each
move of users onto the migrated system (a change, for the change failure rate), and the durations of the
workloads and of the release.

One walker, two starts, so the live figures and the report can never disagree:
- `from_history(plan, entries)`: a release's whole history, oldest first (`promote report`, the board).
- `from_decision(before, entries)`: one decision's entries, walked from the release as it was before the
  decision (telemetry's metrics, as each message is handled: no read of history).
Every interval starts at a moment an entry recorded. The one exception is a workload's first state: `promote
apply` writes no history entry, so from history it starts at the workload's first entry (`partial`), while
live it starts where the domain recorded it (`state_since`, the apply); partial intervals are reported but
never measured.

Durations. A workload's runs from the entry that first moved it out of its initial state (the domain keeps
that moment as `started_at`) to the entry that moved it to an end: finalized or aborted (a workload aborted
before it ever moved has none, and starts no release's clock). A release's runs from the first of its
workloads' starts to each entry that brings the release to an end state: finalized, aborted or rolled back (a
release retried after a rollback ends again later: each end is one duration, its state says which). The
release's state is replayed from its workloads' states (model.release_state), so live it needs the whole
release (not one shard of a large one).

What an entry did is read from its fields, and from promote's own wording where no field says it: an approval
(`approved`; `approval counted`: one of a quorum not reached yet), a pause (`paused at N%`), a resume
(`resumed`), the flight a workload moved to (`-> flighting (flight N, P%)`). tests/unit/test_telemetry.py
drives the real machine and holds this to what it writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.domain.model import (
    HistoryEntry,
    Outcome,
    Release,
    ReleaseState,
    Tally,
    Workload,
    WorkloadState,
    release_state,
)
from shared.domain.plan import Plan

S = WorkloadState
TROUBLE = {"alert": "alert", "flight-unhealthy": "verdict"}  # message type -> rollback cause
CAUSES = ("alert", "verdict", "deadline", "lag", "operator")
_CAUSE_OF_TYPE = {**TROUBLE, "deadline": "deadline", "replication-lag": "lag", "override": "operator"}
ON_TARGET = (S.FLIGHTING, S.PROMOTED, S.FINALIZED)  # some or all users on the migrated system
WORKLOAD_ENDS = (S.FINALIZED, S.ABORTED)
RELEASE_ENDS = (ReleaseState.FINALIZED, ReleaseState.ABORTED, ReleaseState.ROLLED_BACK)
SUCCEEDED = (S.FINALIZED, ReleaseState.FINALIZED)  # deployment.status: succeeded; any other end: failed
_FLIGHT = re.compile(r"-> flighting \(flight (\d+),")
# a pause is in the rules' own words, where they put them (an override, a halt, on_alert/on_deadline): an
# alert's description (free text from outside) is inside its reason too and must not forge one
_PAUSE = re.compile(r"^(halt: )?paused at \d+%|[;:] paused at \d+% \(on_(alert|deadline): pause\)$")


@dataclass(frozen=True)
class Interval:
    """A workload spent [start, end) in a state, a gate or a flight (`name`)."""

    workload: str
    name: str
    start: datetime
    end: datetime
    partial: bool = False  # starts at the first recorded entry, not when the workload really entered it
    flight: int | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Rollback:
    workload: str
    at: datetime
    cause: str  # alert | verdict | deadline | lag | operator (or the message type, for anything else)
    from_state: str
    share_before: int
    flight: int | None
    after_trouble: float | None  # seconds since the alert or unhealthy verdict it answers, if any
    event_id: str
    actor: str | None
    reason: str


@dataclass(frozen=True)
class Approval:
    workload: str
    at: datetime
    actor: str | None
    waited: float | None  # seconds in `ready` before it; None when approved before the workload was ready
    actor_reason: str | None
    counted: bool = False  # one approval of a quorum not reached yet (v3 §19): who and when, no wait


@dataclass(frozen=True)
class Move:
    """Users moved onto the migrated system for a workload (a change; a rollback undoes one)."""

    workload: str
    at: datetime


@dataclass(frozen=True)
class Run:
    """A workload's (or, `workload` None, the release's) duration: from its start to an end `state`."""

    workload: str | None
    state: str  # finalized | aborted (| rolled-back, a release's)
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def status(self) -> str:
        """OpenTelemetry's deployment.status."""
        return "succeeded" if self.state in SUCCEEDED else "failed"


@dataclass
class Figures:
    states: list[Interval] = field(default_factory=list)
    gates: list[Interval] = field(default_factory=list)
    flights: list[Interval] = field(default_factory=list)
    rollbacks: list[Rollback] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    workloads: list[Run] = field(default_factory=list)  # workload durations, in the order they ended
    releases: list[Run] = field(default_factory=list)  # the release's, one per end it reached
    started: dict[str, datetime] = field(default_factory=dict)  # workload -> when it left its initial state
    state: str | None = None  # the release's state after the walk (None: not replayed, part of a release)
    ended: datetime | None = None  # when the release reached the end it is at (with a duration or none)


@dataclass
class _Cursor:
    """What the walk knows of one workload: where it is and since when."""

    state: str
    since: datetime | None
    partial: bool = False
    flight: int = 0
    flight_since: datetime | None = None
    share: int = 0
    paused_at: datetime | None = None
    trouble_at: datetime | None = None
    trouble: str | None = None  # alert | verdict: what the last trouble was
    started: datetime | None = None  # when it first left its initial state


@dataclass
class _Whole:
    """What the walk knows of the whole release: every workload's state and its first start. `known`: False
    when a workload moved before starts were kept (its row has none): the release's start is then unknown."""

    states: dict[str, str]
    started: datetime | None
    known: bool = True
    state: ReleaseState | None = None  # as of the last decision looked at
    moved_at: datetime | None = None  # the latest move not looked at yet
    counts: dict[str, int] = field(default_factory=dict)  # state -> workloads in it: kept as they move

    def __post_init__(self) -> None:
        for state in self.states.values():
            self.counts[state] = self.counts.get(state, 0) + 1

    def move(self, name: str, to: str) -> None:
        """One workload moved: the counts follow, so the release's state costs no look at every workload."""
        self.counts[self.states[name]] -= 1
        self.counts[to] = self.counts.get(to, 0) + 1
        self.states[name] = to


def from_history(plan: Plan, entries: list[HistoryEntry]) -> Figures:
    cursors: dict[str, _Cursor] = {}
    for e in entries:
        if e.workload is not None and e.from_state is not None and e.workload not in cursors:
            cursors[e.workload] = _Cursor(state=str(e.from_state), since=e.at, partial=True)
    states = {w.name: cursors[w.name].state if w.name in cursors else str(S.REPLICATING) for w in plan.workloads}
    return _walk(plan, cursors, entries, _Whole(states, None))


def from_decision(before: Release, entries: list[HistoryEntry]) -> Figures:
    named = {e.workload for e in entries if e.workload is not None and e.workload in before.workloads}
    whole = None
    if not before.partial:
        ws = before.workloads.values()
        starts = [w.started_at for w in ws if w.started_at is not None and not _aborted_unstarted(w)]
        known = all(w.started_at is not None or w.state == S.REPLICATING for w in ws)
        whole = _Whole({w.name: str(w.state) for w in ws}, min(starts, default=None), known)
    return _walk(before.plan, {name: _start(before.workloads[name]) for name in named}, entries, whole)


def _aborted_unstarted(w: Workload) -> bool:
    """Aborted straight from its initial state: the domain stamps `started_at` on that move too (so that a row
    without one is an old row), but nothing started: its start is its abort (`state_since`)."""
    return w.state == S.ABORTED and w.started_at == w.state_since


def _start(w: Workload) -> _Cursor:
    trouble = w.alert_while_paused or ""
    return _Cursor(
        state=str(w.state),
        since=w.state_since,
        flight=w.flight,
        flight_since=w.flight_started_at,
        share=w.traffic_percent,
        paused_at=w.paused_at if w.paused else None,
        trouble_at=w.trouble_at,
        trouble=("alert" if trouble.startswith("alert") else "verdict") if trouble else None,
        started=w.started_at,
    )


def _walk(plan: Plan, cursors: dict[str, _Cursor], entries: list[HistoryEntry], whole: _Whole | None) -> Figures:
    figures = Figures()
    if whole is not None:
        whole.state = _state_of(plan, whole.counts)
    for i, e in enumerate(entries):
        c = cursors.get(e.workload or "")
        if c is not None and e.outcome == Outcome.APPLIED and e.from_state is not None and e.to_state is not None:
            _step(plan, figures, e, c)
            if whole is not None and e.from_state != e.to_state and e.workload in whole.states:
                whole.move(e.workload, str(e.to_state))
                if c.started is not None and (whole.started is None or c.started < whole.started):
                    whole.started = c.started
                whole.moved_at = e.at
        last = i + 1 == len(entries) or entries[i + 1].event_id != e.event_id
        if whole is not None and whole.moved_at is not None and last:  # a decision's entries are one commit
            _release_moved(plan, figures, whole)
    figures.state = str(whole.state) if whole is not None else None
    return figures


def _state_of(plan: Plan, counts: dict[str, int]) -> ReleaseState:
    """The release's state from its workloads' (approval aside: it decides no end)."""
    tally = Tally(tuple(sorted((S(state), n) for state, n in counts.items() if n)))
    return release_state(plan.model, plan.approval_mode, tally)


def _release_moved(plan: Plan, f: Figures, whole: _Whole) -> None:
    """After a decision that moved workloads: the release's state, and an end when it reached one. Looked at
    per decision, as live (an entry's move may be undone by the next of the same decision)."""
    now, at = _state_of(plan, whole.counts), whole.moved_at
    if now != whole.state and now in RELEASE_ENDS:
        f.ended = at
        if whole.started is not None and whole.known and at:
            f.releases.append(Run(None, str(now), whole.started, at))
    elif now not in RELEASE_ENDS:
        f.ended = None
    whole.state, whole.moved_at = now, None


def _step(plan: Plan, f: Figures, e: HistoryEntry, c: _Cursor) -> None:
    name = e.workload or ""
    if e.type == "override" and e.reason.startswith("approved"):
        waited = (e.at - c.since).total_seconds() if c.state == S.READY and c.since and not c.partial else None
        f.approvals.append(Approval(name, e.at, e.actor, waited, e.actor_reason))
    elif e.type == "override" and e.reason.startswith("approval counted"):
        f.approvals.append(Approval(name, e.at, e.actor, None, e.actor_reason, counted=True))
    if _PAUSE.search(e.reason) and c.paused_at is None:
        c.paused_at = e.at
    elif e.type == "override" and e.reason.startswith("resumed") and c.paused_at is not None:
        f.gates.append(Interval(name, "paused", c.paused_at, e.at))
        c.paused_at = None
    if e.type in TROUBLE and e.from_state == e.to_state:  # recorded while paused, or paused by on_alert
        c.trouble_at, c.trouble = e.at, TROUBLE[e.type]
    flight = _flight_begun(e, c)
    if e.from_state != e.to_state:
        _leave(plan, f, e, c)
        if e.to_state in WORKLOAD_ENDS and e.from_state not in WORKLOAD_ENDS and c.started is not None:
            f.workloads.append(Run(name, str(e.to_state), c.started, e.at))
        if e.from_state == S.REPLICATING and e.to_state != S.ABORTED:  # its initial state, not to an abort
            c.started = f.started[name] = e.at
        if e.to_state == S.ROLLED_BACK:
            f.rollbacks.append(_rollback(e, c))
        if e.to_state in (S.ROLLED_BACK, S.ABORTED) and c.paused_at is not None:  # back on the source: unpaused
            f.gates.append(Interval(name, "paused", c.paused_at, e.at))
            c.paused_at = None
        if e.to_state in ON_TARGET and e.from_state not in ON_TARGET:
            f.moves.append(Move(name, e.at))
        c.state, c.since, c.partial = str(e.to_state), e.at, False
        if e.to_state != S.FLIGHTING:
            c.flight, c.flight_since = 0, None
    if flight is not None:
        if e.from_state == S.FLIGHTING:
            _end_flight(plan, f, name, c, e.at)
        c.flight, c.flight_since = flight, e.at
    if e.traffic_percent is not None:
        c.share = e.traffic_percent


def _flight_begun(e: HistoryEntry, c: _Cursor) -> int | None:
    """The flight this entry started, if it started one."""
    if e.to_state != S.FLIGHTING:
        return None
    said = _FLIGHT.findall(e.reason)
    flight = int(said[-1]) if said else None
    if e.from_state != S.FLIGHTING:
        return flight or 1
    return flight if flight is not None and flight != c.flight else None


def _leave(plan: Plan, f: Figures, e: HistoryEntry, c: _Cursor) -> None:
    """The workload leaves its state at `e`: the state's interval and the gates that held it."""
    name = e.workload or ""
    if c.since is None:
        return
    interval = Interval(name, c.state, c.since, e.at, c.partial)
    f.states.append(interval)
    gate = {
        S.REPLICATING: "assets",
        S.TESTING: "tests",
        S.READY: "approval" if plan.approval_mode == "manual" else "release",
        S.ROLLED_BACK: "retry",
    }.get(S(c.state))
    if gate is not None:
        f.gates.append(Interval(name, gate, c.since, e.at, c.partial))
    elif c.state == S.FLIGHTING:
        _end_flight(plan, f, name, c, e.at)
    elif c.state == S.PROMOTED:
        f.gates.extend(_split(name, "hypercare", "finalize", c.since, e.at, plan.hypercare, c.partial))


def _end_flight(plan: Plan, f: Figures, name: str, c: _Cursor, end: datetime) -> None:
    if c.flight_since is None or not c.flight:
        return
    f.flights.append(Interval(name, "flighting", c.flight_since, end, flight=c.flight))
    flights = plan.flights or []
    bake = flights[c.flight - 1].bake if 0 < c.flight <= len(flights) else 0
    f.gates.extend(_split(name, "bake", "verdict", c.flight_since, end, bake, False, c.flight))


def _split(
    name: str, first: str, rest: str, start: datetime, end: datetime, limit: float, partial: bool, flight=None
) -> list[Interval]:
    """[start, end) as `first` for up to `limit` seconds, then `rest` (bake, then waiting for a verdict)."""
    cut = min(end, start + timedelta(seconds=max(0.0, limit)))
    parts = [Interval(name, first, start, cut, partial, flight)] if cut > start else []
    return parts + ([Interval(name, rest, cut, end, partial, flight)] if end > cut else [])


def _rollback(e: HistoryEntry, c: _Cursor) -> Rollback:
    cause = _CAUSE_OF_TYPE.get(e.type, e.type)
    if e.type == "override" and e.reason.startswith("resumed") and c.trouble:
        cause = c.trouble  # a resume that acknowledges trouble recorded while paused rolls back for it
    if e.type in TROUBLE:
        after: float | None = 0.0
    elif c.trouble_at is not None and c.since is not None and c.trouble_at >= c.since:
        after = (e.at - c.trouble_at).total_seconds()
    else:
        after = None
    return Rollback(
        e.workload or "", e.at, cause, c.state, c.share, c.flight or None, after, e.event_id, e.actor, e.reason
    )
