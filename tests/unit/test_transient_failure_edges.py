"""Review of transient failures (issue 26, contract §18): what becomes of a decision whose effect Azure refused
when the refusal comes from Service Bus, when the message came through the override endpoint, when it is
delivered again, and when the message promote sends itself to try again cannot be sent."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from azure.core.exceptions import AzureError, HttpResponseError
from azure.servicebus.exceptions import MessageSizeExceededError, ServiceBusServerBusyError

from shared.application.override_proof import OverrideProofs
from shared.application.overrides import override_event
from shared.application.service import Result
from shared.domain.actors import Principal
from shared.domain.messages import MAX_RETRIED_BODY
from tests.fakes import T0, event
from tests.unit.test_machine import OPERATOR, Driver, make_plan

SERVICE_BUS_STANDARD_LIMIT = 256 * 1024  # bytes a Service Bus Standard message may hold (headers included)


def flighting(**plan) -> Driver:
    d = Driver(make_plan("flight", **plan))
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().state, d.routed()) == ("flighting", 10)
    return d


KEY = OverrideProofs((b"k" * 48,))  # on Azure the override key is set wherever overrides need a principal


def _rollback_in_outage(d: Driver) -> Result:
    outage_ends = T0 + timedelta(minutes=2)
    d.w.network.answer = lambda: 503 if d.w.clock.now() < outage_ends else None
    operator = Principal(OPERATOR, authenticated=True)
    body = json.dumps({"release": "r1", "workload": "w1", "action": "rollback", "reason": "sev1 on payroll"})
    return d.w.service.handle(json.dumps(override_event(body.encode(), operator, d.w.clock.now())), principal=operator)


def test_an_override_from_the_endpoint_that_met_a_routing_outage_is_carried_out_when_the_outage_ends():
    """On Azure an override counts only with the principal the endpoint authenticated. One whose routing change
    met a 503 is tried again by a message promote sends itself on the topic, which carries no principal: the
    retry carries the endpoint's proof instead (override_proof.py)."""
    d = flighting()
    d.w.service.overrides_need_principal, d.w.service.override_proofs = True, KEY  # as on Azure
    first = _rollback_in_outage(d)
    assert first.outcome == "ignored" and "not carried out yet" in first.reason
    later = [r for _ in range(20) for r in d.tick(30)]
    assert not [r for r in later if "unauthenticated" in r.reason], [r.reason for r in later]
    assert (d.wl().state, d.routed()) == ("rolled-back", 0)


def test_an_override_whose_proof_cannot_be_carried_is_stopped_with_why_instead_of_rejected_later():
    """Without an override key (a local stack made to need principals) a retry could not prove its sender: the
    override is stopped now, saying so, rather than tried again and rejected as unauthenticated."""
    d = flighting()
    d.w.service.overrides_need_principal = True
    first = _rollback_in_outage(d)
    assert first.outcome == "rejected" and "could not carry the endpoint's proof" in first.reason, first.reason
    assert not [e for e, _ in d.w.scheduler.scheduled if e["type"] == "message-retry"]
    assert (d.wl().state, d.routed()) == ("flighting", 10)


def _scheduler_fails_once(d: Driver, error: Exception) -> None:
    real = d.w.scheduler.schedule
    pending = [error]

    def schedule(event_doc: dict, due) -> None:
        if pending:
            raise pending.pop()
        real(event_doc, due)

    d.w.scheduler.schedule = schedule  # type: ignore[method-assign]


def test_service_bus_throttling_while_scheduling_a_bake_timer_does_not_lose_the_tests_result():
    """ServiceBusServerBusyError (and ServiceBusConnectionError, OperationTimeoutError) are Service Bus's
    transient errors: they are no HttpResponseError, and classify() takes them for a permanent refusal."""
    d = Driver(make_plan("flight"))
    d.replicate()
    _scheduler_fails_once(d, ServiceBusServerBusyError(message="the entity is being throttled"))
    passed = event("tests-passed", "r1", "w1", "t1")
    try:
        d.w.service.handle(passed)
    except AzureError:  # propagating for the platform to redeliver would do as well
        d.w.service.handle(passed)
    for _ in range(10):
        if d.wl().state == "flighting":
            break
        d.tick(30)
    assert (d.wl().state, d.routed()) == ("flighting", 10), [e.reason for e in d.w.store.list_history("r1", "w1")]


