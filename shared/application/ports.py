"""The service's ports: small protocols with a local implementation each, and Azure ones in adapters/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Release
from shared.domain.plan import Plan, RevokeAccess
from shared.domain.routing import Change


@dataclass(frozen=True)
class Snapshot:
    """A release as read, with whatever the store needs to commit against it (ETags)."""

    release: Release
    version: Any
    # Whether the release's window of message ids (release.seen) covers every id the release recorded. A release
    # kept in several shards keeps each shard's workloads' ids apart (and its own), so an id recorded in another
    # scope is only known from its marker.
    one_scope: bool = True


class ReleaseStore(Protocol):
    def create_release(self, release: Release) -> None:
        """Create the release and its workload rows; ReleaseExists if it is already there."""

    def get_release(self, name: str, workload: str | None = None, *, whole: bool = True) -> Snapshot:
        """One read of the release and its workloads; UnknownRelease if it was never applied. `workload`: the
        message's workload, whose scope (its shard) keeps the message's id. `whole=False`: only that workload's
        shard when the release has several (a partial release: `release.partial`)."""

    def look(self, snapshot: Snapshot) -> tuple[Any, list[Any]]:
        """The release state the release record knows and the facts (machine.scope.ShardFacts) of every shard
        but the snapshot's own: one read of their summaries."""

    def catch_up(self, snapshot: Snapshot) -> bool:
        """Bring shards that lag a committed release-wide decision up to it (after a crash); whether any did."""

    def seen_before(self, name: str, event_id: str) -> bool:
        """Whether a message's de-duplication key (messages.dedup_key) was recorded (only asked when the in-row
        window does not cover it)."""

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str | None, now: datetime | None = None) -> None:
        """Write state, history and (for a de-duplication key, not None) its marker; ConflictError if anything
        read changed since the snapshot; SeenElsewhere if the key was recorded in another scope."""

    def update_plan(self, snapshot: Snapshot, plan: Plan, entry: HistoryEntry | None = None) -> None:
        """Replace the stored plan (a safe amend, v3 §19) and record `entry`, what changed, in the release's
        history at once; ConflictError if it changed."""

    def archive_release(self, snapshot: Snapshot, entry: HistoryEntry) -> bool:
        """Hide a finished release from lists and the board (kept in storage) and record `entry` in its history
        at once; False if it was archived already; ConflictError if it changed."""

    def add_dependant(self, snapshot: Snapshot, dependant: str) -> None:
        """Note a release that waits for this one (`after`) in its release row; ConflictError if it changed."""

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        """History entries, oldest first."""

    def list_releases(self) -> list[str]:
        """Names of every release applied."""

    def get_halt(self) -> dict | None:
        """The halt of everything (`promote halt` without --release): {by, reason, at}, or None."""

    def set_halt(self, halt: dict | None) -> None:
        """Start (a dict) or lift (None) the halt of everything: new releases start halted while it holds."""


class Router(Protocol):
    """Moves a workload's users. Idempotent: applying the share already in place writes nothing."""

    def apply(self, percent: int) -> list[Change]:
        """Route exactly `percent` of all the resource's traffic to the migrated system; return the changes
        written ([] when already in place). RoutingError, before writing anything, if that share cannot be had."""

    def read(self) -> int:
        """The live (true) share, read from the network itself (drift detection)."""

    def diff(self, percent: int) -> list[Change]:
        """What apply(percent) would change, read from the live resource; writes nothing."""

    def problems(self, percents: list[int]) -> list[str]:
        """Why apply() would refuse any of `percents` (foreign members, ...), read live; writes nothing."""


class RouterFactory(Protocol):
    def __call__(self, release: str, workload: str, routing: Any) -> Router: ...


class AccessRevoker(Protocol):
    def revoke(self, release: str, config: RevokeAccess) -> list[Change]:
        """Deny the migration team's access (idempotent); returns the changes made ([] if in place)."""

    def problems(self, release: str, config: RevokeAccess) -> list[str]:
        """Why revoke() would be refused (a rule of the group holds the priority), read live; writes nothing."""


class Decommissioner(Protocol):
    """Turns a workload's source system off (v2 §8). Idempotent: a source already off is not touched."""

    def decommission(self, release: str, request: Any) -> list:
        """Carry out a machine.Decommission; return the changes made ([] if all was off already).
        Raises on failure (the service records it, keeps the workload promoted and retries later)."""


class Scheduler(Protocol):
    def schedule(self, event: dict, due: datetime) -> None:
        """Deliver the CloudEvents document `event` at `due` (idempotent per event id)."""


class Publisher(Protocol):
    def publish(self, event: dict) -> None:
        """Send one CloudEvents document to the release's ordered stream."""


class DeadLetters(Protocol):
    def dead_letter(self, body: bytes, reason: str) -> None:
        """Keep a message that cannot be handled, with its reason (never drop it)."""


class Clock(Protocol):
    def now(self) -> datetime: ...


# -- notifications (contract §11) ---------------------------------------------------------------
@dataclass(frozen=True)
class OutboxItem:
    """One outbox row: the notices of one committed message and the targets to tell, with delivery progress."""

    release: str
    key: str  # the row's sequence key within the release (stable across status changes)
    status: str  # pending | sent | failed
    notices: list[dict]  # Notice.to_json()
    targets: list[dict]  # {"kind", "url_setting", "on"}
    sent: frozenset[str]  # "<notice id>@<target index>" already delivered
    attempts: int
    next_attempt: datetime
    last_error: str | None
    version: Any = None  # whatever the outbox needs to update the row safely (ETag)

    def deliveries(self) -> list[tuple[dict, int, dict]]:
        """(notice, target index, target) for every notice each target listens for."""
        return [(n, i, t) for n in self.notices for i, t in enumerate(self.targets) if n["kind"] in t["on"]]


class Outbox(Protocol):
    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Pending rows whose next attempt is due, oldest first (across releases)."""

    def record(
        self,
        item: OutboxItem,
        *,
        sent: frozenset[str],
        status: str,
        attempts: int,
        next_attempt: datetime,
        last_error: str | None,
    ) -> None:
        """Save delivery progress; ConflictError if another deliverer changed the row first."""

    def list_release(self, release: str) -> list[OutboxItem]:
        """Every outbox row of a release (sent, pending, failed), oldest first."""


class Notifier(Protocol):
    def send(self, url: str, notice: dict, *, target: dict) -> None:
        """Deliver one notice to `url`; raise DeliveryError (never naming the URL) if it was not accepted."""


class MetricsSource(Protocol):
    """(v2 §10) Reads a workload's health checks for one evaluation window: one Monitor call per check at most
    (metrics of one resource batched). A failed, throttled or partial read is a Reading with an `error`."""

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict:
        """Check name -> shared.domain.health.Reading."""


class JudgeStore(Protocol):
    """The judge's own per-workload evaluation records, apart from the release's lifecycle rows."""

    def load(self, release: str) -> dict:
        """Workload -> JudgeRecord, in one read."""

    def save(self, release: str, record: Any) -> Any:
        """Write a record guarded by its ETag (created if it has none); the saved record, with its new ETag.
        ConflictError if another judge wrote it first."""
