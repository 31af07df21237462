"""Whether a failure of an effect (a routing change, above all) is worth retrying later, and for how long.

Azure's own transient states last seconds to minutes: throttling (429), a resource busy with another
operation (409 AnotherOperationInProgress, an Application Gateway being updated), a server error (5xx), a
network failure, a 403 while a new role assignment propagates. Those are retried, by a message promote sends
itself later (the session is not held). A refusal that will not change by waiting (400 bad request, 404 gone,
a provider that will not realise a share because of members the plan does not name) stops at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from shared.domain import messages as m
from shared.domain.actors import Principal
from shared.domain.errors import MessageError

if TYPE_CHECKING:
    from shared.application.override_proof import OverrideProofs

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
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )
    from azure.servicebus import exceptions as sb

    # Service Bus's transient errors (the SDK's retryable ones) are no HttpResponseError: an entity throttled
    # (ServerBusy), a connection or an operation that timed out. Its 401/403 counts as a role propagating.
    service_bus_busy = (sb.ServiceBusServerBusyError, sb.ServiceBusConnectionError, sb.ServiceBusCommunicationError,
                        sb.OperationTimeoutError)  # fmt: skip
    service_bus_denied = (sb.ServiceBusAuthorizationError, sb.ServiceBusAuthenticationError)
    reason = " ".join(str(exc).split()) or type(exc).__name__
    for link in _chain(exc):
        if isinstance(link, HttpResponseError) and link.status_code is not None:
            status = int(link.status_code)
            if status == 403:
                return Failure(failing_for < PROPAGATION, reason, status)
            return Failure(status in TRANSIENT_STATUS, reason, status)
        if isinstance(link, ClientAuthenticationError):  # no token (the identity endpoint did not answer): as a 403
            return Failure(failing_for < PROPAGATION, reason)
        if isinstance(link, service_bus_denied):
            return Failure(failing_for < PROPAGATION, reason)
        if isinstance(link, ServiceRequestError | ServiceResponseError | ConnectionError | TimeoutError):
            return Failure(True, reason)
        if isinstance(link, service_bus_busy):
            return Failure(True, reason)
    return Failure(False, reason)


# A retry is a Service Bus message of its own: the message it carries, escaped again as a JSON string (a quote
# or a control character grows, a non-ASCII one becomes \uXXXX), in an envelope. Service Bus Standard holds
# 256 KiB, properties included (promote's: the CloudEvents attributes, session and message ids, under 2 KiB).
RETRY_MESSAGE_LIMIT = 256 * 1024 - 8 * 1024


def fits(event: dict) -> bool:
    """Whether a message promote sends itself fits in a Service Bus message, as the adapter serialises it."""
    return len(json.dumps(event, separators=(",", ":")).encode()) <= RETRY_MESSAGE_LIMIT


def retry_delay(attempt: int) -> timedelta:
    """Before attempt `attempt + 1` (30 s, doubling, at most 5 min)."""
    return min(RETRY_FIRST * 2 ** min(attempt - 1, 10), RETRY_LONGEST)


def carried_message(
    message: m.Message, body: bytes, principal: Principal | None, proofs: OverrideProofs | None, need_principal: bool
) -> tuple[str | None, str]:
    """The message a retry carries, with the trust it was decided with: an override the endpoint handed over with
    its principal gets the endpoint's proof (override_proof.py), with which the retry, sent on the topic where
    anyone may send, is decided. (None, why) when that trust cannot be carried."""
    if principal is None or not isinstance(message, m.Override):
        return body.decode(), ""  # a proof the message came with is in its body, carried as it is
    if proofs is not None:
        return json.dumps(proofs.sign(json.loads(body), principal), separators=(",", ":")), ""
    if not need_principal:
        return body.decode(), ""  # the actor it names is trusted as named
    return None, "its retry could not carry the endpoint's proof (no override key is set); send it again"


def nested_retry(message: m.MessageRetry) -> MessageError:
    """A message-retry carried by another (anyone may send one; no rule decides it): refused like an invalid
    message, and recorded under its release."""
    error = MessageError("a message-retry may not carry another message-retry")
    error.unparsed = m.Unparsed(  # type: ignore[attr-defined]
        id=message.id, type=message.type, release=message.data.release, workload=message.data.workload,
        reason=str(error),
    )  # fmt: skip
    return error
