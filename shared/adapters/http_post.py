"""One HTTP POST to a receiver outside promote, bounded as a whole and never redirected: how the notifiers
(Teams, webhook) and the webhook decommission send (issue 29, items 4 and 5).

- A total deadline. urllib's timeout (requests' too) bounds each socket operation, not the exchange: a
  receiver that sends a byte every few seconds holds the caller for as long as it trickles. Here the exchange
  runs in a worker thread; the caller waits for it at most `deadline` seconds, then shuts the connection down
  (so the worker ends too, rather than trickle on unseen) and fails.
- No redirects. Following a 3xx turns the POST into a GET to wherever the receiver points (another host,
  plain http) and takes that page's 200 for acceptance. Any status comes back to the caller as it is.

Error texts never contain the URL: it is a secret held in an app setting.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import cache
from typing import Any

DEADLINE_SECONDS = 10.0  # the whole request and its answer (connection, TLS, sending, the answer's head)
READ_TIMEOUT_SECONDS = 5.0  # one socket operation: a receiver that goes quiet fails sooner than the deadline


class PostError(Exception):
    """No HTTP answer: str() says why ("could not be reached (...)", "did not answer within 10 s", ...)."""


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    deadline: float = DEADLINE_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> int:
    """POST `body` and return the status of the answer (its body is not read); PostError without one."""
    opened: list[http.client.HTTPConnection] = []
    opener = urllib.request.build_opener(_AnyStatus(), _Http(opened), _Https(opened))

    def exchange() -> int:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with opener.open(request, timeout=min(read_timeout, deadline)) as response:
            return response.status

    def abort() -> None:
        for connection in list(opened):
            _shut(connection.sock)

    try:
        return within(deadline, exchange, abort)
    except PostError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise PostError(f"could not be reached ({reason if isinstance(reason, str) else _kind(reason)})") from None
    except Exception as exc:  # e.g. http.client.BadStatusLine: a malformed answer is no answer
        raise PostError(f"sent an answer that is not HTTP ({type(exc).__name__})") from None


def within(deadline: float, work: Callable[[], Any], abort: Callable[[], None]) -> Any:
    """`work()`'s result (or its exception), if it ends within `deadline` seconds; else `abort()` is called
    (it must make `work` end: close what it holds open) and PostError is raised."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed to the caller, whatever it is
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="promote-post", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        abort()
        raise PostError(f"did not answer within {deadline:g} s (the deadline for the whole request)")
    done, value = outcome[0]
    if not done:
        raise value
    return value


def _shut(sock: socket.socket | None) -> None:
    """Shut a connection down from another thread: a read blocked on it returns at once. The plain socket's
    shutdown, also under TLS (an SSLSocket's own would drop its TLS state under the reading thread)."""
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _kind(reason: BaseException) -> str:
    """The failure's class, with its family when that is a wider one (ConnectionError: ConnectionRefusedError)."""
    name = type(reason).__name__
    family = next((f.__name__ for f in (ConnectionError, TimeoutError, ssl.SSLError) if isinstance(reason, f)), name)
    return name if family == name else f"{family}: {name}"


class _AnyStatus(urllib.request.HTTPErrorProcessor):
    """Every answer goes back to the caller as it is: no error for a 4xx or 5xx, and no redirect handling
    (urllib follows redirects only through this processor)."""

    def http_response(self, request: Any, response: Any) -> Any:
        return response

    https_response = http_response


def _recording(connection_class: type[http.client.HTTPConnection], opened: list) -> Callable[..., Any]:
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = connection_class(host, **kwargs)
        opened.append(connection)  # its socket, once connected, is what the deadline shuts
        return connection

    return make


class _Http(urllib.request.HTTPHandler):
    def __init__(self, opened: list) -> None:
        super().__init__()
        self.opened = opened

    def http_open(self, req: Any) -> Any:
        return self.do_open(_recording(http.client.HTTPConnection, self.opened), req)


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, opened: list) -> None:
        super().__init__(context=_tls())
        self.opened = opened

    def https_open(self, req: Any) -> Any:
        return self.do_open(_recording(http.client.HTTPSConnection, self.opened), req, context=_tls())


@cache
def _tls() -> ssl.SSLContext:
    """The system's trust store, as urllib uses by default; made once (loading it takes a while)."""
    return ssl.create_default_context()
