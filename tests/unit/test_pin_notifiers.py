"""What the Teams and webhook notifiers send, written out in full (issue 21): the CloudEvent, the Adaptive Card,
the request's headers and body as a local receiver gets them, and the exact error each answer gives. A
receiver on this machine records every request (method, path, headers, body) and answers a status of the
test's choosing."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from shared.adapters.notifiers import (
    EventGridNotifier,
    Refused,
    TeamsNotifier,
    WebhookNotifier,
    adaptive_card,
    cloud_event,
    notifiers,
)
from shared.domain.errors import DeliveryError
from tests.receivers import EVENT_GRID_KEY, Receiver
from tests.support.local_http import serve, stop

NOTICE = {
    "id": "ntf-0123456789abcdef0123456789abcdef",
    "kind": "rolled-back",
    "release": "wave-1",
    "workload": "web",
    "at": "2026-03-01T12:00:00Z",
    "event_id": "al-1",
    "state": "rolled-back",
    "traffic_percent": 0,
    "flight": 2,
    "reason": "alert: 5xx above 1%",
    "actor": "ana@contoso.com",
    "actor_reason": "saw it fail",
}
RELEASE_NOTICE = {
    "id": "ntf-ffffffffffffffffffffffffffffffff",
    "kind": "awaiting-approval",
    "release": "wave-2",
    "workload": None,
    "at": "2026-03-02T08:30:00Z",
    "event_id": "t-9",
    "state": None,
    "traffic_percent": None,
    "flight": None,
    "reason": None,
    "actor": None,
    "actor_reason": None,
}
TARGET = {"kind": "webhook", "url_setting": "HOOK", "on": ["rolled-back"]}


class Capture:
    """A receiver that keeps each request whole and answers `status` (after `delay` seconds)."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay, self.requests = status, delay, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                time.sleep(outer.delay)
                self.send_response(outer.status)
                if 300 <= outer.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802  (a followed redirect would arrive here)
                outer.requests.append((self.command, self.path, dict(self.headers), b""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd, self.url = serve(Handler, "/hook")

    def stop(self):
        stop(self.httpd)


@pytest.fixture
def capture():
    c = Capture()
    yield c
    c.stop()


@pytest.fixture
def topic():
    """The strict local receivers (tests/receivers.py): Teams, webhook, an Event Grid topic taking its key over HTTP."""
    r = Receiver().up()
    yield r
    r.down()


def test_a_workload_notice_as_a_cloud_event():
    assert cloud_event(NOTICE) == {
        "specversion": "1.0",
        "id": "ntf-0123456789abcdef0123456789abcdef",
        "source": "promote/wave-1",
        "type": "promote.rolled-back",
        "time": "2026-03-01T12:00:00Z",
        "subject": "wave-1/web",
        "datacontenttype": "application/json",
        "data": NOTICE,
    }


def test_a_release_notice_as_a_cloud_event_has_the_release_as_its_subject():
    assert cloud_event(RELEASE_NOTICE) == {
        "specversion": "1.0",
        "id": "ntf-ffffffffffffffffffffffffffffffff",
        "source": "promote/wave-2",
        "type": "promote.awaiting-approval",
        "time": "2026-03-02T08:30:00Z",
        "subject": "wave-2",
        "datacontenttype": "application/json",
        "data": RELEASE_NOTICE,
    }


def test_a_workload_notice_as_an_adaptive_card_with_every_fact():
    assert adaptive_card(NOTICE) == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "type": "AdaptiveCard",
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "wave-1/web: rolled-back",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": "alert: 5xx above 1%", "wrap": True},
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "State", "value": "rolled-back"},
                                {"title": "Traffic", "value": "0%"},  # 0% is a fact too
                                {"title": "Flight", "value": "2"},
                                {"title": "Actor", "value": "ana@contoso.com (saw it fail)"},
                                {"title": "Notification id", "value": "ntf-0123456789abcdef0123456789abcdef"},
                            ],
                        },
                    ],
                },
            }
        ],
    }


def test_a_release_notice_as_an_adaptive_card_shows_only_what_it_has():
    card = adaptive_card(RELEASE_NOTICE)["attachments"][0]["content"]
    assert card["body"] == [
        {"type": "TextBlock", "text": "wave-2: awaiting-approval", "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": "", "wrap": True},
        {
            "type": "FactSet",
            "facts": [
                {"title": "State", "value": "-"},
                {"title": "Notification id", "value": "ntf-ffffffffffffffffffffffffffffffff"},
            ],
        },
    ]


def test_an_actor_without_a_reason_and_a_flight_zero_on_the_card():
    notice = dict(NOTICE, actor_reason=None, flight=0, traffic_percent=35, state="flighting")
    facts = adaptive_card(notice)["attachments"][0]["content"]["body"][2]["facts"]
    assert facts == [
        {"title": "State", "value": "flighting"},
        {"title": "Traffic", "value": "35%"},
        {"title": "Actor", "value": "ana@contoso.com"},
        {"title": "Notification id", "value": "ntf-0123456789abcdef0123456789abcdef"},
    ]


