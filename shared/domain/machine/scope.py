"""How much of a release a message is decided on.

A release of thousands of workloads is kept in shards (a shard: up to ~97 workloads, written in one
transaction). A message about one workload is decided on its shard alone: one read, one transaction. What
only the whole release can say (its state, the staged release's move, revoking access when every workload
is promoted, telling the releases that wait for it) changes only when some shard's `ShardFacts` change, so
the service looks at every shard's facts (kept on small summary rows, one read) only then, and decides again
on the whole release only when that look says the release may move.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.gates import waiting_for
from shared.domain.model import TERMINAL, GateName, Release, ReleaseState, Tally, WorkloadState, release_state
from shared.domain.plan import Plan

S = WorkloadState
_DONE = (S.PROMOTED, S.FINALIZED)


@dataclass(frozen=True)
class ShardFacts:
    """What the release-level conditions need to know of one shard."""

    tally: Tally
    ready: bool = False  # staged: every open workload ready and held by nothing but the rest of the release
    ready_until: datetime | None = None  # ... until then (a data-sync report gets too old); None: no end

    def ready_at(self, now: datetime) -> bool:
        return self.ready and (self.ready_until is None or now <= self.ready_until)

    def signature(self, now: datetime) -> tuple:
        """The parts of these facts a release-level condition can turn on: the release state depends on the
        counts only through whether all, or any, workloads of the shard are in some states."""
        t, total = self.tally, self.tally.count(*S)
        open_ = total - t.count(*TERMINAL)
        return (
            t.count(S.FINALIZED, S.ABORTED) == total,
            t.count(S.FINALIZED) > 0,
            t.count(*_DONE) == total,
            t.count(*TERMINAL, S.ROLLED_BACK) == total,
            t.count(S.ROLLED_BACK) > 0,
            t.count(*_DONE) > 0,
            t.ready_unapproved > 0,
            t.count(S.READY) == open_,
            self.ready_at(now),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "states": {s.value: n for s, n in self.tally.states},
            "ready_unapproved": self.tally.ready_unapproved,
            "ready": self.ready,
            "ready_until": None if self.ready_until is None else self.ready_until.isoformat(),
        }

    @staticmethod
    def from_json(doc: dict[str, Any]) -> ShardFacts:
        tally = Tally(tuple(sorted((S(k), n) for k, n in doc["states"].items())), doc["ready_unapproved"])
        until = doc.get("ready_until")
        return ShardFacts(tally, doc["ready"], None if until is None else datetime.fromisoformat(until))


def shard_facts(release: Release, now: datetime) -> ShardFacts:
    """The facts of the workloads `release` holds (a shard, or every workload of a small release)."""
    workloads = list(release.workloads.values())
    tally = Tally.of(workloads)
    if release.plan.model != "staged":
        return ShardFacts(tally)
    open_ = [w for w in workloads if w.state not in TERMINAL]
    ready = all(
        w.state == S.READY and not waiting_for(release, w, now, skip=(GateName.RELEASE,), holding=True) for w in open_
    )
    return ShardFacts(tally, ready, _fresh_until(release, open_) if ready else None)


def _fresh_until(release: Release, workloads: list) -> datetime | None:
    """When the first data-sync report of these workloads gets too old to let them move (None: no such gate)."""
    from datetime import timedelta

    ends = []
    for w in workloads:
        sync = getattr(release.plan.workload(w.name), "data_sync", None)
        if sync is not None and w.lag_at is not None:
            ends.append(w.lag_at + timedelta(seconds=sync.max_age))
    return min(ends) if ends else None


def needs_look(before: ShardFacts, after: ShardFacts, now: datetime) -> bool:
    """Whether a shard's change may change something only the whole release can say."""
    return before.signature(now) != after.signature(now)


def release_moves(plan: Plan, shards: list[ShardFacts], known: ReleaseState | None, now: datetime) -> bool:
    """Given every shard's facts: whether deciding on the whole release may do more than the shard alone did:
    its state changes (notices, revoking access, dependants), or a staged release may move at once."""
    tally = sum((f.tally for f in shards), Tally())
    if release_state(plan.model, plan.approval_mode, tally) != known:
        return True
    return plan.model == "staged" and bool(shards) and all(f.ready_at(now) for f in shards)
