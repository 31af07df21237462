"""Resource Manager plumbing (shared/adapters/routing/_arm.py): the exact error an operator reads for each
answer Azure gives, the waits for a busy resource and a stale write, and how clients are built and kept."""

from __future__ import annotations

import json
from enum import Enum

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import Busy, StaleWrite
from shared.domain.budget import Throttled
from shared.domain.errors import RoutingError


class Response:
    """An HTTP response as azure-core's HttpResponseError reads it (status, reason, headers, body)."""

    def __init__(self, status: int, body: object = None, headers: dict | None = None):
        self.status_code, self.reason, self.headers = status, "Reason", headers or {}
        self._text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))

    def text(self) -> str:
        return self._text

    def json(self):
        return json.loads(self._text)


def arm_error(status: int, code: str = "", message: str = "", headers: dict | None = None) -> HttpResponseError:
    body = {"error": {"code": code, "message": message}} if code else None
    return HttpResponseError(response=Response(status, body, headers))  # type: ignore[arg-type]


def raised(exc: BaseException, needs: str = "") -> RoutingError:
    with pytest.raises(RoutingError) as caught:
        with _arm.arm_errors("route table rt-1", needs):
            raise exc
    return caught.value


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (401, "not authenticated (401)"),
        (403, "access denied (403)"),
        (404, "not found (404)"),
        (409, "conflict (409)"),
        (500, "failed (500)"),
    ],
)
def test_a_refusal_names_the_resource_the_status_and_azures_code(status, said):
    error = raised(arm_error(status, "SomeCode", "what Azure said"))
    assert type(error) is RoutingError
    assert str(error) == f"route table rt-1: {said}: SomeCode: what Azure said"


def test_access_denied_names_the_permission_the_identity_needs():
    error = raised(arm_error(403, "AuthorizationFailed", "no"), needs="Microsoft.Network/routeTables/write")
    assert str(error) == (
        "route table rt-1: access denied (403); the identity needs Microsoft.Network/routeTables/write: "
        "AuthorizationFailed: no"
    )
    # only a 403 says what is needed
    assert (
        str(raised(arm_error(404, "NotFound", "gone"), needs="x"))
        == "route table rt-1: not found (404): NotFound: gone"
    )


def test_a_stale_write_is_its_own_error():
    error = raised(arm_error(412, "PreconditionFailed", "etag"))
    assert type(error) is StaleWrite
    assert str(error) == "route table rt-1: changed by someone else meanwhile (412): PreconditionFailed: etag"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (409, "AnotherOperationInProgress"),
        (429, "RetryableErrorDueToAnotherOperation"),
        (409, "RetryableErrorDueToAnotherOperation"),
    ],
)
def test_a_resource_busy_with_another_operation_is_busy_with_its_retry_after(status, code):
    error = raised(arm_error(status, code, "wait", headers={"Retry-After": "12"}))
    assert type(error) is Busy and error.retry_after == 12.0
    reason = "conflict" if status == 409 else "throttled"
    assert str(error) == f"route table rt-1: {reason} ({status}): {code}: wait"
    assert raised(arm_error(status, code, "wait")).retry_after is None  # type: ignore[attr-defined]


def test_a_conflict_that_is_not_busy_is_a_plain_failure():
    error = raised(arm_error(409, "InUseSubnetCannotBeDeleted", "in use", headers={"Retry-After": "3"}))
    assert type(error) is RoutingError


def test_a_throttled_request_is_throttled_with_its_retry_after():
    error = raised(arm_error(429, "SubscriptionRequestsThrottled", "slow down", headers={"Retry-After": "30"}))
    assert type(error) is Throttled and error.retry_after == 30.0
    assert str(error) == "route table rt-1: throttled (429): SubscriptionRequestsThrottled: slow down"


@pytest.mark.parametrize(
    ("value", "seconds"), [("5", 5.0), ("0.5", 0.5), ("", None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)]
)
def test_retry_after_is_seconds_or_nothing(value, seconds):
    error = raised(arm_error(429, "TooManyRequests", "x", headers={"Retry-After": value}))
    assert error.retry_after == seconds  # type: ignore[attr-defined]


