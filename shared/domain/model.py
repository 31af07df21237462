"""The persisted state of a release and its workloads. Plain, immutable data; decide() makes new copies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.plan import Plan


class WorkloadState(StrEnum):
    """A workload's state (the contract's names). A StrEnum: equal to its name as text, stored as text."""

    REPLICATING = "replicating"
    TESTING = "testing"
    READY = "ready"
    FLIGHTING = "flighting"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled-back"
    ABORTED = "aborted"
    FINALIZED = "finalized"  # v2 §8: promoted, hypercare over, source decommissioned (terminal)


class ReleaseState(StrEnum):
    IN_PROGRESS = "in-progress"
    AWAITING_APPROVAL = "awaiting-approval"
    PROMOTED = "promoted"
    ROLLED_BACK = "rolled-back"
    ABORTED = "aborted"
    FINALIZED = "finalized"


class GateName(StrEnum):
    """What holds a workload now (contract section 9's `waiting_for[].gate`)."""

    ASSETS = "assets"
    TESTS = "tests"
    APPROVAL = "approval"
    RELEASE = "release"
    BAKE = "bake"
    VERDICT = "verdict"
    DATA_SYNC = "data-sync"
    WINDOW = "window"
    AFTER = "after"
    PAUSED = "paused"
    RETRY = "retry"
    HYPERCARE = "hypercare"
    FINALIZE = "finalize"
    TTL = "ttl"  # v3 §17: a DNS switch waits until resolvers can no longer hold the record's old TTL
    REHEARSAL = "rehearsal"  # v3 §16: a passing rehearsal of this plan, recent enough, before the cutover
    MIGRATION_JOB = "migration-job"  # v3 §16: Azure Migrate's migrate job, before routing moves


class Op(StrEnum):
    """Where one Azure Migrate operation over a workload's machines stands (v3 §16): running from the decision
    that started it (its jobs were started before that commit), then succeeded or failed as the vault says.
    A workload keeps None for an operation never started (no property stored)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Outcome(StrEnum):
    """What became of a message that reached a release: exactly one of these, recorded in its history."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"


TERMINAL: tuple[WorkloadState, ...] = (WorkloadState.PROMOTED, WorkloadState.ABORTED, WorkloadState.FINALIZED)
SEEN_WINDOW = 512  # ids kept in the release row for duplicate checks without an extra read
ARCHIVE_BITS = 32_768  # a Bloom filter (4 KiB) of every id pushed out of the window: about 1 false positive
ARCHIVE_HASHES = 7  # in 100,000 lookups at 1,000 archived ids, 1 in 1,600 at 2,000, 1 in 50 at 4,000


def _bits(digest: str) -> list[int]:
    first, step = int(digest[:8], 16), int(digest[8:16], 16) | 1  # double hashing over the 64-bit digest
    return [(first + i * step) % ARCHIVE_BITS for i in range(ARCHIVE_HASHES)]


def archive_add(archive: bytes, digests: Iterable[str]) -> bytes:
    bits = bytearray(archive or bytes(ARCHIVE_BITS // 8))
    for d in digests:
        for b in _bits(d):
            bits[b >> 3] |= 1 << (b & 7)
    return bytes(bits)


def archive_may_contain(archive: bytes, digest: str) -> bool:
    """False: certainly not archived (a Bloom filter has no false negatives). True: archived, or rarely not."""
    return bool(archive) and all(archive[b >> 3] & (1 << (b & 7)) for b in _bits(digest))


def evolved(record: Any, changes: Mapping[str, Any]) -> Any:
    """dataclasses.replace(record, **changes) for a frozen dataclass without slots, without its __init__: the
    fields copied, the changes set, __post_init__ run again (its coercions). Unknown names fail as there."""
    unknown = changes.keys() - record.__dataclass_fields__.keys()
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {', '.join(sorted(unknown))}")
    made = object.__new__(type(record))
    made.__dict__.update(record.__dict__)
    made.__dict__.update(changes)
    post_init = getattr(made, "__post_init__", None)
    if post_init is not None:
        post_init()
    return made


@dataclass(frozen=True)
class Workload:
    name: str
    state: WorkloadState = WorkloadState.REPLICATING
    paused: bool = False
    assets: dict[str, bool] = field(default_factory=dict)  # asset -> replicated
    tests_passed: bool = False
    approved: bool = False  # the plan's approval quorum is reached (contract §1; v3 §19)
    approvals: list[dict] = field(default_factory=list)  # v3 §19: [{"by", "at"}] approvals counted so far
    operated_by: list[str] = field(default_factory=list)  # v3 §19: who paused, retried, ... it in this attempt
    flight: int = 0  # 1-based while flighting; 0 before the first flight
    traffic_percent: int = 0  # the share the router achieved
    flight_started_at: datetime | None = None
    healthy_flight: int = 0  # the flight a healthy verdict arrived for, after that flight began
    unhealthy: bool = False  # an alert or unhealthy verdict recorded while paused, acted on at resume
    attempt: int = 0  # retries after a rollback; part of timer ids
    paused_by: str | None = None  # who paused it (an actor, or "promote" for on_alert: pause)
    paused_at: datetime | None = None
    paused_reason: str | None = None  # the operator's reason (actor_reason), or the alert that paused it
    alert_while_paused: str | None = None  # the last alert or unhealthy verdict recorded while paused
    trouble_at: datetime | None = None  # when an alert or unhealthy verdict last voided a healthy verdict (pause)
    state_since: datetime | None = None  # when the workload entered its state: waiting periods count from here
    started_at: datetime | None = None  # when it first left its initial state: its duration counts from here
    deadline_fired: str = ""  # the waiting period (gates.WaitingPeriod.key) whose deadline fired: once a period
    window_opens_at: datetime | None = None  # the window opening a timer is scheduled for (none scheduled twice)
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
    # v3 §18: a decision Azure refused for good (or past the plan's retry.max): not carried out; `attention`
    stuck: str | None = None
    ttl_wait_until: datetime | None = None  # §17: the TTL lowered at apply + the old TTL (shared/domain/ttl.py)
    # v3 §16 (Azure Migrate; shared/domain/migration.py): the rehearsal's test migration, the test pipeline's
    # verdict and the test VMs' clean-up; the cutover's migration; its completion at finalize. Jobs: names.
    test_migration: Op | None = None
    test_job: str | None = None
    rehearsal_hash: str | None = None  # the plan hash the rehearsal was started for
    rehearsal_at: datetime | None = None  # when its test migration was started
    rehearsal_by: str | None = None
    rehearsal_verdict: str | None = None  # passed | failed
    rehearsal_note: str | None = None  # the verdict's suite and run, or why the rehearsal failed
    cleanup: Op | None = None
    cleanup_job: str | None = None
    migration: Op | None = None
    migration_at: datetime | None = None
    migration_job: str | None = None
    migration_error: str | None = None
    completion: Op | None = None
    completion_job: str | None = None

    def __post_init__(self) -> None:
        # decide() may say state="testing": the enum member is what is kept (and an unknown name fails here);
        # a member already is one (the common case: 20,000 evolutions in a move of 5,000 workloads)
        attributes = self.__dict__
        if attributes["state"].__class__ is not WorkloadState:
            object.__setattr__(self, "state", WorkloadState(attributes["state"]))
        for name in ("test_migration", "cleanup", "migration", "completion"):
            value = attributes[name]
            if value is not None and value.__class__ is not Op:
                object.__setattr__(self, name, Op(value))

    @property
    def flight_began(self) -> datetime:
        """When the current flight began; asked only of a workload in a flight."""
        if self.flight_started_at is None:
            raise ValueError(f"workload {self.name} is not in a flight")
        return self.flight_started_at

    @property
    def flight_trouble_at(self) -> datetime | None:
        """When an alert (or unhealthy verdict) voided a healthy verdict during the current flight; None if
        none did (trouble_at is kept across flights). Asked only of a workload in a flight."""
        return self.trouble_at if self.trouble_at is not None and self.trouble_at >= self.flight_began else None

    @property
    def all_replicated(self) -> bool:
        return all(self.assets.values())

    def __eq__(self, other: object) -> bool:
        # the fields' dicts, not the generated comparison of two tuples of fifty: a commit of a release-level
        # move compares 5,000 workloads with what they were, and they differ early (their state) or not at all
        if other.__class__ is not Workload:
            return NotImplemented
        return self.__dict__ == other.__dict__

    @staticmethod
    def of_fields(name: str, values: Mapping[str, Any]) -> Workload:
        """Workload(name=name, **values) without __init__'s fifty parameters (a fifth of its cost): a release
        read whole makes 5,000 of them from their rows. Unknown names fail as there; the rest take defaults."""
        unknown = values.keys() - _WORKLOAD_FIELDS
        if unknown:
            raise TypeError(f"Workload has no field {', '.join(sorted(unknown))}")
        made = object.__new__(Workload)
        attributes = made.__dict__
        attributes.update(WORKLOAD_DEFAULTS)
        for field_name, factory in _WORKLOAD_FACTORIES:
            if field_name not in values:
                attributes[field_name] = factory()
        attributes["name"] = name
        attributes.update(values)
        made.__post_init__()
        return made

    def evolve(self, **changes: Any) -> Workload:
        """dataclasses.replace without re-running __init__ over 50 fields: a release-level move evolves each of
        5,000 workloads several times (a third of its decision's CPU before). Unknown names fail as there."""
        if not changes.keys() <= _WORKLOAD_FIELDS:
            return evolved(self, changes)  # which raises, naming the unknown fields
        made = object.__new__(Workload)
        attributes = made.__dict__
        attributes.update(self.__dict__)
        attributes.update(changes)
        made.__post_init__()
        return made


_WORKLOAD_FIELDS = frozenset(f.name for f in fields(Workload))
# a field's default value, and the factory of those made fresh for each workload (a dict, a list)
WORKLOAD_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Workload) if f.default is not MISSING}
_WORKLOAD_FACTORIES = [(f.name, f.default_factory) for f in fields(Workload) if f.default_factory is not MISSING]


@dataclass(frozen=True)
class Tally:
    """What a release's state depends on, counted: kept per shard of a large release, so that its state and
    its counts are read without reading every workload."""

    states: tuple[tuple[WorkloadState, int], ...] = ()
    ready_unapproved: int = 0  # ready and not approved (open workloads only: ready is never terminal)

    @staticmethod
    def of(workloads: Iterable[Workload]) -> Tally:
        counts: dict[WorkloadState, int] = {}
        unapproved = 0
        for w in workloads:
            counts[w.state] = counts.get(w.state, 0) + 1
            unapproved += w.state == WorkloadState.READY and not w.approved
        return Tally(tuple(sorted(counts.items())), unapproved)

    def __add__(self, other: Tally) -> Tally:
        counts = dict(self.states)
        for state, n in other.states:
            counts[state] = counts.get(state, 0) + n
        return Tally(
            tuple(sorted((s, n) for s, n in counts.items() if n)), self.ready_unapproved + other.ready_unapproved
        )

    def count(self, *states: WorkloadState) -> int:
        return sum(n for s, n in self.states if s in states)


def release_state(model: str, approval: str | None, tally: Tally) -> ReleaseState:
    """A release's state from its workloads' counts (contract §3)."""
    S = WorkloadState
    total = tally.count(*S)
    done = tally.count(S.PROMOTED, S.FINALIZED)
    if tally.count(S.FINALIZED) and tally.count(S.FINALIZED, S.ABORTED) == total:
        return ReleaseState.FINALIZED
    if done == total:  # finalized is promoted, and more
        return ReleaseState.PROMOTED
    if tally.count(*TERMINAL, S.ROLLED_BACK) == total:
        if tally.count(S.ROLLED_BACK):
            return ReleaseState.ROLLED_BACK
        return ReleaseState.PROMOTED if done else ReleaseState.ABORTED  # aborted workloads left the release
    if approval == "manual" and tally.ready_unapproved:
        # staged: approval holds the release only once every workload still open is ready
        if model != "staged" or tally.count(S.READY) == total - tally.count(*TERMINAL):
            return ReleaseState.AWAITING_APPROVAL
    return ReleaseState.IN_PROGRESS


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
    revoke_error: str | None = None  # why the last revocation of access failed (retried until it succeeds)
    revoke_attempts: int = 0  # revocations of access that failed so far
    after_met: tuple[str, ...] = ()  # releases of the plan's `after` seen promoted (once met, the gate stays open)
    dependants: tuple[str, ...] = ()  # releases whose `after` names this one: told when it is promoted
    # v3 §19: while an operator's halt holds the release: who, why, when (ISO text: the release row is merged)
    halted_by: str | None = None
    halted_reason: str | None = None
    halted_at: str | None = None
    others: int = 0  # workloads of the plan not loaded (a partial release: one shard of a large one)

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
    def partial(self) -> bool:
        """Only some workloads are loaded (one shard, for a message about one workload): what depends on the
        whole release (its state, the staged move, revoking access, dependants) is not decided on it."""
        return self.others > 0

    @property
    def state(self) -> ReleaseState:
        assert not self.partial, "a release's state needs every workload"
        return release_state(self.plan.model, self.plan.approval_mode, Tally.of(self.workloads.values()))

    def evolve(self, **changes: Any) -> Release:
        return replace(self, **changes)


def new_release(plan: Plan, now: datetime | None = None, after_met: tuple[str, ...] = ()) -> Release:
    """A release as applied; `now` starts every workload's first waiting period (replicating)."""
    return Release(
        plan=plan,
        after_met=after_met,
        workloads={
            w.name: Workload(name=w.name, assets={a: False for a in w.assets}, state_since=now) for w in plan.workloads
        },
    )


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
    actor_reason: str | None = None  # the operator's own words with an override (clipped, else verbatim)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "event_id": self.event_id,
            "type": self.type,
            "outcome": self.outcome,
            "reason": self.reason,
            "from": self.from_state,
            "to": self.to_state,
            "traffic_percent": self.traffic_percent,
            "actor": self.actor,
            "workload": self.workload,
            "flight": self.flight,
            "source": self.source,
            "actor_reason": self.actor_reason,
        }
