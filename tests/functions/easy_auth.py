"""A local stand-in for App Service authentication (Easy Auth, Entra ID) in front of the function app, as
strict as the real one where it matters here: no valid bearer token -> 401 (unauthenticatedClientAction:
Return401); any X-MS-CLIENT-PRINCIPAL* header the caller sends is dropped; for a valid token it sets
X-MS-CLIENT-PRINCIPAL from the token's claims and calls the registered function."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import azure.functions as func

from shared.local.localhost import registered_functions


class EasyAuth:
    def __init__(self, tokens: dict[str, str]):
        """`tokens`: bearer token -> the X-MS-CLIENT-PRINCIPAL value Entra ID's claims would give."""
        self.tokens = tokens
        self.seen_headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                principal = outer.tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
                if principal is None:
                    self._send(401, b"", {"WWW-Authenticate": 'Bearer realm="promote"'})
                    return
                headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("x-ms-client-principal")}
                headers["X-MS-CLIENT-PRINCIPAL"] = principal
                outer.seen_headers.append(headers)
                route = self.path.split("?")[0].removeprefix("/api/")
                if route != "overrides":
                    self._send(404, b"", {})
                    return
                request = func.HttpRequest(
                    method="POST", url=self.path, headers=headers, params={}, route_params={}, body=body
                )
                response = registered_functions()["overrides"](request)
                self._send(response.status_code, response.get_body(), {"Content-Type": "application/json"})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EasyAuth:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
