"""A notification row is retried while any of its targets has not accepted it; each retry sends only what is
still missing: a target that accepted a notice never gets it again, however often the others are retried
(at least once, not at every retry). Through the real outbox on Azurite."""

from __future__ import annotations

import pytest

from shared.adapters.notifiers import notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import EVENT_GRID_KEY, Receiver

APPROVER = "ana@contoso.com"


@pytest.fixture
def receiver():
    r = Receiver().up()
    yield r
    r.down()


@pytest.fixture
def topic_in_outage():
    """An Event Grid topic answering 503 for a while: a failure that may pass, so it is retried (a 401, a wrong
    key, is refused for good: see test_notification_errors_per_target.py)."""
    r = Receiver().up()
    r.behaviour.status = 503
    yield r
    r.down()


def test_a_retry_sends_only_to_the_targets_still_missing_the_notices(settings, receiver, topic_in_outage, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approval": "manual",
                "approvers": [APPROVER],
                "notify": [
                    {"kind": "webhook", "url_setting": "RETRY_HOOK", "on": ["promoted"]},
                    {"kind": "teams", "url_setting": "RETRY_TEAMS", "on": ["promoted"]},
                    {"kind": "event-grid", "url_setting": "RETRY_GRID", "on": ["promoted"]},
                ],
                "workloads": [{"name": n, "assets": ["vm"]} for n in ("a", "b")],
            }
        )
    )
    for n in ("a", "b"):
        stack.service.handle(event("asset-replicated", release_name, n, f"{n}-rep", asset="vm"))
        stack.service.handle(event("tests-passed", release_name, n, f"{n}-tests"))
    approve = event("override", release_name, None, "go", action="approve", actor=APPROVER, reason="CAB-1")
    assert stack.service.handle(approve).outcome == "applied"  # notices of the promotion, three targets each
    urls = {
        "RETRY_HOOK": receiver.url("webhook"),
        "RETRY_TEAMS": receiver.url("teams"),
        "RETRY_GRID": topic_in_outage.url("event-grid"),  # the topic answers 503 until it is back
        "RETRY_GRID_KEY": EVENT_GRID_KEY,
    }
    send = NotificationDeliverer(stack.outbox, notifiers(urls.get), urls.get, clock, backoff=lambda n: 10.0)
    send.deliver_due()
    notices = sorted({r["id"] for r in notifications_json(stack.outbox.list_release(release_name))})
    assert notices
    mine = lambda kind: sorted(receiver.ids(kind, release_name))  # noqa: E731
    assert (mine("webhook"), mine("teams"), mine("event-grid")) == (notices, notices, [])
    for _ in range(3):  # the topic stays out; the rows are retried three more times
        clock.advance(11)
        send.deliver_due()
    assert (mine("webhook"), mine("teams")) == (notices, notices)  # nothing sent to them again
    assert sum(1 for r in topic_in_outage.refused if "503" in r) == 4 * len(notices)  # to the topic, each attempt
    assert receiver.refused == []
    urls["RETRY_GRID"] = receiver.url("event-grid")  # the topic is back
    clock.advance(11)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert {r["status"] for r in rows} == {"sent"} and {r["attempts"] for r in rows} == {5}
    assert mine("event-grid") == notices
    assert len(receiver.ids(release=release_name)) == 3 * len(notices)  # each notice once to each target
