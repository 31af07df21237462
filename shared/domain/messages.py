"""CloudEvents 1.0 envelopes (structured JSON mode) with a discriminated union on `type`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from shared.domain.envelope import NAME as _NAME
from shared.domain.envelope import PRINTABLE as _PRINTABLE
from shared.domain.envelope import Data as _Data
from shared.domain.envelope import Envelope as _Envelope
from shared.domain.envelope import LongText, Text
from shared.domain.envelope import printable as _printable
from shared.domain.errors import MessageError
from shared.domain.health import MAX_CHECKS, Cause, CheckResult
from shared.domain.names import is_name
from shared.domain.own_messages import (  # re-exported (X as X): promote's own messages are part of the union
    MAX_DEPENDENCY_RECHECKS as MAX_DEPENDENCY_RECHECKS,
)
from shared.domain.own_messages import (
    MAX_RETRIED_BODY as MAX_RETRIED_BODY,
)
from shared.domain.own_messages import (
    BakeElapsed as BakeElapsed,
)
from shared.domain.own_messages import (
    CompleteMigration as CompleteMigration,
)
from shared.domain.own_messages import (
    DeadlineData as DeadlineData,
)
from shared.domain.own_messages import (
    DeadlineDue as DeadlineDue,
)
from shared.domain.own_messages import (
    DecommissionDue as DecommissionDue,
)
from shared.domain.own_messages import (
    DecommissionRetry as DecommissionRetry,
)
from shared.domain.own_messages import (
    DependencyData as DependencyData,
)
from shared.domain.own_messages import (
    DependencyPromoted as DependencyPromoted,
)
from shared.domain.own_messages import (
    FinishTimerData as FinishTimerData,
)
from shared.domain.own_messages import (
    HypercareElapsed as HypercareElapsed,
)
from shared.domain.own_messages import (
    MessageRetry as MessageRetry,
)
from shared.domain.own_messages import (
    MigrationJob as MigrationJob,
)
from shared.domain.own_messages import (
    RehearsalCleanupDue as RehearsalCleanupDue,
)
from shared.domain.own_messages import (
    RetryData as RetryData,
)
from shared.domain.own_messages import (
    RevokeRetry as RevokeRetry,
)
from shared.domain.own_messages import (
    RevokeRetryData as RevokeRetryData,
)
from shared.domain.own_messages import (
    TimerData as TimerData,
)
from shared.domain.own_messages import (
    TtlData as TtlData,
)
from shared.domain.own_messages import (
    TtlElapsed as TtlElapsed,
)
from shared.domain.own_messages import (
    WindowData as WindowData,
)
from shared.domain.own_messages import (
    WindowOpens as WindowOpens,
)
from shared.domain.tracing import for_message

MAX_BODY_BYTES = 256 * 1024  # Service Bus Standard's message size limit
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
OVERRIDE_ACTIONS = (
    *("pause", "resume", "approve", "advance", "rollback", "abort", "retry", "finalize", "halt", "unhalt"),
    "rehearse",  # v3 §16: test-migrate into the plan's isolated network (operators)
)
APPROVER_ACTIONS = ("approve", "advance", "finalize", "unhalt")
RELEASE_ACTIONS = ("halt", "unhalt")  # of a whole release only (v3 §19)
TIMER_TYPE = "bake-elapsed"  # scheduled by promote itself; an extension of the contract's types
REVOKE_RETRY_TYPE = "revoke-access-retry"  # scheduled by promote after a failed revocation of access
LAG_TYPE = "replication-lag"  # v2 §8
HYPERCARE_TYPE = "hypercare-elapsed"  # scheduled by promote itself at promotion (v2 §8)
DECOMMISSION_RETRY_TYPE = "decommission-retry"  # scheduled by promote itself after a failed decommission
DECOMMISSION_TYPE = "decommission"  # sent by promote itself once a finalize request is committed (v3)
RETRY_TYPE = "message-retry"  # (v3 §18) a message whose effect Azure refused for a while, sent again later
TTL_TYPE = "ttl-elapsed"  # scheduled by promote itself: a DNS switch waited out the record's old TTL (v3 §17)
REHEARSAL_CLEANUP_TYPE = "rehearsal-cleanup"  # v3 §16: a rehearsal's cleanup_after is due
JOB_TYPE = "migration-job"  # v3 §16: what the vault says of an Azure Migrate operation (migrate_watch.py)
COMPLETE_TYPE = "complete-migration"  # v3 §16: sent by promote itself once a finalize is committed
EVENT_TYPES = (
    "asset-replicated",
    "tests-passed",
    "tests-failed",
    "flight-healthy",
    "flight-unhealthy",
    "alert",
    "override",
    "rehearsal-passed",
    "rehearsal-failed",
    LAG_TYPE,
    HYPERCARE_TYPE,
    DECOMMISSION_RETRY_TYPE,
    DECOMMISSION_TYPE,
    TIMER_TYPE,
    REVOKE_RETRY_TYPE,
    RETRY_TYPE,
    TTL_TYPE,
    REHEARSAL_CLEANUP_TYPE,
    JOB_TYPE,
    COMPLETE_TYPE,
)
INTERNAL_TYPES = (
    TIMER_TYPE,
    REVOKE_RETRY_TYPE,
    HYPERCARE_TYPE,
    DECOMMISSION_RETRY_TYPE,
    DECOMMISSION_TYPE,
    RETRY_TYPE,
    TTL_TYPE,
    REHEARSAL_CLEANUP_TYPE,
    JOB_TYPE,
    COMPLETE_TYPE,
)
PUBLIC_TYPES = tuple(t for t in EVENT_TYPES if t not in INTERNAL_TYPES)

# Also scheduled (or sent) by promote itself, re-decided on arrival like the bake timer (contract section 9):
DEADLINE_TYPE = "deadline"  # a waiting period's deadline is due (history type `deadline`)
WINDOW_TYPE = "window-open"  # the change window a held move waits for opens
DEPENDENCY_TYPE = "dependency-promoted"  # a release this one waits for (`after`) was promoted
TIME_TYPES = (DEADLINE_TYPE, WINDOW_TYPE, DEPENDENCY_TYPE)
SCHEDULED_TYPES = (TIMER_TYPE, *TIME_TYPES)


class AssetData(_Data):
    asset: str = Field(min_length=1, max_length=256)
    _p = field_validator("asset")(_printable)


class TestsData(_Data):
    suite: Text | None = None
    run: Text | None = None


class FlightData(_Data):
    flight: int = Field(ge=1, le=100)
    # (v2 §10) what a judge measured: promote's own judge fills these; any other judge may
    checks: list[CheckResult] | None = Field(default=None, max_length=MAX_CHECKS)
    evaluation: int | None = Field(default=None, ge=1)
    cause: Cause | None = None  # unhealthy: failed checks, or no data


class AlertData(_Data):
    severity: Text | None = None
    description: LongText | None = None


class OverrideData(_Data):
    # absent: every workload of the release (the one message type whose workload is optional)
    workload: str | None = Field(default=None, pattern=_NAME)  # type: ignore[assignment]
    action: Literal[OVERRIDE_ACTIONS]  # type: ignore[valid-type]
    actor: str = Field(min_length=1, max_length=256)
    reason: str = Field(min_length=1, max_length=1024)
    _p = field_validator("actor", "reason")(_printable)


class LagData(_Data):
    lag_seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600, allow_inf_nan=False, strict=True)  # no "5", no true
    asset: str | None = Field(default=None, min_length=1, max_length=256)
    _p = field_validator("asset")(_printable)


class AssetReplicated(_Envelope):
    type: Literal["asset-replicated"]
    data: AssetData


class TestsPassed(_Envelope):
    type: Literal["tests-passed"]
    data: TestsData


class TestsFailed(_Envelope):
    type: Literal["tests-failed"]
    data: TestsData


class FlightHealthy(_Envelope):
    type: Literal["flight-healthy"]
    data: FlightData


class FlightUnhealthy(_Envelope):
    type: Literal["flight-unhealthy"]
    data: FlightData


class Alert(_Envelope):
    type: Literal["alert"]
    data: AlertData


class Override(_Envelope):
    type: Literal["override"]
    data: OverrideData


class ReplicationLag(_Envelope):
    type: Literal["replication-lag"]
    data: LagData


class RehearsalPassed(_Envelope):  # v3 §16: the test pipeline's verdict on the rehearsal's test VMs
    type: Literal["rehearsal-passed"]
    data: TestsData


class RehearsalFailed(_Envelope):
    type: Literal["rehearsal-failed"]
    data: TestsData


Message = Annotated[
    AssetReplicated
    | TestsPassed
    | TestsFailed
    | FlightHealthy
    | FlightUnhealthy
    | Alert
    | Override
    | BakeElapsed
    | RevokeRetry
    | DeadlineDue
    | WindowOpens
    | DependencyPromoted
    | ReplicationLag
    | HypercareElapsed
    | DecommissionRetry
    | DecommissionDue
    | MessageRetry
    | TtlElapsed
    | RehearsalPassed
    | RehearsalFailed
    | RehearsalCleanupDue
    | MigrationJob
    | CompleteMigration,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter = TypeAdapter(Message)


PROMOTE_SOURCE = "promote/"  # every message promote sends itself has a source under this prefix
_OWN_IDS = "\x1f"  # never part of a validated id or type (control characters are refused)
# The types whose ids are the sender's own: de-duplicated by the id as sent (contract: the same id again is a
# duplicate). Every other type is promote's own (timers, retries, decommission, notices) or a judge's verdict,
# whose ids promote sets or a judge derives predictably (health.verdict_id).
SENDER_TYPES = ("asset-replicated", "tests-passed", "tests-failed", "alert", "override", LAG_TYPE)


def dedup_key(message: Any) -> str:
    """What a message is de-duplicated by: its id, and for promote's own types and the judges' verdicts its type
    too, in a namespace no sender's message reaches. The namespace is chosen by the type, never by `source`,
    which any sender writes: a message of another type cannot use up the id of promote's next timer, nor of
    the judge's next verdict (a `flight-healthy` cannot make the judge's `flight-unhealthy` a duplicate)."""
    if message.type in SENDER_TYPES:
        return str(message.id)
    return f"{_OWN_IDS}{message.type}{_OWN_IDS}{message.id}"


class Unparsed(BaseModel):
    """What could be read from a message that failed validation: enough to record it under its release."""

    id: str | None = None
    type: str | None = None
    release: str | None = None
    workload: str | None = None
    reason: str
    actor_reason: str | None = None  # an invalid override's own reason, recorded with its rejection


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        loc = ".".join(str(p) for p in error["loc"] if p not in EVENT_TYPES + TIME_TYPES)
        msg = error["msg"].removeprefix("Value error, ")
        if error["type"] == "union_tag_invalid":
            public = ", ".join(t for t in EVENT_TYPES if t not in INTERNAL_TYPES)
            msg = f"unknown type {_clip(error['input'].get('type'))}; expected one of: {public}"
        elif error["type"] == "union_tag_not_found":
            msg = "type is required"
        parts.append((f"{loc}: {msg}" if loc else msg)[:300])
    return "; ".join(parts)


def _clip(value: Any, limit: int = 80) -> str:
    """An input value echoed in a reason, cut short: reasons end up in history rows."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def parse_message(body: bytes | str) -> Message:
    """Bytes or text -> a validated message. Raises MessageError(with .unparsed) describing the first problems."""
    raw_bytes = body.encode() if isinstance(body, str) else bytes(body)
    if len(raw_bytes) > MAX_BODY_BYTES:
        raise _error(f"message is {len(raw_bytes)} bytes; the limit is {MAX_BODY_BYTES}", None)
    try:
        doc = json.loads(raw_bytes)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _error(f"not JSON: {exc}", None) from None
    except RecursionError:  # a few KB of '[': json.loads gives up at Python's recursion limit
        raise _error("not JSON: nested too deeply", None) from None
    if not isinstance(doc, dict):
        raise _error("a CloudEvents message is a JSON object", None)
    if doc.get("specversion") != "1.0":
        raise _error(f"specversion must be '1.0' (CloudEvents 1.0), got {_clip(doc.get('specversion'))}", doc)
    try:
        return _ADAPTER.validate_python(doc)
    except ValidationError as exc:
        raise _error(_describe(exc), doc) from None


def _error(reason: str, doc: dict | None) -> MessageError:
    error = MessageError(reason)
    error.unparsed = _salvage(doc, reason)  # type: ignore[attr-defined]
    return error


def _salvage(doc: dict | None, reason: str) -> Unparsed:
    doc = doc or {}
    raw = doc.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}

    def name(value: Any) -> str | None:
        return value if is_name(value) else None

    def text(value: Any) -> str | None:
        return value[:256] if isinstance(value, str) and _PRINTABLE.fullmatch(value[:256]) else None

    said = data.get("reason") if doc.get("type") == "override" else None
    said = said[:1024] if isinstance(said, str) and _PRINTABLE.match(said[:1024]) else None
    return Unparsed(
        id=text(doc.get("id")),
        type=text(doc.get("type")),
        release=name(data.get("release")),
        workload=name(data.get("workload")),
        reason=reason,
        actor_reason=said,
    )


def new_event(type_: str, data: dict[str, Any], *, id: str, source: str, time: datetime) -> dict:
    """A CloudEvents document (dict) ready to serialise, with its trace context (tracing.for_message)."""
    return {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type_,
        "time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        **for_message(data.get("release")),
        "data": {k: v for k, v in data.items() if v is not None},
    }
