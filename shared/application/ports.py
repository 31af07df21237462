"""The service's ports: small protocols with a local implementation each, and Azure ones in adapters/."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Release
from shared.domain.plan import Plan, RevokeAccess


@dataclass(frozen=True)
class Snapshot:
    """A release as read, with whatever the store needs to commit against it (ETags)."""

    release: Release
    version: Any


class ReleaseStore(Protocol):
    def create_release(self, release: Release) -> None:
        """Create the release and its workload rows; ReleaseExists if it is already there."""

    def get_release(self, name: str) -> Snapshot:
        """One read of the release and its workloads; UnknownRelease if it was never applied."""

    def seen_before(self, name: str, event_id: str) -> bool:
        """Whether a message id was recorded (only asked when the in-row window does not cover it)."""

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str) -> None:
        """Write state, history and the de-duplication marker at once; ConflictError if it changed."""

    def update_plan(self, snapshot: Snapshot, plan: Plan) -> None:
        """Replace the stored plan (approvers/operators changes); ConflictError if it changed."""

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        """History entries, oldest first."""

    def list_releases(self) -> list[str]:
        """Names of every release applied."""


class Router(Protocol):
    """Moves a workload's users. Idempotent: applying the share already in place writes nothing."""

    last_changes: list  # shared.domain.routing.Change: what the last apply() wrote; [] when nothing was written

    def apply(self, percent: int) -> int:
        """Route `percent` of users to the migrated system; return the share achieved."""

    def read(self) -> int:
        """The live share, read from the network itself (drift detection)."""

    def diff(self, percent: int) -> list:
        """What apply(percent) would change, read from the live resource; writes nothing."""


class RouterFactory(Protocol):
    def __call__(self, release: str, workload: str, routing: Any) -> Router: ...


class AccessRevoker(Protocol):
    def revoke(self, release: str, config: RevokeAccess) -> list:
        """Deny the migration team's access (idempotent); returns the changes made ([] if in place)."""


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
