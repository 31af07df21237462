"""The persisted state of a release and its workloads. Plain, immutable data; decide() makes new copies."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from shared.domain.plan import Plan

WorkloadState = Literal["replicating", "testing", "ready", "flighting", "promoted", "rolled-back", "aborted",
                        "finalized"]
ReleaseState = Literal["in-progress", "awaiting-approval", "promoted", "rolled-back", "aborted", "finalized"]
Outcome = Literal["applied", "duplicate", "ignored", "rejected"]
TERMINAL: tuple[str, ...] = ("promoted", "aborted", "finalized")
SEEN_WINDOW = 512  # ids kept in the release row for duplicate checks without an extra read
ARCHIVE_BITS = 32_768  # a Bloom filter (4 KiB) of every id pushed out of the window: about 1 false positive
ARCHIVE_HASHES = 7  # in 100,000 lookups at 1,000 archived ids, 1 in 1,600 at 2,000, 1 in 50 at 4,000


def _bits(digest: str) -> list[int]:
    first, step = int(digest[:8], 16), int(digest[8:16], 16) | 1  # double hashing over the 64-bit digest
    return [(first + i * step) % ARCHIVE_BITS for i in range(ARCHIVE_HASHES)]


def archive_add(archive: bytes, digests) -> bytes:
    bits = bytearray(archive or bytes(ARCHIVE_BITS // 8))
    for d in digests:
        for b in _bits(d):
            bits[b >> 3] |= 1 << (b & 7)
    return bytes(bits)


def archive_may_contain(archive: bytes, digest: str) -> bool:
    """False: certainly not archived (a Bloom filter has no false negatives). True: archived, or rarely not."""
    return bool(archive) and all(archive[b >> 3] & (1 << (b & 7)) for b in _bits(digest))


@dataclass(frozen=True)
class Workload:
    name: str
    state: WorkloadState = "replicating"
    paused: bool = False
    assets: dict[str, bool] = field(default_factory=dict)  # asset -> replicated
    tests_passed: bool = False
    approved: bool = False
    flight: int = 0  # 1-based while flighting; 0 before the first flight
    traffic_percent: int = 0  # the share the router achieved
    flight_started_at: datetime | None = None
    healthy_flight: int = 0  # the flight a healthy verdict arrived for, after that flight began
    unhealthy: bool = False  # an alert or unhealthy verdict recorded while paused, acted on at resume
    attempt: int = 0  # retries after a rollback; part of timer ids
    # v2 §8: the latest replication-lag report (reports may come every minute: only the latest is kept)
    lag_seconds: float | None = None
    lag_at: datetime | None = None  # when it was measured (the event's time, never later than its arrival)
    lag_reports: int = 0  # replication-lag reports recorded (most leave no history entry)
    promoted_at: datetime | None = None  # when users were last moved fully onto the migrated system
    finalize_requested_by: str | None = None  # a finalize whose decommission has not succeeded yet
    finalize_requested_at: datetime | None = None
    decommission_error: str | None = None  # the last failed decommission, retried
    decommission_failures: int = 0
    finalized_by: str | None = None
    finalized_at: datetime | None = None

    @property
    def all_replicated(self) -> bool:
        return all(self.assets.values())

    def evolve(self, **changes) -> "Workload":
        return replace(self, **changes)


@dataclass(frozen=True)
class Release:
    plan: Plan
    workloads: dict[str, Workload]
    access_revoked: bool = False
    seq: int = 0  # history entries written so far (next RowKey)
    seen: tuple[str, ...] = ()  # digests of the last SEEN_WINDOW message ids
    processed: int = 0  # messages recorded so far (tells whether `seen` still covers them all)
    archive: bytes = b""  # Bloom filter of the ids pushed out of `seen` (empty until the window overflows)
    archived: int = 0  # how many ids `archive` holds; it covers every pushed-out id iff == processed - len(seen)

    @property
    def name(self) -> str:
        return self.plan.release

    @property
    def model(self) -> str:
        return self.plan.model

    @property
    def started(self) -> bool:
        return self.processed > 0

    @property
    def state(self) -> ReleaseState:
        states = [w.state for w in self.workloads.values()]
        if "finalized" in states and all(s in ("finalized", "aborted") for s in states):
            return "finalized"
        states = ["promoted" if s == "finalized" else s for s in states]  # finalized is promoted, and more
        if all(s == "promoted" for s in states):
            return "promoted"
        if all(s in TERMINAL + ("rolled-back",) for s in states):
            if "rolled-back" in states:
                return "rolled-back"
            return "promoted" if "promoted" in states else "aborted"  # aborted workloads left the release
        if self.plan.approval == "manual":
            open_ = [w for w in self.workloads.values() if w.state not in TERMINAL]
            waiting = any(w.state == "ready" and not w.approved for w in open_)
            # staged: approval holds the release only once every workload still open is ready
            if waiting and (self.plan.model != "staged" or all(w.state == "ready" for w in open_)):
                return "awaiting-approval"
        return "in-progress"

    def evolve(self, **changes) -> "Release":
        return replace(self, **changes)


def new_release(plan: Plan) -> Release:
    return Release(plan=plan, workloads={
        w.name: Workload(name=w.name, assets={a: False for a in w.assets}) for w in plan.workloads})


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    event_id: str
    type: str
    outcome: Outcome
    reason: str
    workload: str | None
    from_state: str | None
    to_state: str | None
    traffic_percent: int | None
    actor: str | None = None
    flight: int | None = None
    source: str | None = None

    def to_json(self) -> dict:
        return {"at": self.at.isoformat().replace("+00:00", "Z"), "event_id": self.event_id, "type": self.type,
                "outcome": self.outcome, "reason": self.reason, "from": self.from_state, "to": self.to_state,
                "traffic_percent": self.traffic_percent, "actor": self.actor,
                "workload": self.workload, "flight": self.flight, "source": self.source}