def test_the_webhook_posts_the_cloud_event_with_its_content_type(capture):
    capture.status = 202
    WebhookNotifier().send(capture.url, NOTICE, target=TARGET)
    [(method, path, headers, body)] = capture.requests
    assert (method, path) == ("POST", "/hook")
    assert headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    assert json.loads(body) == {
        "specversion": "1.0",
        "id": "ntf-0123456789abcdef0123456789abcdef",
        "source": "promote/wave-1",
        "type": "promote.rolled-back",
        "time": "2026-03-01T12:00:00Z",
        "subject": "wave-1/web",
        "datacontenttype": "application/json",
        "data": NOTICE,
    }


def test_teams_posts_the_card_as_json(capture):
    capture.status = 202
    TeamsNotifier().send(capture.url, RELEASE_NOTICE, target={"kind": "teams", "url_setting": "TEAMS"})
    [(method, _, headers, body)] = capture.requests
    assert method == "POST" and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["type"] == "message" and doc["attachments"][0]["content"]["body"][0]["text"] == (
        "wave-2: awaiting-approval"
    )


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_acceptance(capture, status):
    capture.status = status
    WebhookNotifier().send(capture.url, NOTICE, target=TARGET)
    TeamsNotifier().send(capture.url, NOTICE, target={"kind": "teams", "url_setting": "TEAMS"})
    assert len(capture.requests) == 2


@pytest.mark.parametrize("status", [300, 302, 307, 399])
def test_a_redirect_is_an_error_not_a_refusal_and_is_not_followed(capture, status):
    capture.status = status
    with pytest.raises(DeliveryError) as caught:
        WebhookNotifier().send(capture.url, NOTICE, target=TARGET)
    assert not isinstance(caught.value, Refused)  # retried: the receiver may be fixed
    assert str(caught.value) == (
        f"webhook (HOOK): the receiver answered HTTP {status}, a redirect; notifications follow none "
        "(set the URL it redirects to)"
    )
    assert [r[0] for r in capture.requests] == ["POST"]


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
def test_an_answer_outside_2xx_is_a_refusal_with_its_status(capture, status):
    capture.status = status
    with pytest.raises(Refused) as caught:
        WebhookNotifier().send(capture.url, NOTICE, target=TARGET)
    assert (str(caught.value), caught.value.status) == (f"webhook (HOOK): the receiver answered HTTP {status}", status)
    with pytest.raises(Refused) as caught:
        TeamsNotifier().send(capture.url, NOTICE, target={"kind": "teams", "url_setting": "TEAMS_URL"})
    assert (str(caught.value), caught.value.status) == (
        f"teams (TEAMS_URL): the receiver answered HTTP {status}",
        status,
    )


def test_a_receiver_that_is_not_there_is_an_error_naming_the_setting_not_the_url():
    c = Capture()
    url = c.url
    c.stop()  # the port is closed now: connection refused
    with pytest.raises(DeliveryError) as caught:
        WebhookNotifier().send(url, NOTICE, target=TARGET)
    assert (
        str(caught.value)
        == "webhook (HOOK): the receiver could not be reached (ConnectionError: ConnectionRefusedError)"
    )
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier().send(url, NOTICE, target={"kind": "teams", "url_setting": "T"})
    assert str(caught.value) == "teams (T): the receiver could not be reached (ConnectionError: ConnectionRefusedError)"


def test_each_notifier_keeps_its_deadline(topic):
    """A receiver that trickles its answer a byte at a time (each read well within the read timeout) is given
    up on at the notifier's deadline for the whole request."""
    topic.behaviour.trickle_every, topic.behaviour.trickle_for = 0.02, 3.0
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        WebhookNotifier(deadline_seconds=0.25).send(topic.url("webhook"), NOTICE, target=TARGET)
    assert str(caught.value) == (
        "webhook (HOOK): the receiver did not answer within 0.25 s (the deadline for the whole request)"
    )
    with pytest.raises(DeliveryError) as caught:
        TeamsNotifier(deadline_seconds=0.3).send(
            topic.url("teams"), NOTICE, target={"kind": "teams", "url_setting": "T"}
        )
    assert (
        str(caught.value) == "teams (T): the receiver did not answer within 0.3 s (the deadline for the whole request)"
    )
    assert time.monotonic() - started < 2.5


def test_the_default_deadline_is_ten_seconds():
    assert (WebhookNotifier().deadline, TeamsNotifier().deadline) == (10.0, 10.0)
    assert EventGridNotifier(lambda _: None).deadline == 10.0


class Credential:
    def __init__(self):
        self.asked: list[tuple[tuple, dict]] = []

    def get_token(self, *scopes, **kwargs):
        self.asked.append((scopes, kwargs))
        return "token"


