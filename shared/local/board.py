"""`promote board`: the board for the local stack, served by the standard library's HTTP server.

The pages come from shared.application.board (the same renderer as the Azure routes). It listens on
127.0.0.1 by default: the local stack has one user and no sign-in. Started with `--actor NAME`, that user may
act from it (v3 §19) as NAME, the identity `promote override --actor` takes locally; without, it only shows.
"""

from __future__ import annotations

import logging
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

log = logging.getLogger("promote.board")


def board_app(stack: Any):
    """The stack's board (built on first use), as the function app serves it: with the judge's records for its
    health panel (Stack.board)."""
    return stack.board("/")


STORAGE_AWAY = (ServiceRequestError, ServiceResponseError, ConnectionError)  # no answer from the storage at all
INTERNAL = "the board failed on this page; the error is in promote board's log. Nothing was changed."
STORAGE_DOWN = (
    "board unavailable: the storage of the local stack does not answer. Start it (`promote dev`, or Azurite on "
    "the ports in your settings), then reload this page; nothing was changed."
)
FORM_LIMIT = 64 * 1024


def make_server(stack: Any, host: str = "127.0.0.1", port: int = 7072, actor: str | None = None) -> ThreadingHTTPServer:
    from shared.application.board.actions import visitor_of
    from shared.domain.actors import Principal

    app = board_app(stack)
    principal = Principal(actor) if actor else None

    class Handler(BaseHTTPRequestHandler):
        server_version = "promote-board"

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            url = urlsplit(self.path)
            try:
                page = app.handle(url.path, parse_qs(url.query), visitor_of(dict(self.headers.items()), principal))
            except STORAGE_AWAY:  # storage away: say what to do, keep serving
                log.exception("board page %s", url.path)
                self._send(503, "text/plain; charset=utf-8", STORAGE_DOWN.encode(), {"Retry-After": "5"})
                return
            except Exception:  # a defect: not blamed on storage; logged with its trace, the board keeps serving
                log.exception("board page %s", url.path)
                self._send(500, "text/plain; charset=utf-8", INTERNAL.encode(), {})
                return
            self._send(page.status, page.content_type, page.body, page.headers)

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= FORM_LIMIT:
                self._send(413, "text/plain; charset=utf-8", b"form too large", {})
                return
            body = self.rfile.read(length)
            headers = dict(self.headers.items())
            try:
                page = app.post(
                    url.path,
                    body,
                    self.headers.get("Content-Type", ""),
                    visitor_of(headers, principal),
                    headers,
                    f"http://{self.headers.get('Host') or host}{self.path}",
                    stack.publisher.publish,
                )
            except STORAGE_AWAY:
                log.exception("board action %s", url.path)
                self._send(503, "text/plain; charset=utf-8", STORAGE_DOWN.encode(), {"Retry-After": "5"})
                return
            except Exception:
                log.exception("board action %s", url.path)
                self._send(500, "text/plain; charset=utf-8", INTERNAL.encode(), {})
                return
            self._send(page.status, page.content_type, page.body, page.headers)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug(format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(stack: Any, *, host: str = "127.0.0.1", port: int = 7072, actor: str | None = None) -> int:
    try:
        server = make_server(stack, host, port, actor)
    except OSError as exc:
        print(f"promote: cannot listen on {host}:{port}: {exc.strerror or exc} (try --port)", file=sys.stderr)
        return 1
    acting = f"acting as {actor}" if actor else "read-only: --actor NAME to act from it"
    print(f"board on http://{host}:{server.server_address[1]}/ ({acting}; Ctrl-C to stop)", flush=True)
    previous = signal.signal(signal.SIGTERM, _stop)  # `kill`, a service manager: the same clean stop as Ctrl-C
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        # None: the handler before was not set from Python; the default is what such a process had
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        server.server_close()
    return 0


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