def test_a_message_stopped_by_a_permanent_refusal_moves_nobody_when_it_is_delivered_again():
    """A stopped decision records the message's marker but not its id in the release's window: a redelivery
    (or the sender sending it again) is decided anew, moves users, meets the marker, and moves them back."""
    d = Driver(make_plan("flight"))
    d.replicate()
    refused = HttpResponseError(message="400 the request is invalid")
    refused.status_code = 400
    _scheduler_fails_once(d, refused)
    passed = event("tests-passed", "r1", "w1", "t1")
    first = d.w.service.handle(passed)
    assert first.outcome == "rejected" and "Azure refused it" in first.reason
    moved = list(d.w.network.writes)
    again = d.w.service.handle(passed)
    assert again.outcome == "duplicate"
    assert d.w.network.writes == moved, "users were moved onto the migrated system and back by a duplicate"


def test_a_message_retry_carrying_a_message_retry_gets_an_outcome_instead_of_failing_every_delivery():
    """Anyone who may send to the topic may send `message-retry`: one nested in another reached RULES and
    raised KeyError on every delivery (then the poison queue), with nothing recorded in the release."""
    d = Driver(make_plan("flight"))
    inner = event("asset-replicated", "r1", "w1", "x1", asset="a")
    data = {"release": "r1", "workload": "w1", "attempt": 1, "first_ms": 0, "body": inner}
    once = {"specversion": "1.0", "id": "r-1", "source": "ci", "type": "message-retry", "data": data}
    twice = {**once, "id": "r-2", "data": {**data, "body": json.dumps(once)}}
    result = d.w.service.handle(json.dumps(twice))
    assert result.outcome == "rejected" and "may not carry another message-retry" in result.reason, result.reason
    assert result.reason in [e.reason for e in d.w.store.list_history("r1", "w1")]  # recorded in the release


class SizedScheduler:
    """Refuses a message larger than Service Bus Standard holds, as the broker does."""

    def __init__(self, inner):
        self.inner = inner

    def schedule(self, event_doc: dict, due) -> None:
        size = len(json.dumps(event_doc, separators=(",", ":")).encode())
        if size > SERVICE_BUS_STANDARD_LIMIT:
            raise MessageSizeExceededError(message=f"the message is {size} bytes; the limit is 262144")
        self.inner.schedule(event_doc, due)


def test_a_retry_of_a_message_within_the_retried_body_limit_fits_the_message_that_carries_it():
    """MAX_RETRIED_BODY counts the bytes of the message as it came; the retry carries it as a JSON string,
    escaped again: an alert with an embedded JSON payload fits the limit and its retry does not fit a Service
    Bus message, so the deferral cannot be sent and the alert fails every delivery (then is dead-lettered)."""
    d = flighting()
    d.w.service.scheduler = SizedScheduler(d.w.scheduler)
    payload = json.dumps([{"k": "v"}] * 12_000)  # e.g. a monitoring tool's own alert document, as a string
    alert = json.loads(event("alert", "r1", "w1", "big-alert"))
    alert["monitorpayload"] = payload  # a CloudEvents extension attribute
    body = json.dumps(alert)
    assert len(body.encode()) <= MAX_RETRIED_BODY
    d.w.network.answer = lambda: 503
    try:
        result = d.w.service.handle(body)
    except AzureError as exc:
        pytest.fail(f"the alert failed its delivery: {exc}")
    assert result.outcome == "rejected" and "too large to be carried by a retry" in result.reason, result.reason
    assert "too large" in d.wl().stuck  # on the attention list until routing is decided anew


def test_service_bus_errors_are_classified_as_the_sdk_and_azure_say():
    from datetime import timedelta as td

    from azure.servicebus.exceptions import (
        OperationTimeoutError,
        ServiceBusAuthorizationError,
        ServiceBusConnectionError,
    )

    from shared.application.failures import PROPAGATION, classify

    for busy in (
        ServiceBusServerBusyError(message="busy"),
        ServiceBusConnectionError(message="x"),
        OperationTimeoutError(message="t"),
    ):
        assert classify(busy).transient, busy
    assert not classify(MessageSizeExceededError(message="too big")).transient
    denied = ServiceBusAuthorizationError(message="the role assignment has not reached Service Bus yet")
    assert classify(denied).transient and not classify(denied, failing_for=PROPAGATION + td(seconds=1)).transient