def test_the_notifier_of_each_kind_with_one_deadline_and_the_clouds_audience():
    made: list[Credential] = []

    def factory():
        made.append(Credential())
        return made[-1]

    settings = {"GRID_KEY": "k"}.get
    kinds = notifiers(settings, 4.5, credential=factory, event_grid_audience="https://eventgrid.azure.us/")
    assert sorted(kinds) == ["event-grid", "teams", "webhook"]
    assert (type(kinds["teams"]), type(kinds["webhook"]), type(kinds["event-grid"])) == (
        TeamsNotifier,
        WebhookNotifier,
        EventGridNotifier,
    )
    assert [kinds[k].deadline for k in ("teams", "webhook", "event-grid")] == [4.5, 4.5, 4.5]
    grid = kinds["event-grid"]
    assert grid.setting is settings
    assert grid.scope == "https://eventgrid.azure.us/.default"
    assert made == []  # no credential until one is needed
    credential = grid.token_credential()
    assert grid.token_credential() is credential and len(made) == 1  # one for the life of the notifier
    # whatever scope the SDK asks for, the cloud's is asked; the other arguments go through
    assert credential.get_token("https://eventgrid.azure.net/.default", tenant_id="t") == "token"
    assert made[0].asked == [(("https://eventgrid.azure.us/.default",), {"tenant_id": "t"})]


def test_the_public_clouds_event_grid_audience_by_default():
    assert notifiers(lambda _: None)["event-grid"].scope == "https://eventgrid.azure.net/.default"
    assert EventGridNotifier(lambda _: None).scope == "https://eventgrid.azure.net/.default"


GRID = {"kind": "event-grid", "url_setting": "GRID"}


def test_event_grid_publishes_the_notice_as_a_cloud_event_with_the_access_key(topic):
    EventGridNotifier({"GRID_KEY": EVENT_GRID_KEY}.get).send(topic.url("event-grid"), NOTICE, target=GRID)
    [received] = topic.received
    assert received.body == {
        "specversion": "1.0",
        "id": "ntf-0123456789abcdef0123456789abcdef",
        "source": "promote/wave-1",
        "type": "promote.rolled-back",
        "time": "2026-03-01T12:00:00.000Z",  # when it happened, not when it was sent
        "subject": "wave-1/web",
        "data": NOTICE,
    }
    assert topic.principals == ["key"]


def test_event_grid_with_a_wrong_key_is_refused_401():
    r = Receiver().up()
    try:
        with pytest.raises(Refused) as caught:
            EventGridNotifier({"GRID_KEY": "not-the-key"}.get).send(r.url("event-grid"), RELEASE_NOTICE, target=GRID)
        assert caught.value.status == 401 and r.received == []
    finally:
        r.down()


@pytest.mark.parametrize(
    "status, text",
    [
        (400, ": the event does not fit the topic (CloudEvents need a topic with inputSchema CloudEventSchemaV1_0)"),
        (401, ": not authorised (its access key; or a token for this cloud's Event Grid, EventGrid Data Sender)"),
        (403, ": the event is too large or the topic is over its quota"),
        (404, ": no such topic"),
        (429, ""),
        (500, ""),
    ],
)
def test_what_a_topics_refusal_means(topic, status, text):
    topic.behaviour.status = status
    with pytest.raises(Refused) as caught:
        EventGridNotifier({"GRID_KEY": EVENT_GRID_KEY}.get).send(topic.url("event-grid"), NOTICE, target=GRID)
    assert (str(caught.value), caught.value.status) == (
        f"event-grid (GRID): the topic answered HTTP {status}{text}",
        status,
    )
    assert len(topic.refused) == 1  # the SDK does not retry: the deliverer does, with its back-off


def test_event_grid_unreachable_slow_or_no_url_says_so_without_the_url(topic):
    grid = EventGridNotifier({"GRID_KEY": EVENT_GRID_KEY}.get, deadline_seconds=0.3)
    with pytest.raises(DeliveryError) as caught:
        grid.send("not a url", NOTICE, target=GRID)
    assert str(caught.value) == "event-grid (GRID): the setting does not hold a usable endpoint (ValueError)"
    topic.behaviour.slow_seconds = 1.0
    with pytest.raises(DeliveryError) as caught:
        grid.send(topic.url("event-grid"), NOTICE, target=GRID)
    assert str(caught.value) == (
        "event-grid (GRID): the topic did not answer within 0.3 s (the deadline for the whole request)"
    )
    url = topic.url("event-grid")
    topic.down()
    with pytest.raises(DeliveryError) as caught:
        grid.send(url, NOTICE, target=GRID)
    assert not isinstance(caught.value, Refused)
    assert str(caught.value) == "event-grid (GRID): the topic could not be reached (ServiceRequestError)"


def test_without_a_credential_the_process_identity_is_asked_through_default_azure_credential():
    grid = notifiers(lambda _: None, event_grid_audience="https://eventgrid.azure.cn")["event-grid"]
    scoped = grid.token_credential()
    assert type(scoped.inner).__name__ == "DefaultAzureCredential"
    assert scoped.scope == "https://eventgrid.azure.cn/.default"