def test_without_azures_error_body_the_first_line_of_the_message_is_shown():
    exc = HttpResponseError(message="first line\nsecond line", response=Response(500, "not json"))  # type: ignore[arg-type]
    assert str(raised(exc)) == "route table rt-1: failed (500): first line"


def test_a_token_that_could_not_be_had_says_so():
    error = raised(ClientAuthenticationError("DefaultAzureCredential failed\nEnvironmentCredential: ..."))
    assert type(error) is RoutingError
    assert str(error) == "route table rt-1: could not authenticate to Resource Manager: DefaultAzureCredential failed"


def test_a_connection_failure_names_its_kind():
    error = raised(ServiceRequestError("connection refused\ndetails"))
    assert str(error) == "route table rt-1: ServiceRequestError: connection refused"
    assert str(raised(ServiceRequestError(""))) == "route table rt-1: ServiceRequestError: ServiceRequestError"


def operation(body: object) -> HttpResponseError:
    """What the SDK raises when a long-running operation's status (answered 200) ends Failed or Canceled."""
    return HttpResponseError(message="operation ended", response=Response(200, body))  # type: ignore[arg-type]


def test_a_failed_operation_says_what_failed_with_every_detail():
    body = {
        "status": "Failed",
        "error": {
            "code": "InternalServerError",
            "message": "boom",
            "details": [{"code": "Inner", "message": "why"}, "not a dict", {"message": "only a message"}],
        },
    }
    assert str(raised(operation(body))) == (
        "route table rt-1: the operation failed: InternalServerError: boom; Inner: why; only a message"
    )


@pytest.mark.parametrize("status", ["Canceled", "cancelled", "CANCELED"])
def test_a_canceled_operation_says_so(status):
    body = {"status": status, "error": {"code": "OperationCanceled", "message": "stopped"}}
    assert str(raised(operation(body))) == "route table rt-1: the operation was canceled: OperationCanceled: stopped"


def test_an_operation_superseded_by_another_says_so():
    by_code = {"status": "Canceled", "error": {"code": "CanceledAndSupersededDueToAnotherOperation", "message": "x"}}
    assert str(raised(operation(by_code))) == (
        "route table rt-1: the operation was canceled and superseded by another operation on the resource: "
        "CanceledAndSupersededDueToAnotherOperation: x"
    )
    by_text = {"status": "Failed", "error": {"code": "Canceled", "message": "Superseded by a newer PUT"}}
    assert str(raised(operation(by_text))) == (
        "route table rt-1: the operation was canceled and superseded by another operation on the resource: "
        "Canceled: Superseded by a newer PUT"
    )
    in_detail = {"status": "Failed", "error": {"code": "X", "details": [{"code": "SupersededByNewer"}]}}
    assert "superseded by another operation" in str(raised(operation(in_detail)))


def test_an_operation_that_failed_without_saying_why():
    assert str(raised(operation({"status": "Failed"}))) == "route table rt-1: the operation failed: no error given"
    assert str(raised(operation({"status": "Failed", "error": "text"}))) == (
        "route table rt-1: the operation failed: no error given"
    )


def test_an_answer_that_is_no_failed_operation_is_a_plain_failure():
    assert str(raised(operation({"status": "Succeeded"}))).startswith("route table rt-1: failed (200): ")
    assert str(raised(operation(["Failed"]))).startswith("route table rt-1: failed (200): ")
    assert str(raised(operation("not json"))).startswith("route table rt-1: failed (200): ")
    # a failure status (>= 300) is never read as an operation's, whatever its body
    refused = HttpResponseError(message="no", response=Response(300, {"status": "Failed"}))  # type: ignore[arg-type]
    assert str(raised(refused)) == "route table rt-1: failed (300): no"
    assert str(raised(HttpResponseError(message="no", response=Response(299, {"status": "Failed"})))) == (  # type: ignore[arg-type]
        "route table rt-1: the operation failed: no error given"
    )