def test_a_message_retry_dated_in_the_future_still_stops_after_the_plans_retry_max():
    """Review: anyone who may send to the topic may send a `message-retry`; one whose first failure is dated in
    the future made every later failure count as younger than retry.max (and every 403 as a role still
    propagating), so the message was retried for weeks instead of stopping with `attention`."""
    d = Driver(make_plan("flight"))
    d.replicate()
    d.w.network.answer = lambda: 503  # an outage that does not end
    inner = event("tests-passed", "r1", "w1", "t9")
    future = int((d.w.clock.now() + timedelta(days=30)).timestamp() * 1000)
    data = {"release": "r1", "workload": "w1", "attempt": 1, "first_ms": future, "body": inner}
    forged = {"specversion": "1.0", "id": "r-9", "source": "ci", "type": "message-retry", "data": data}
    results = [d.w.service.handle(json.dumps(forged))]
    for _ in range(30):  # 30 x 5 min: well past the default retry.max (1h)
        results += d.tick(300)
    stopped = [r for r in results if "past the plan's retry.max" in r.reason]
    assert stopped, [r.reason for r in results][-3:]
    assert d.wl().stuck


def test_a_token_that_could_not_be_had_is_retried_like_a_role_still_propagating():
    """Review: when the managed identity endpoint does not answer for a moment, the routing provider raises
    'could not authenticate to Resource Manager' over a ClientAuthenticationError without a status (as
    DefaultAzureCredential raises it): classified permanent, it stopped an alert's rollback at once."""
    from datetime import timedelta as td

    from azure.core.exceptions import ClientAuthenticationError

    from shared.adapters.routing import _arm
    from shared.application.failures import PROPAGATION, classify
    from shared.domain.errors import RoutingError

    def failure() -> RoutingError:
        try:
            with _arm.arm_errors("route table rt-1"):
                raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token: IMDS timed out")
        except RoutingError as exc:
            return exc
        raise AssertionError("arm_errors raised nothing")

    assert classify(failure()).transient
    assert not classify(failure(), failing_for=PROPAGATION + td(seconds=1)).transient


def test_a_message_retry_dated_past_the_year_9999_is_rejected_with_why_instead_of_raising():
    """Anyone who may send to the topic may send a `message-retry`: one whose first failure is dated past what a
    datetime holds (first_ms 10**17) raised OverflowError/ValueError in from_ms once the message it carries met a
    routing failure: every delivery failed, then the poison queue without a reason, nothing in the release."""
    d = Driver(make_plan("flight"))
    d.replicate()
    d.w.network.answer = lambda: 503  # the carried message's routing fails: its first failure is read
    inner = event("tests-passed", "r1", "w1", "t9")
    data = {"release": "r1", "workload": "w1", "attempt": 1, "first_ms": 10**17, "body": inner}
    forged = {"specversion": "1.0", "id": "r-10", "source": "ci", "type": "message-retry", "data": data}
    result = d.w.service.handle(json.dumps(forged))
    assert result.outcome == "rejected" and "first_ms" in result.reason, result.reason
    assert result.reason in [e.reason for e in d.w.store.list_history("r1", "w1")]  # recorded in the release


def test_a_refused_release_wide_move_leaves_each_workload_a_stuck_text_its_row_can_hold():
    """A release-wide move refused before anything moved names every workload's refusal in one error, and each
    workload's `stuck` held all of it: at 300 workloads, 34,000 characters in every row, past what a Table
    Storage property holds (32K UTF-16 units; the transaction past 4 MiB): the commit would be refused on every
    delivery, and nobody would read why the release is stuck. 40 workloads (4,500 characters of refusals) are
    enough to pass the cut; the property check holds at any size once it is cut."""
    from shared.adapters.table_store.rows import WORKLOAD
    from shared.domain.machine.rules.retry import MAX_STUCK
    from tests.unit.test_machine import APPROVER

    n = 40
    doc = make_plan("staged")
    doc["workloads"] = [{"name": f"w{i}", "assets": ["a"]} for i in range(n)]
    d = Driver(doc)
    for i in range(n):
        d.send("asset-replicated", f"w{i}", asset="a")
        d.send("tests-passed", f"w{i}")
        d.w.network.refused[f"w{i}"] = f"the pool holds a member this plan does not name (10.0.{i // 250}.{i % 250})"
    result = d.override("approve", actor=APPROVER, workload=None)
    assert result.outcome == "rejected" and "nothing moved" in result.reason, result.reason[:300]
    assert MAX_STUCK == 2_000  # a tenth of a Table Storage property: room for the rest of the row
    for w in d.release.workloads.values():
        assert w.stuck and "not carried out" in w.stuck and len(w.stuck) <= MAX_STUCK, w.stuck[:200]
        assert all(len(str(v).encode("utf-16-le")) <= 2 * 32 * 1024 for v in WORKLOAD.write(w).values())
    # each entry repeated the whole error: n copies of an error growing with n (1.6 GB of reasons at 5,000)
    assert all(len(e.reason) <= MAX_STUCK + 200 for e in result.entries), max(len(e.reason) for e in result.entries)
