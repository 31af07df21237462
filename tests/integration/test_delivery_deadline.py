"""A receiver that trickles its answer (a byte every fraction of a second, so no single read ever times out)
holds a delivery no longer than its deadline: the notifiers' and the webhook decommission's (issue 29.4).
Past the deadline the connection is shut, so the sender stops listening too, and the other targets of the
round still get theirs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.webhook import WebhookDecommissioner
from shared.adapters.notifiers import EventGridNotifier, TeamsNotifier, WebhookNotifier, notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.errors import DeliveryError
from shared.domain.finishing import DecommissionTarget
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import EVENT_GRID_KEY, Receiver

DEADLINE = 1.0
SLACK = 1.0  # the sender's own time around the exchange (a loaded machine), far below the trickle's 20 s
NOTICE = {
    "id": "n-1",
    "kind": "promoted",
    "release": "wave-1",
    "workload": "web",
    "at": "2026-11-26T22:00:00Z",
    "state": "promoted",
    "reason": "promoted",
}


@pytest.fixture
def trickling():
    r = Receiver().up()
    r.behaviour.trickle_every, r.behaviour.trickle_for = 0.2, 20.0
    yield r
    r.down()


@pytest.fixture
def receiver():
    r = Receiver().up()
    yield r
    r.down()


def _timed(send) -> tuple[float, Exception | None]:
    started = time.monotonic()
    try:
        send()
    except Exception as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def _hung_up_near_the_deadline(receiver: Receiver) -> None:
    """The sender shut the connection at its deadline: it did not go on listening unseen."""
    for _ in range(40):
        if receiver.hung_up:
            break
        time.sleep(0.05)
    assert receiver.hung_up and DEADLINE - 0.1 < receiver.hung_up[0] < DEADLINE + 1.0, receiver.hung_up


@pytest.mark.parametrize("kind", ["webhook", "teams"])
def test_a_trickling_receiver_costs_a_delivery_its_deadline_and_no_more(trickling, kind):
    notifier = {"webhook": WebhookNotifier, "teams": TeamsNotifier}[kind](deadline_seconds=DEADLINE)
    elapsed, error = _timed(lambda: notifier.send(trickling.url(kind), NOTICE, target={"url_setting": "HOOK"}))
    assert isinstance(error, DeliveryError) and elapsed < DEADLINE + SLACK, (elapsed, error)
    assert str(error) == f"{kind} (HOOK): the receiver did not answer within 1 s (the deadline for the whole request)"
    _hung_up_near_the_deadline(trickling)


def test_an_event_grid_topic_that_trickles_costs_the_deliverer_its_deadline(trickling):
    import azure.eventgrid  # noqa: F401  (the SDK's first import is not the topic's doing)

    notifier = EventGridNotifier({"GRID_KEY": EVENT_GRID_KEY}.get, deadline_seconds=DEADLINE)
    elapsed, error = _timed(lambda: notifier.send(trickling.url("event-grid"), NOTICE, target={"url_setting": "GRID"}))
    assert isinstance(error, DeliveryError) and elapsed < DEADLINE + SLACK, (elapsed, error)
    assert "event-grid (GRID): the topic did not answer within 1 s" in str(error)


def test_the_deadline_is_ten_seconds_unless_set():
    assert WebhookNotifier().deadline == TeamsNotifier().deadline == 10.0
    assert {n.deadline for n in notifiers(lambda _: None).values()} == {10.0}
    assert {n.deadline for n in notifiers(lambda _: None, deadline_seconds=3).values()} == {3}
    assert WebhookDecommissioner({}).deadline == 10.0


def test_a_receiver_that_answers_in_time_is_unaffected(receiver):
    receiver.behaviour.slow_seconds = 0.3  # slow, but well within the deadline
    WebhookNotifier(deadline_seconds=DEADLINE).send(receiver.url("webhook"), NOTICE, target={"url_setting": "H"})
    assert receiver.ids("webhook") == ["n-1"]


def test_one_trickling_receiver_does_not_hold_the_others_of_the_round(settings, trickling, receiver, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approvers": ["ana@contoso.com"],
                "notify": [
                    {"kind": "webhook", "url_setting": "DEADLINE_SLOW_HOOK"},
                    {"kind": "teams", "url_setting": "DEADLINE_TEAMS"},
                    {"kind": "webhook", "url_setting": "DEADLINE_HOOK"},
                ],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    # a stranger's override is refused: one notice (override-rejected), three targets
    stack.service.handle(event("override", release_name, None, "x", action="abort", actor="eve@x.com", reason="r"))
    urls = {
        "DEADLINE_SLOW_HOOK": trickling.url("webhook"),
        "DEADLINE_TEAMS": receiver.url("teams"),
        "DEADLINE_HOOK": receiver.url("webhook"),
    }
    deliverer = NotificationDeliverer(
        stack.outbox, notifiers(urls.get, deadline_seconds=DEADLINE), urls.get, clock, backoff=lambda n: 60.0
    )
    elapsed, error = _timed(deliverer.deliver_due)
    assert error is None and elapsed < DEADLINE + SLACK, elapsed
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [(r["url_setting"], r["status"]) for r in rows] == [
        ("DEADLINE_SLOW_HOOK", "pending"),
        ("DEADLINE_TEAMS", "sent"),
        ("DEADLINE_HOOK", "sent"),
    ]
    assert "did not answer within 1 s" in rows[0]["last_error"]
    assert len(receiver.ids(release=release_name)) == 2 and trickling.ids() == []


@dataclass(frozen=True)
class Request:
    """What a decommission provider reads of the machine's request (its Decommission effect)."""

    workload: str
    target: DecommissionTarget
    assets: tuple[str, ...]
    actor: str
    attempt: int


def _decommission() -> Request:
    target = DecommissionTarget(provider="webhook", url_setting="RUNBOOK_URL")
    return Request("payroll", target, ("vm-payroll-web-01",), "ana@contoso.com", 0)


def test_the_webhook_decommission_has_the_same_deadline(trickling):
    hook = WebhookDecommissioner({"RUNBOOK_URL": trickling.url("webhook")}, deadline_seconds=DEADLINE)
    elapsed, error = _timed(lambda: hook.decommission("wave-1", _decommission()))
    assert isinstance(error, DecommissionError) and elapsed < DEADLINE + SLACK, (elapsed, error)
    assert str(error) == (
        "webhook RUNBOOK_URL: the receiver did not answer within 1 s (the deadline for the whole request)"
    )
    assert "127.0.0.1" not in str(error)
    _hung_up_near_the_deadline(trickling)
