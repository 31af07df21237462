"""What decide() asks the service to do before it commits, and the Decision that carries them.

Effects are carried out first and are idempotent; the commit comes last. Four kinds: move users
(`SetTraffic`), send a message later (`Schedule`: every timer promote sets is one), revoke the migration
team's access (`RevokeAccess`) and turn a source off (`Decommission`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.finishing import DecommissionTarget
from shared.domain.migration import AzureMigrate
from shared.domain.model import HistoryEntry, Outcome, Release
from shared.domain.plan import RevokeAccess as RevokeAccessConfig


@dataclass(frozen=True)
class SetTraffic:
    workload: str
    percent: int  # the share the state records; the router must achieve exactly this
    routing: Any  # the workload's plan.Routing


@dataclass(frozen=True)
class Schedule:
    """A message promote sends itself at `due` (a bake, deadline, window, hypercare or retry timer), or now to
    a release that waits for this one (`release` set). Re-decided on arrival: a stale one changes nothing."""

    type: str
    data: dict[str, Any]  # the message's data besides `release`
    due: datetime
    key: str  # with the type, release and workload: the message id (deterministic for one decision)
    release: str | None = None  # another release's stream; None: this release

    def event_id(self, release: str) -> str:
        return schedule_id(self.type, self.release or release, self.data.get("workload"), self.key)


def schedule_id(type_: str, release: str, workload: str | None, key: str) -> str:
    """The id of every message promote schedules: deterministic for one decision, so scheduling it twice is
    one message (de-duplicated); a decision made again after a crash has another instant in `key`."""
    return f"{type_}:{release}:{workload or '~'}:{key}"


@dataclass(frozen=True)
class RevokeAccess:
    config: RevokeAccessConfig


@dataclass(frozen=True)
class Decommission:
    """Turn the workload's source system off (idempotent); carried out before the commit."""

    workload: str
    target: DecommissionTarget
    assets: tuple[str, ...]
    actor: str  # who finalized (the approver, or `promote` with approval: auto)
    attempt: int  # the promotion attempt: part of the webhook's CloudEvent id


Effect = SetTraffic | Schedule | RevokeAccess | Decommission | AzureMigrate  # the last: v3 §16

# When outcomes combine (a release-wide message over several workloads), the first of these present wins.
OUTCOME_RANK = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.IGNORED)


@dataclass(frozen=True)
class Decision:
    release: Release
    entries: list[HistoryEntry]
    effects: list[Effect] = field(default_factory=list)
    remember: bool = True  # record the message id (False: an id that was never validated or trusted)
    notices: list = field(default_factory=list)  # shared.domain.notices.Notice: the outbox row of this commit
    quiet: list[HistoryEntry] = field(default_factory=list)  # outcomes kept on the marker row, not in history

    @property
    def outcome(self) -> Outcome:
        """The message's outcome; a release-wide override is `applied` if it applied to any workload."""
        outcomes = {e.outcome for e in [*self.entries, *self.quiet]}
        return next((o for o in OUTCOME_RANK if o in outcomes), Outcome.IGNORED)

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(e.reason for e in [*self.entries, *self.quiet]))


def digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]
