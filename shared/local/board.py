"""`promote board`: the board for the local stack, served by the standard library's HTTP server.

The pages come from shared.application.board (the same renderer as the Azure routes). It listens on
127.0.0.1 by default: the local stack has one user and no sign-in.
"""

from __future__ import annotations

import logging
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("promote.board")


def board_app(stack: Any):
    return stack.board("/")


def make_server(stack: Any, host: str = "127.0.0.1", port: int = 7072) -> ThreadingHTTPServer:
    app = board_app(stack)

    class Handler(BaseHTTPRequestHandler):
        server_version = "promote-board"

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            url = urlsplit(self.path)
            try:
                page = app.handle(url.path, parse_qs(url.query))
            except Exception as exc:  # storage away: say so, keep serving
                self._send(503, "text/plain; charset=utf-8", f"board unavailable: {type(exc).__name__}".encode(), {})
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


def serve(stack: Any, *, host: str = "127.0.0.1", port: int = 7072) -> int:
    try:
        server = make_server(stack, host, port)
    except OSError as exc:
        print(f"promote: cannot listen on {host}:{port}: {exc.strerror or exc} (try --port)", file=sys.stderr)
        return 1
    print(f"board on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
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
