"""Resource Manager plumbing shared by the Azure providers: credential, clients, waiting, errors.

Nothing here imports an Azure SDK at module import; providers pass in the client class they imported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from shared.domain.budget import Throttled
from shared.domain.errors import RoutingError

_lock = threading.Lock()
_credential: Any = None
_clients: dict[tuple, Any] = {}

T = TypeVar("T")
MAX_STALE_RETRIES = 3  # a write refused for a stale ETag is read, merged and tried again this often in all


class ArmSettings(Protocol):
    """What the Azure providers read of the settings (shared.application.config.Settings has it). A settings
    object may also carry `arm_credential`, used instead of DefaultAzureCredential (tests pass a fake)."""

    @property
    def arm_endpoint(self) -> str | None: ...


class StaleWrite(RoutingError):
    """412: the resource changed between promote's read and its write (If-Match refused)."""


class Busy(RoutingError):
    """409 AnotherOperationInProgress (or 429 RetryableErrorDueToAnotherOperation): the resource is locked by
    an operation in progress; waited out and tried again (`while_busy`), not a failure."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


BUSY_CODES = ("AnotherOperationInProgress", "RetryableErrorDueToAnotherOperation")
BUSY_BUDGET = 150.0  # seconds one attempt waits for a busy resource (the host's function timeout is 5 minutes)
BUSY_FIRST, BUSY_MAX = 5.0, 30.0  # the wait between tries without a Retry-After: doubling from, up to


_REASONS = {
    401: "not authenticated",
    403: "access denied",
    404: "not found",
    409: "conflict",
    412: "changed by someone else meanwhile",
    429: "throttled",
}


def credential(settings: ArmSettings) -> Any:
    """DefaultAzureCredential (managed identity on Azure), once per process.

    `settings.arm_credential`, when a settings object has one, is used instead (tests pass a fake).
    """
    given = getattr(settings, "arm_credential", None)
    if given is not None:
        return given
    global _credential
    with _lock:
        if _credential is None:
            from azure.identity import DefaultAzureCredential

            _credential = DefaultAzureCredential()
        return _credential


def client(client_class: type, settings: ArmSettings, subscription: str) -> Any:
    """A management client for `subscription`, cached per process, pointed at PROMOTE_ARM_ENDPOINT if set."""
    cred = credential(settings)
    endpoint = (settings.arm_endpoint or "").rstrip("/")
    key = (client_class, subscription, endpoint, cred)
    with _lock:
        if key not in _clients:
            options = {"base_url": endpoint, "credential_scopes": [f"{endpoint}/.default"]} if endpoint else {}
            _clients[key] = client_class(cred, subscription, **options)
        return _clients[key]


@contextmanager
def arm_errors(what: str, needs: str = "") -> Iterator[None]:
    """Turn an SDK failure into a RoutingError naming the resource (and, on 403, the permission it needs)."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code
        if status is None:  # a credential that could not get a token
            raise RoutingError(f"{what}: could not authenticate to Resource Manager: {_first_line(exc)}") from exc
        operation = _operation_error(exc)
        if operation is not None:  # a long-running operation that ended Failed or Canceled
            raise RoutingError(f"{what}: {operation}") from exc
        reason = f"{_REASONS.get(status, 'failed')} ({status})"
        hint = f"; the identity needs {needs}" if status == 403 and needs else ""
        code = getattr(getattr(exc, "error", None), "code", None)
        if status in (409, 429) and code in BUSY_CODES:
            raise Busy(f"{what}: {reason}: {_detail(exc)}", _retry_after(exc)) from exc
        if status == 429:
            raise Throttled(f"{what}: {reason}: {_detail(exc)}", _retry_after(exc)) from exc
        kind = StaleWrite if status == 412 else RoutingError
        raise kind(f"{what}: {reason}{hint}: {_detail(exc)}") from exc
    except AzureError as exc:
        raise RoutingError(f"{what}: {type(exc).__name__}: {_first_line(exc)}") from exc


def guarded(attempt: Callable[[], T]) -> T:
    """Run one read-modify-write (`attempt` reads, merges and writes with If-Match); when the write is refused
    because the resource changed in between (412), read and merge again, a bounded number of times."""
    for tries in range(1, MAX_STALE_RETRIES + 1):
        try:
            return attempt()
        except StaleWrite as exc:
            if tries == MAX_STALE_RETRIES:
                raise StaleWrite(f"{exc} (still changing after {tries} attempts; the redelivery tries again)") from exc
    raise AssertionError("unreachable")


def while_busy(
    attempt: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep, budget: float = BUSY_BUDGET
) -> T:
    """Run `attempt` (a read-modify-write); while the resource answers that another operation is in progress,
    wait (its Retry-After, else 5 s doubling to 30 s) and run it again, for `budget` seconds in all; then fail
    as a RoutingError (the message is redelivered and waits again)."""
    waited, delay = 0.0, BUSY_FIRST
    while True:
        try:
            return attempt()
        except Busy as exc:
            pause = exc.retry_after if exc.retry_after is not None else delay
            if waited + pause > budget:
                raise RoutingError(
                    f"{exc} (still busy after waiting {waited:.0f}s; the redelivery waits again)"
                ) from exc
            sleep(pause)
            waited, delay = waited + pause, min(delay * 2, BUSY_MAX)


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:  # an HTTP date: wait the usual delay instead
        return None


def if_match(etag: str | None) -> dict[str, Any]:
    """The request option that makes a write conditional on the version read: If-Match with its ETag, or,
    for a resource read as absent, If-None-Match: * (so one created meanwhile is not overwritten either)."""
    return {"headers": {"If-Match": etag}} if etag else {"headers": {"If-None-Match": "*"}}


def wait(poller: Any) -> Any:
    """Wait for a long-running operation (Azure-AsyncOperation polling is done by the SDK)."""
    return poller.result()


def text(value: Any) -> str:
    """An SDK enum member as the plain string Resource Manager sent ('Deny', not 'SecurityRuleAccess.DENY')."""
    return "" if value is None else str(getattr(value, "value", value))


def _operation_error(exc: Any) -> str | None:
    """'operation Failed/Canceled: code: message' from an Azure-AsyncOperation status body, else None."""
    response = getattr(exc, "response", None)
    if response is None or (getattr(exc, "status_code", None) or 0) >= 300:
        return None
    try:
        body = response.json()
    except Exception:  # not JSON: not an operation status
        return None
    if not isinstance(body, dict) or str(body.get("status", "")).lower() not in ("failed", "canceled", "cancelled"):
        return None
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    parts = [f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")]
    for detail in error.get("details") or []:
        if isinstance(detail, dict):
            parts.append(f"{detail.get('code', '')}: {detail.get('message', '')}".strip(": "))
    said = "; ".join(p for p in parts if p) or "no error given"
    codes = " ".join(str(d.get("code", "")) for d in [error, *(error.get("details") or [])] if isinstance(d, dict))
    if "supersed" in codes.lower() or "supersed" in said.lower():
        return f"the operation was canceled and superseded by another operation on the resource: {said}"
    state = "failed" if str(body["status"]).lower() == "failed" else "was canceled"
    return f"the operation {state}: {said}"


def _detail(exc: Any) -> str:
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "code", None):
        return f"{error.code}: {error.message}"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
