"""A 3xx is not a delivery (issue 29.5): followed, the POST would become a GET to wherever the receiver points
(any host, plain http) and that page's 200 would count as acceptance. Notifiers follow no redirect; the
delivery fails with a reason that says so, and is retried like any other failure. The webhook decommission
follows none either."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.webhook import WebhookDecommissioner
from shared.adapters.notifiers import TeamsNotifier, WebhookNotifier, notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.errors import DeliveryError
from shared.domain.finishing import DecommissionTarget
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import Receiver

NOTICE = {
    "id": "n-1",
    "kind": "promoted",
    "release": "wave-1",
    "workload": "web",
    "at": "2026-11-26T22:00:00Z",
    "state": "promoted",
    "reason": "promoted",
}


@dataclass(frozen=True)
class Request:
    """What a decommission provider reads of the machine's request (its Decommission effect)."""

    workload: str
    target: DecommissionTarget
    assets: tuple[str, ...]
    actor: str
    attempt: int


@pytest.fixture
def redirecting():
    r = Receiver().up()
    r.behaviour.redirect = True
    yield r
    r.down()


@pytest.mark.parametrize("kind", ["webhook", "teams"])
def test_a_redirect_is_a_failed_delivery_and_is_not_followed(redirecting, kind):
    notifier = {"webhook": WebhookNotifier, "teams": TeamsNotifier}[kind]()
    with pytest.raises(DeliveryError) as err:
        notifier.send(redirecting.url(kind), NOTICE, target={"url_setting": "HOOK"})
    assert str(err.value) == (
        f"{kind} (HOOK): the receiver answered HTTP 302, a redirect; notifications follow none "
        "(set the URL it redirects to)"
    )
    assert redirecting.gets == [] and redirecting.ids() == []  # the sign-in page was never asked for


def test_a_redirecting_target_stays_pending_with_the_reason_until_it_accepts(settings, redirecting, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approvers": ["ana@contoso.com"],
                "notify": [{"kind": "webhook", "url_setting": "REDIRECT_HOOK"}],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    stack.service.handle(event("override", release_name, None, "x", action="abort", actor="eve@x.com", reason="r"))
    urls = {"REDIRECT_HOOK": redirecting.url("webhook")}
    deliverer = NotificationDeliverer(stack.outbox, notifiers(urls.get), urls.get, clock, backoff=lambda n: 5.0)
    deliverer.deliver_due()
    [row] = notifications_json(stack.outbox.list_release(release_name))
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert "answered HTTP 302, a redirect" in row["last_error"] and redirecting.gets == []
    redirecting.behaviour.redirect = False  # the setting now holds the receiver itself
    clock.advance(6)
    deliverer.deliver_due()
    [row] = notifications_json(stack.outbox.list_release(release_name))
    assert (row["status"], row["last_error"]) == ("sent", None)
    assert redirecting.ids(release=release_name) == [row["id"]]


def test_the_webhook_decommission_follows_no_redirect_either(redirecting):
    target = DecommissionTarget(provider="webhook", url_setting="RUNBOOK_URL")
    request = Request("payroll", target, ("vm-payroll-web-01",), "ana@contoso.com", 0)
    with pytest.raises(DecommissionError, match="webhook RUNBOOK_URL answered 302; a 2xx is needed"):
        WebhookDecommissioner({"RUNBOOK_URL": redirecting.url("webhook")}).decommission("wave-1", request)
    assert redirecting.gets == []
