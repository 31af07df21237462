"""The board under test: the local server (and the Azure route behind a stand-in for App Service) on the
session's Azurite, a demo-like run to look at, and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from shared.application import config
from shared.domain.plan import validate_plan
from tests.fakes import event

CHROMIUM = os.environ.get("PROMOTE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():  # a skipped browser test is a failed one
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium when run as root; "
            "elsewhere install it (apt-get install chromium) or set PROMOTE_CHROMIUM"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def board(stack):
    """The local board server on a free port; yields its base URL."""
    from shared.local.board import make_server

    server = make_server(stack, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def principal(name: str = "ana@contoso.com") -> str:
    """An X-MS-CLIENT-PRINCIPAL header value as App Service Authentication sends it (base64 JSON)."""
    doc = {
        "auth_typ": "aad",
        "name_typ": "name",
        "role_typ": "roles",
        "claims": [{"typ": "name", "val": name}, {"typ": "preferred_username", "val": name}],
    }
    return base64.b64encode(json.dumps(doc).encode()).decode()


@pytest.fixture
def azure_board(stack, monkeypatch):
    """The registered `board` function behind a plain HTTP server, as the Functions host would call it
    (routePrefix api): every request becomes a real azure.functions.HttpRequest."""
    import azure.functions as func

    from shared.local.localhost import registered_function

    function = registered_function("board")
    monkeypatch.setenv(config.ENV_EASY_AUTH_ENABLED, "true")  # as App Service sets it with authentication on

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            prefix = "/api/board/"
            if not (url.path + "/").startswith(prefix):
                self.send_response(404)
                self.end_headers()
                return
            params = dict(parse_qsl(url.query))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else b""
            request = func.HttpRequest(
                method=self.command,
                url=f"http://{self.headers.get('Host')}{self.path}",
                headers=dict(self.headers),
                params=params,
                route_params={"path": url.path[len(prefix) :]},
                body=body,
            )
            response = function(request)
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.get_body())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/board/"
    server.shutdown()
    server.server_close()


class DemoRun:
    """A flight release as `promote demo` runs it (an alert at 50% rolls back, an operator retries with a
    reason, then it is promoted) and a staged release that refuses a stranger's approval."""

    def __init__(self, stack, name: str):
        self.stack, self.flight, self.staged, self.n = stack, f"{name}-flight", f"{name}-staged", 0

    def apply(self) -> None:
        self.stack.service.apply(
            validate_plan(
                {
                    "release": self.flight,
                    "model": "flight",
                    "approvers": [APPROVER],
                    "operators": [OPERATOR],
                    "flights": [{"percent": 10}, {"percent": 50}, {"percent": 100}],
                    "workloads": [{"name": "web-shop", "assets": ["vm-web-01", "vm-web-02"]}],
                }
            )
        )
        self.stack.service.apply(
            validate_plan(
                {
                    "release": self.staged,
                    "model": "staged",
                    "approvers": [APPROVER],
                    "operators": [OPERATOR],
                    "workloads": [
                        {"name": "crm", "assets": ["vm-crm-01"]},
                        {"name": "billing", "assets": ["vm-bill-01"]},
                    ],
                }
            )
        )

    def send(self, release: str, type_: str, workload: str | None, **data) -> None:
        self.n += 1
        result = self.stack.service.handle(event(type_, release, workload, f"{release}-{self.n}", **data))
        assert result.outcome in ("applied", "rejected"), result

    def up_to_rollback(self) -> None:
        r = self.flight
        self.send(r, "asset-replicated", "web-shop", asset="vm-web-01")
        self.send(r, "asset-replicated", "web-shop", asset="vm-web-02")
        self.send(r, "tests-passed", "web-shop", suite="smoke", run="118")
        self.send(r, "flight-healthy", "web-shop", flight=1)
        self.send(r, "alert", "web-shop", severity="Sev1", description="HTTP 5xx above 2%")

    def retry_and_promote(self) -> None:
        r = self.flight
        self.send(r, "override", "web-shop", action="retry", actor=OPERATOR, reason="fixed the connection pool")
        self.send(r, "tests-passed", "web-shop", suite="smoke", run="119")
        for flight in (1, 2, 3):
            self.send(r, "flight-healthy", "web-shop", flight=flight)

    def staged_run(self) -> None:
        r = self.staged
        for workload, asset in (("crm", "vm-crm-01"), ("billing", "vm-bill-01")):
            self.send(r, "asset-replicated", workload, asset=asset)
            self.send(r, "tests-passed", workload)
        self.send(r, "override", None, action="approve", actor="mallory@evil.example", reason="let me in")


@pytest.fixture
def demo(stack, release_name):
    run = DemoRun(stack, release_name)  # at most 51 characters: "-flight" still fits
    run.apply()
    return run


@pytest.fixture
def acting_board(stack):
    """A local board acting as `actor` (`promote board --actor`): a factory of base URLs."""
    from shared.local.board import make_server

    servers = []

    def start(actor: str | None) -> str:
        server = make_server(stack, "127.0.0.1", 0, actor)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def drain(stack) -> None:
    """What `promote run` does: decide every queued message (the board's actions among them), then stop."""
    from shared.local.common import local_host

    local_host(stack, lock_seconds=1, retry_delay=lambda n: 0).run(until_idle=True, wait=0.5, poll=0.05)
