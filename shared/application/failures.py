"""Whether a failure of an effect (a routing change, above all) is worth retrying later, and for how long.

Azure's own transient states last seconds to minutes: throttling (429), a resource busy with another
operation (409 AnotherOperationInProgress, an Application Gateway being updated), a server error (5xx), a
network failure, a 403 while a new role assignment propagates. Those are retried, by a message promote sends
itself later (the session is not held). A refusal that will not change by waiting (400 bad request, 404 gone,
a provider that will not realise a share because of members the plan does not name) stops at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

TRANSIENT_STATUS = frozenset({408, 409, 412, 429, 500, 502, 503, 504})
PROPAGATION = timedelta(minutes=30)  # a 403 this long after the first failure is a missing role, not propagation
RETRY_FIRST = timedelta(seconds=30)
RETRY_LONGEST = timedelta(minutes=5)


@dataclass(frozen=True)
class Failure:
    transient: bool
    reason: str  # what failed, as history shows it
    status: int | None = None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return seen


def classify(exc: BaseException, *, failing_for: timedelta = timedelta(0)) -> Failure:
    """`failing_for`: how long this effect has been failing already (a 403 is retried within PROPAGATION)."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    reason = " ".join(str(exc).split()) or type(exc).__name__
    for link in _chain(exc):
        if isinstance(link, HttpResponseError) and link.status_code is not None:
            status = int(link.status_code)
            if status == 403:
                return Failure(failing_for < PROPAGATION, reason, status)
            return Failure(status in TRANSIENT_STATUS, reason, status)
        if isinstance(link, ServiceRequestError | ServiceResponseError | ConnectionError | TimeoutError):
            return Failure(True, reason)
    return Failure(False, reason)


def retry_delay(attempt: int) -> timedelta:
    """Before attempt `attempt + 1` (30 s, doubling, at most 5 min)."""
    return min(RETRY_FIRST * 2 ** min(attempt - 1, 10), RETRY_LONGEST)
