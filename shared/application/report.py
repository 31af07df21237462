"""The report of a release or a wave (`promote report`, the board's report page), computed purely from the
release's history and plan: durations per phase, waits by gate, rollbacks with their causes, approvals with
who and when, the traffic timeline, and the change failure rate. Rendered by report_render.py.

Definitions (docs/observability.md has them for readers), the metrics' own (figures.py): a workload's clock
starts at the message that moved it out of its initial state and stops when it reached finalized or aborted;
a release's runs from its first workload's start to its latest end (finalized, aborted or rolled back) while
it is there, and `ends` lists every end it reached. A change is a move of users onto the migrated system; the
change failure rate is rollbacks / changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from shared.application.figures import Approval, Figures, Interval, Rollback, Run, from_history
from shared.domain.gates import GATES as GATE_REGISTRY
from shared.domain.model import HistoryEntry, Outcome, WorkloadState
from shared.domain.plan import Plan

S = WorkloadState
PHASES = (S.REPLICATING, S.TESTING, S.READY, S.FLIGHTING, S.ROLLED_BACK, S.PROMOTED)
GATES = tuple(str(g) for g in GATE_REGISTRY)  # the registry's order, so a new gate (ttl, rehearsal) is listed too


@dataclass(frozen=True)
class WorkloadLine:
    name: str
    state: str | None  # where its history leaves it
    started: datetime | None
    done: datetime | None
    attempts: int  # 1 + retries

    @property
    def seconds(self) -> float | None:
        return (self.done - self.started).total_seconds() if self.done and self.started else None


@dataclass(frozen=True)
class Move:
    at: datetime
    workload: str
    before: int
    after: int
    state: str | None


@dataclass
class ReleaseReport:
    release: str
    model: str
    wave: str | None
    state: str | None
    started: datetime | None
    done: datetime | None
    workloads: list[WorkloadLine]
    phases: dict[str, float]  # state -> seconds, summed over workloads
    gates: dict[str, float]  # gate -> seconds, summed over workloads
    flights: dict[int, tuple[float, int]]  # flight -> (seconds, times)
    rollbacks: list[Rollback]
    approvals: list[Approval]
    pauses: list[Interval]
    traffic: list[Move]
    changes: int
    entries: int
    partial: list[str] = field(default_factory=list)  # phases whose first interval starts at a first entry
    ends: list[Run] = field(default_factory=list)  # every end the release reached (its durations), in order

    @property
    def seconds(self) -> float | None:
        return (self.done - self.started).total_seconds() if self.done and self.started else None

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.rollbacks) / self.changes if self.changes else None

    @property
    def rollbacks_by_cause(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for r in self.rollbacks:
            counts[r.cause] += 1
        return dict(counts)


def release_report(plan: Plan, entries: list[HistoryEntry], state: str | None = None) -> ReleaseReport:
    figures = from_history(plan, entries)
    ended = {run.workload: run for run in figures.workloads}
    workloads = [
        _workload(w.name, [e for e in entries if e.workload == w.name], figures.started.get(w.name), ended.get(w.name))
        for w in plan.workloads
    ]
    last = figures.releases[-1] if figures.releases else None
    started = last.start if last else min(figures.started.values(), default=None)
    done = figures.ended  # at an end now (not moved on since); one reached before anything started has no duration
    return ReleaseReport(
        release=plan.release,
        model=plan.model,
        wave=plan.wave,
        state=str(state) if state else None,
        started=started,
        done=done,
        workloads=workloads,
        phases=_totals(figures.states),
        gates=_totals(figures.gates),
        flights=_flights(figures),
        rollbacks=figures.rollbacks,
        approvals=figures.approvals,
        pauses=[i for i in figures.gates if i.name == "paused"],
        traffic=_traffic(entries),
        changes=len(figures.moves),
        entries=len(entries),
        partial=sorted({i.name for i in figures.states if i.partial}),
        ends=figures.releases,
    )


def _workload(name: str, entries: list[HistoryEntry], started: datetime | None, ended: Run | None) -> WorkloadLine:
    moved = [e for e in entries if e.outcome == Outcome.APPLIED and e.to_state and e.from_state != e.to_state]
    state = moved[-1].to_state if moved else (entries[0].from_state if entries else None)
    retries = sum(1 for e in moved if e.from_state == S.ROLLED_BACK and e.to_state == S.TESTING)
    if ended is not None:  # an end is for good: measured from the same start as the metric
        started = ended.start
    return WorkloadLine(name, str(state) if state else None, started, ended.end if ended else None, 1 + retries)


def _totals(intervals: list[Interval]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for i in intervals:
        totals[i.name] += i.seconds
    return dict(totals)


def _flights(figures: Figures) -> dict[int, tuple[float, int]]:
    found: dict[int, list] = defaultdict(lambda: [0.0, 0])
    for i in figures.flights:
        found[i.flight or 0][0] += i.seconds
        found[i.flight or 0][1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(found.items())}


def _traffic(entries: list[HistoryEntry]) -> list[Move]:
    share: dict[str, int] = {}
    moves = []
    for e in entries:
        if e.workload is None or e.traffic_percent is None or e.outcome != Outcome.APPLIED:
            continue
        before = share.get(e.workload, 0)
        if e.traffic_percent != before:
            moves.append(Move(e.at, e.workload, before, e.traffic_percent, str(e.to_state) if e.to_state else None))
        share[e.workload] = e.traffic_percent
    return moves


@dataclass
class WaveReport:
    wave: str
    releases: list[ReleaseReport]

    @property
    def started(self) -> datetime | None:
        return min((r.started for r in self.releases if r.started), default=None)

    @property
    def done(self) -> datetime | None:
        if not self.releases or not all(r.done for r in self.releases):
            return None
        return max(r.done for r in self.releases if r.done)

    @property
    def seconds(self) -> float | None:
        return (self.done - self.started).total_seconds() if self.done and self.started else None

    def total(self, what: str) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for r in self.releases:
            for k, v in getattr(r, what).items():
                totals[k] += v
        return dict(totals)

    @property
    def changes(self) -> int:
        return sum(r.changes for r in self.releases)

    @property
    def rollbacks(self) -> list[Rollback]:
        return [r for report in self.releases for r in report.rollbacks]

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.rollbacks) / self.changes if self.changes else None
