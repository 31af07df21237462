"""The messages promote sends itself (timers, retries, notices between releases): never a sender's, always under
the source `promote/...`. shared/domain/messages.py puts them in its union and re-exports them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.envelope import NAME as _NAME
from shared.domain.envelope import Data as _Data
from shared.domain.envelope import Envelope as _Envelope

MAX_RETRIED_BODY = 200_000  # characters of the message a retry carries (Service Bus holds 256 KiB)


class TimerData(_Data):
    flight: int = Field(ge=1, le=100)
    attempt: int = Field(ge=0)
    started_ms: int = Field(ge=0)  # the flight instance (its start, epoch ms) the timer belongs to


class RevokeRetryData(_Data):
    workload: str | None = Field(default=None, pattern=_NAME)  # type: ignore[assignment]  # release-wide
    attempt: int = Field(ge=1)


class DeadlineData(_Data):
    period: str = Field(min_length=1, max_length=64)  # the waiting period (gates.WaitingPeriod.key) it is for


class WindowData(_Data):
    opens_ms: int = Field(ge=0, le=253_402_300_799_999)  # the opening (epoch ms, at most year 9999) it is for


MAX_DEPENDENCY_RECHECKS = 3  # machine.DEPENDENCY_RECHECKS


class DependencyData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    release: str = Field(pattern=_NAME)  # the waiting release (the message's session)
    workload: None = None  # release-wide: every workload of the release is re-evaluated
    dependency: str = Field(pattern=_NAME)  # the release named in `after` that was promoted
    # The dependency's state as the service read it from the store when handling the message; whatever the
    # message itself claims is replaced, so only a really promoted release opens the gate.
    state: str | None = Field(default=None, max_length=32)
    # 0: the notice the dependency's decision sent; 1-3: the waiting release looking again by itself, because
    # the notice read the dependency before its promotion was committed (machine.DEPENDENCY_RECHECKS)
    recheck: int = Field(default=0, ge=0, le=MAX_DEPENDENCY_RECHECKS, strict=True)


class FinishTimerData(_Data):
    attempt: int = Field(ge=0)
    promoted_ms: int = Field(ge=0)  # the promotion (its instant, epoch ms) the timer belongs to


class TtlData(_Data):
    until_ms: int = Field(ge=0, le=253_402_300_799_999)  # the wait (Workload.ttl_wait_until, epoch ms) it is for


class BakeElapsed(_Envelope):
    type: Literal["bake-elapsed"]
    data: TimerData


class RevokeRetry(_Envelope):
    type: Literal["revoke-access-retry"]
    data: RevokeRetryData


class DeadlineDue(_Envelope):
    type: Literal["deadline"]
    data: DeadlineData


class WindowOpens(_Envelope):
    type: Literal["window-open"]
    data: WindowData


class DependencyPromoted(_Envelope):
    type: Literal["dependency-promoted"]
    data: DependencyData


class HypercareElapsed(_Envelope):
    type: Literal["hypercare-elapsed"]
    data: FinishTimerData


class DecommissionRetry(_Envelope):
    type: Literal["decommission-retry"]
    data: FinishTimerData


class DecommissionDue(_Envelope):
    type: Literal["decommission"]
    data: FinishTimerData


class RetryData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    release: str = Field(pattern=_NAME)  # the release of the message it carries (its session)
    workload: str | None = Field(default=None, pattern=_NAME)
    attempt: int = Field(ge=1, le=10_000)  # attempts that failed so far
    # when the first one failed (epoch ms, at most year 9999: read back as a datetime): retry.max counts from it
    first_ms: int = Field(ge=0, le=253_402_300_799_999)
    body: str = Field(min_length=2, max_length=MAX_RETRIED_BODY)  # the message, as it came


class MessageRetry(_Envelope):
    type: Literal["message-retry"]
    data: RetryData


class TtlElapsed(_Envelope):
    type: Literal["ttl-elapsed"]
    data: TtlData


# -- v3 §16: Azure Migrate ----------------------------------------------------------------------------------
MIGRATE_OPS = ("test-migrate", "test-migrate-cleanup", "migrate", "complete-migration")
MAX_JOB_TEXT = 2000  # characters of a migration-job report's job names and error (the watcher cuts longer ones)


class RehearsalCleanupData(_Data):
    started_ms: int = Field(ge=0)  # the rehearsal (its start, epoch ms) whose test VMs are due to go


class JobData(_Data):
    """What the vault says of one Azure Migrate operation over a workload's machines (shared/application/
    migrate_watch.py reads it): still running (its jobs named), or over."""

    op: Literal[MIGRATE_OPS]  # type: ignore[valid-type]
    started_ms: int = Field(ge=0)  # the operation (when it was decided, epoch ms) this is about
    state: Literal["running", "succeeded", "failed"]
    job: str | None = Field(default=None, max_length=MAX_JOB_TEXT)  # the Site Recovery job name(s), comma-separated
    error: str | None = Field(default=None, max_length=MAX_JOB_TEXT)


class CompletionData(_Data):
    finalized_ms: int = Field(ge=0)  # the finalize (its instant, epoch ms) whose migration is completed


class RehearsalCleanupDue(_Envelope):
    type: Literal["rehearsal-cleanup"]
    data: RehearsalCleanupData


class MigrationJob(_Envelope):
    type: Literal["migration-job"]
    data: JobData


class CompleteMigration(_Envelope):
    type: Literal["complete-migration"]
    data: CompletionData