def test_a_stale_write_is_read_and_merged_again_three_times_in_all():
    calls = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StaleWrite("route table rt-1: changed")
        return "written"

    assert _arm.guarded(attempt) == "written" and len(calls) == 3

    def always() -> str:
        calls.append(1)
        raise StaleWrite("route table rt-1: changed")

    calls.clear()
    with pytest.raises(StaleWrite) as error:
        _arm.guarded(always)
    assert len(calls) == 3
    assert str(error.value) == "route table rt-1: changed (still changing after 3 attempts; the redelivery tries again)"


def test_a_busy_resource_is_waited_out_doubling_from_5_to_30_seconds_within_150():
    slept: list[float] = []

    def busy() -> str:
        raise Busy("route table rt-1: conflict (409): AnotherOperationInProgress: wait")

    with pytest.raises(RoutingError) as error:
        _arm.while_busy(busy, sleep=slept.append)
    assert slept == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]  # 125 s; 30 more would pass 150
    assert type(error.value) is RoutingError
    assert str(error.value) == (
        "route table rt-1: conflict (409): AnotherOperationInProgress: wait "
        "(still busy after waiting 125s; the redelivery waits again)"
    )


def test_a_busy_resource_waits_its_retry_after_up_to_the_budget_exactly():
    slept: list[float] = []
    answers = iter([Busy("b", retry_after=4.0), Busy("b", retry_after=6.0)])

    def attempt() -> str:
        exc = next(answers, None)
        if exc is not None:
            raise exc
        return "done"

    assert _arm.while_busy(attempt, sleep=slept.append, budget=10.0) == "done"
    assert slept == [4.0, 6.0]  # 10 s in all: at the budget, still waited

    slept.clear()
    with pytest.raises(RoutingError, match=r"^b \(still busy after waiting 4s; the redelivery waits again\)$"):
        _arm.while_busy(lambda: (_ for _ in ()).throw(Busy("b", retry_after=4.0)), sleep=slept.append, budget=7.9)
    assert slept == [4.0]


def test_a_write_is_conditional_on_the_version_read():
    assert _arm.if_match('W/"3"') == {"headers": {"If-Match": 'W/"3"'}}
    assert _arm.if_match(None) == {"headers": {"If-None-Match": "*"}}
    assert _arm.if_match("") == {"headers": {"If-None-Match": "*"}}


class Access(Enum):  # an SDK enum: str() of it is "Access.DENY"
    DENY = "Deny"


def test_text_is_the_plain_string_resource_manager_sent():
    assert _arm.text(Access.DENY) == "Deny"
    assert _arm.text("Allow") == "Allow"
    assert _arm.text(None) == ""


class Client:
    def __init__(self, credential, subscription, **options):
        self.args = (credential, subscription, options)


class Settings:
    def __init__(self, arm_endpoint, arm_credential):
        self.arm_endpoint, self.arm_credential = arm_endpoint, arm_credential


def test_a_client_points_at_the_configured_resource_manager_and_is_kept_per_subscription():
    cred = object()
    settings = Settings("https://arm.local:8443/", cred)
    one = _arm.client(Client, settings, "sub-1")
    assert one.args == (
        cred,
        "sub-1",
        {"base_url": "https://arm.local:8443", "credential_scopes": ["https://arm.local:8443/.default"]},
    )
    assert _arm.client(Client, settings, "sub-1") is one
    assert _arm.client(Client, settings, "sub-2") is not one
    assert _arm.client(Client, Settings(None, cred), "sub-1").args == (cred, "sub-1", {})  # the SDK's own cloud
    assert _arm.credential(settings) is cred


def test_an_operations_details_are_joined_with_only_their_separators_trimmed():
    body = {
        "status": "Failed",
        "error": {
            "code": "XmlError",
            "message": "index X",
            "details": [{"code": "XInner", "message": "zone X"}, {"code": "NoMessage"}],
        },
    }
    assert str(raised(operation(body))) == (
        "route table rt-1: the operation failed: XmlError: index X; XInner: zone X; NoMessage"
    )


def test_an_error_body_without_a_code_shows_the_message_line():
    exc = HttpResponseError(response=Response(500, {"error": {"code": "", "message": "the disk is busy"}}))  # type: ignore[arg-type]
    assert str(raised(exc)) == "route table rt-1: failed (500): () the disk is busy"  # azure-core's first line
