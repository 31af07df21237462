"""One bounded, never redirected POST (shared/adapters/http_post.py), pinned (issue 21): what the receiver
gets, the status that comes back whatever it is, the exact text of each way of getting no answer (refused,
quiet, not TLS, not HTTP, too slow as a whole), and the deadline hanging up on a receiver that trickles."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from shared.adapters.http_post import DEADLINE_SECONDS, READ_TIMEOUT_SECONDS, PostError, _shut, post, within
from tests.https_server import HttpsServer
from tests.receivers import Receiver
from tests.routing.conftest import arm_tls  # noqa: F401  (a self-signed certificate, made once per session)
from tests.support.local_http import serve, stop


class Server:
    """Answers `status` after `delay` seconds, keeping each request (method, path, headers, body)."""

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
                    self.send_header("Location", "/next")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST  # noqa: N815  (a followed redirect would come back as a GET)

            def log_message(self, *args):
                pass

        self.httpd, self.url = serve(Handler, "/in?x=1")

    def stop(self):
        stop(self.httpd)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def test_the_limits():
    assert (DEADLINE_SECONDS, READ_TIMEOUT_SECONDS) == (10.0, 5.0)


def test_a_post_sends_the_body_and_headers_and_returns_the_status(server):
    server.status = 201
    assert post(server.url, b'{"a": 1}', {"Content-Type": "application/json", "X-Id": "7"}) == 201
    [(method, path, headers, body)] = server.requests
    assert (method, path, body) == ("POST", "/in?x=1", b'{"a": 1}')
    assert (headers["Content-Type"], headers["X-Id"], headers["Content-Length"]) == ("application/json", "7", "8")


@pytest.mark.parametrize("status", [204, 301, 302, 303, 307, 308, 400, 401, 404, 429, 500, 503])
def test_any_status_comes_back_as_it_is_and_no_redirect_is_followed(server, status):
    server.status = status
    assert post(server.url, b"{}", {}) == status
    assert [r[0] for r in server.requests] == ["POST"]


def test_a_receiver_that_is_not_there():
    s = Server()
    url = s.url
    s.stop()
    with pytest.raises(PostError) as caught:
        post(url, b"{}", {})
    assert str(caught.value) == "could not be reached (ConnectionError: ConnectionRefusedError)"


def test_a_receiver_that_goes_quiet_fails_at_the_read_timeout_before_the_deadline():
    quiet = Server(delay=2.0)
    try:
        started = time.monotonic()
        with pytest.raises(PostError) as caught:
            post(quiet.url, b"{}", {}, deadline=5.0, read_timeout=0.3)
        assert str(caught.value) == "could not be reached (TimeoutError)"
        assert time.monotonic() - started < 1.5
    finally:
        quiet.stop()


def test_the_read_timeout_is_never_longer_than_the_deadline():
    quiet = Server(delay=2.0)
    try:
        with pytest.raises(PostError) as caught:
            post(quiet.url, b"{}", {}, deadline=0.4, read_timeout=30.0)
        # the socket's own timeout (the deadline's length) and the deadline end it at about the same moment
        assert str(caught.value) in (
            "could not be reached (TimeoutError)",
            "did not answer within 0.4 s (the deadline for the whole request)",
        )
    finally:
        quiet.stop()


def test_a_receiver_that_trickles_is_hung_up_on_at_the_deadline():
    trickling = Receiver().up()
    trickling.behaviour.trickle_every, trickling.behaviour.trickle_for = 0.02, 5.0
    try:
        started = time.monotonic()
        with pytest.raises(PostError) as caught:
            post(trickling.url("webhook"), b"{}", {"Content-Type": "application/cloudevents+json"}, deadline=0.5)
        assert str(caught.value) == "did not answer within 0.5 s (the deadline for the whole request)"
        assert time.monotonic() - started < 2.0
        for _ in range(100):  # the connection is shut: the receiver's next write fails at once
            if trickling.hung_up:
                break
            time.sleep(0.02)
        assert trickling.hung_up and trickling.hung_up[0] < 1.5, trickling.hung_up
    finally:
        trickling.down()


def test_an_answer_that_is_not_http():
    listener = socket.create_server(("127.0.0.1", 0))

    def answer():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(b"HELLO THERE\r\n\r\n")
        connection.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        with pytest.raises(PostError) as caught:
            post(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {})
        assert str(caught.value) == "sent an answer that is not HTTP (BadStatusLine)"
    finally:
        listener.close()


def test_https_to_a_receiver_that_speaks_no_tls(server):
    with pytest.raises(PostError) as caught:
        post(server.url.replace("http://", "https://"), b"{}", {})
    assert str(caught.value) == "could not be reached (SSLError)"


def test_https_to_a_certificate_nobody_trusts(arm_tls):  # noqa: F811
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    tls = HttpsServer(Handler, *arm_tls)
    try:
        with pytest.raises(PostError) as caught:
            post(tls.url + "/x", b"{}", {})
        assert str(caught.value) == "could not be reached (SSLError: SSLCertVerificationError)"
    finally:
        tls.stop()


@pytest.mark.parametrize(
    "url, text",
    [
        ("not a url", "could not be reached (ValueError)"),
        ("gopher://127.0.0.1/x", "could not be reached (unknown url type: gopher)"),
    ],
)
def test_what_is_no_url(url, text):
    with pytest.raises(PostError) as caught:
        post(url, b"{}", {})
    assert str(caught.value) == text


def test_within_gives_the_result_or_the_exception_of_the_work_in_time():
    aborted: list[bool] = []
    assert within(1.0, lambda: 42, lambda: aborted.append(True)) == 42

    def fails():
        raise KeyError("k")

    with pytest.raises(KeyError):
        within(1.0, fails, lambda: aborted.append(True))
    assert aborted == []


def test_within_aborts_work_that_overruns():
    release = threading.Event()
    aborted: list[bool] = []

    def abort():
        aborted.append(True)
        release.set()

    with pytest.raises(PostError) as caught:
        within(0.2, lambda: release.wait(5), abort)
    assert str(caught.value) == "did not answer within 0.2 s (the deadline for the whole request)"
    assert aborted == [True]
    assert within(0.5, lambda: None, abort) is None  # None is a result too, not an overrun
    assert aborted == [True]


def test_shutting_no_socket_or_a_closed_one_is_harmless():
    _shut(None)
    closed = socket.socket()
    closed.close()
    _shut(closed)
    a, b = socket.socketpair()
    try:
        _shut(a)
        assert b.recv(1) == b""  # the other end sees the connection end
    finally:
        a.close()
        b.close()
