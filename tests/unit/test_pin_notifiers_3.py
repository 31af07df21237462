"""Pins for the Event Grid client's options (issue 21): no SDK retries, and socket timeouts of 5 s."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from shared.adapters.notifiers import EventGridNotifier, Refused
from tests.support.local_http import serve, stop
from tests.unit.test_pin_notifiers import GRID, NOTICE


class Throttling:
    """An Event Grid topic that is throttling: 429 with Retry-After (which azure-core honours for any method)."""

    def __init__(self):
        self.posts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts += 1
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd, self.url = serve(Handler, "/api/events")


@pytest.fixture
def throttling():
    t = Throttling()
    yield t
    stop(t.httpd)


def test_a_throttled_topic_is_a_refusal_429_after_one_post_the_sdk_does_not_wait_and_retry(throttling):
    # azure-core retries any answer that carries Retry-After; with retry_total=0 it gives up at once (the
    # deliverer retries with its own back-off); with retry_total=None it would fail with a TypeError
    with pytest.raises(Refused) as caught:
        EventGridNotifier({"GRID_KEY": "key"}.get).send(throttling.url, NOTICE, target=GRID)
    assert (str(caught.value), caught.value.status) == ("event-grid (GRID): the topic answered HTTP 429", 429)
    assert throttling.posts == 1


class Client:
    """Stands in for azure-eventgrid's basic-topic client, keeping what it was built with."""

    built: list[dict] = []

    def __init__(self, endpoint, credential, **options):
        Client.built.append({"endpoint": endpoint, **options})

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None

    def send(self, events):
        return None

    def close(self):
        return None


def test_the_client_has_no_retries_and_five_second_socket_timeouts_not_the_sdks_300(monkeypatch):
    # the notifier imports the client when it sends, from azure.eventgrid._legacy: a stand-in set there is used
    monkeypatch.setattr("azure.eventgrid._legacy.EventGridPublisherClient", Client)
    monkeypatch.setattr(Client, "built", [])
    EventGridNotifier({"GRID_KEY": "key"}.get).send("https://topic.example/api/events", NOTICE, target=GRID)
    assert Client.built == [
        {
            "endpoint": "https://topic.example/api/events",
            "retry_total": 0,
            "connection_timeout": 5.0,
            "read_timeout": 5.0,
        }
    ]
