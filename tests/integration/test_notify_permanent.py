"""Notifications that a receiver refuses for good (issue 26): HTTP 400, 401, 403 and 404 are the same answer at
every retry, so the target is given up at once and listed `failed` with the reason; anything else (5xx, 429, no
answer) is retried. The other targets of the notice go on. Through the real outbox on Azurite."""

from __future__ import annotations

import pytest

from shared.adapters.notifiers import notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import EVENT_GRID_KEY, Receiver


@pytest.fixture
def receiver():
    r = Receiver().up()
    yield r
    r.down()


@pytest.fixture
def gateway():
    """A second receiver: the one whose answers the test chooses."""
    r = Receiver().up()
    yield r
    r.down()


def abort_notice(stack: Stack, release: str, notify: list[dict]) -> None:
    """One notice (override-rejected) to every target."""
    stack.service.apply(
        validate_plan(
            {
                "release": release,
                "model": "single-step",
                "approvers": ["ana@contoso.com"],
                "notify": notify,
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    stack.service.handle(event("override", release, None, "x", action="abort", actor="eve@x.com", reason="r"))


def named(release: str, what: str) -> str:
    """A setting name of this test's own: rows other tests leave due never reach its receivers."""
    return f"{release.upper().replace('-', '_')}_{what}"


def rows(stack: Stack, release: str) -> list[dict]:
    return notifications_json(stack.outbox.list_release(release))


@pytest.mark.parametrize("kind", ["webhook", "teams", "event-grid"])
@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_permanent_refusal_fails_that_target_at_once_and_the_others_go_on(
    settings, receiver, gateway, release_name, kind, status
):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    abort_notice(
        stack,
        release_name,
        [
            {"kind": kind, "url_setting": named(release_name, "REFUSING")},
            {"kind": "webhook", "url_setting": named(release_name, "OK")},
        ],
    )
    gateway.behaviour.status = status
    urls = {
        named(release_name, "REFUSING"): gateway.url(kind),
        named(release_name, "REFUSING_KEY"): EVENT_GRID_KEY,
        named(release_name, "OK"): receiver.url("webhook"),
    }
    receiver.down()  # the other target is out for now: its row stays pending
    send = NotificationDeliverer(stack.outbox, notifiers(urls.get), urls.get, clock, backoff=lambda n: 10.0)
    send.deliver_due()
    refusing, other = rows(stack, release_name)
    assert (refusing["status"], refusing["attempts"]) == ("failed", 1)
    assert f"answered HTTP {status}" in refusing["last_error"] and "not retried" in refusing["last_error"]
    assert other["status"] == "pending" and "could not be reached" in other["last_error"]
    receiver.up()
    for _ in range(3):
        clock.advance(11)
        send.deliver_due()
    refusing, other = rows(stack, release_name)
    assert other["status"] == "sent" and refusing["status"] == "failed"  # the row is done: nothing is retried
    assert len(gateway.refused) == 1, gateway.refused  # the refusing receiver was asked once
    assert f"answered HTTP {status}" in refusing["last_error"]  # its reason kept through the other's rounds


@pytest.mark.parametrize("kind", ["webhook", "event-grid"])
@pytest.mark.parametrize("status", [500, 503, 429, 408])
def test_other_refusals_are_retried_by_the_deliverer_one_request_an_attempt(
    settings, gateway, release_name, status, kind
):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    abort_notice(stack, release_name, [{"kind": kind, "url_setting": named(release_name, "FLAKY")}])
    gateway.behaviour.status = status
    urls = {named(release_name, "FLAKY"): gateway.url(kind), named(release_name, "FLAKY_KEY"): EVENT_GRID_KEY}
    send = NotificationDeliverer(stack.outbox, notifiers(urls.get), urls.get, clock, backoff=lambda n: 10.0)
    for _ in range(3):
        send.deliver_due()
        clock.advance(11)
    [row] = rows(stack, release_name)
    # one request an attempt: the SDK's own retries are off, the deliverer's back-off paces them
    assert (row["status"], row["attempts"]) == ("pending", 3) and len(gateway.refused) == 3, gateway.refused
    gateway.behaviour.status = None
    send.deliver_due()
    assert rows(stack, release_name)[0]["status"] == "sent"


def test_a_topic_without_the_cloudevents_schema_fails_at_once_saying_so(settings, receiver, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    abort_notice(stack, release_name, [{"kind": "event-grid", "url_setting": named(release_name, "GRID")}])
    receiver.input_schema = "EventGridSchema"
    urls = {named(release_name, "GRID"): receiver.url("event-grid"), named(release_name, "GRID_KEY"): EVENT_GRID_KEY}
    NotificationDeliverer(stack.outbox, notifiers(urls.get), urls.get, clock).deliver_due()
    [row] = rows(stack, release_name)
    assert row["status"] == "failed" and "HTTP 400" in row["last_error"]
    assert "inputSchema CloudEventSchemaV1_0" in row["last_error"]
    assert receiver.refused == ["event-grid: 400 the topic's input schema is EventGridSchema: it takes no CloudEvents"]
