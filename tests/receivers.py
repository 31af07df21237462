"""Local receivers of notifications, as strict as the real ones: a Teams workflow, a CloudEvents webhook and an
Event Grid basic topic. Each accepts only what the real service accepts, records what it got, and can be
down (connection refused), slow, flaky, trickling (its answer a byte at a time, for as long as the sender
listens), redirecting (a 302 to a sign-in page, which answers a GET with 200, as a gateway in front of a
receiver does) or answer a status of the test's choosing (a gateway's 403, a 404) on demand.

The topic takes its access key (`aeg-sas-key`) or a Microsoft Entra token (tests/tokens.py) for its cloud's
Event Grid audience from a principal holding EventGrid Data Sender (`senders`, None: any), and refuses the rest
401, as Event Grid does; a topic whose input schema is not CloudEvents 1.0 refuses CloudEvents 400."""

from __future__ import annotations

import json
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.tokens import AUDIENCES, claims, refusal

EVENT_GRID_KEY = "local-event-grid-key"
CLOUD_EVENT_SCHEMA = "CloudEventSchemaV1_0"


@dataclass
class Received:
    kind: str
    id: str
    body: Any

    @property
    def release(self) -> str:
        if self.kind == "teams":  # the card's title: "<release>/<workload>: <kind>" or "<release>: <kind>"
            title = self.body["attachments"][0]["content"]["body"][0]["text"]
            return title.split(":")[0].split("/")[0]
        return self.body["data"]["release"]


@dataclass
class Behaviour:
    slow_seconds: float = 0.0
    flaky: float = 0.0  # share of requests answered 503
    trickle_every: float = 0.0  # > 0: the answer's head goes out a byte every this many seconds ...
    trickle_for: float = 60.0  # ... for up to this long, unless the sender hangs up first
    redirect: bool = False  # answer 302 to the sign-in page (/login, plain http) instead of judging the request
    status: int | None = None  # answer this status to every POST (a gateway's refusal, an outage)
    seed: int = 7
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


def _problem(doc: Any, kind: str) -> str | None:
    """Why the real receiver would refuse this body (None: it accepts it)."""
    if kind == "webhook":
        if not isinstance(doc, dict):
            return "not a CloudEvent"
        missing = [k for k in ("specversion", "id", "source", "type") if not doc.get(k)]
        return f"CloudEvent without {missing}" if missing or doc.get("specversion") != "1.0" else None
    if kind == "teams":
        attachments = doc.get("attachments") if isinstance(doc, dict) else None
        if doc.get("type") != "message" or not attachments:
            return "a Teams workflow message needs type 'message' and attachments"
        card = attachments[0]
        if (
            card.get("contentType") != "application/vnd.microsoft.card.adaptive"
            or card.get("content", {}).get("type") != "AdaptiveCard"
        ):
            return "the attachment is not an Adaptive Card"
        return None
    if kind == "event-grid":
        if not isinstance(doc, list) or not doc:
            return "an Event Grid batch is a non-empty JSON array"
        for event in doc:
            problem = _problem(event, "webhook")
            if problem:
                return problem
        return None
    return "unknown kind"


class Receiver:
    """One HTTP endpoint per kind: /teams, /webhook, /event-grid/api/events."""

    CONTENT_TYPES = {
        "webhook": "application/cloudevents+json",
        "teams": "application/json",
        "event-grid": "application/cloudevents-batch+json",
    }

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        self.tls = tls  # (certificate, key): serve HTTPS, as a bearer token is never sent over plain HTTP
        self.received: list[Received] = []
        self.refused: list[str] = []
        self.gets: list[str] = []  # paths asked for with GET (a redirected POST arrives as one)
        self.hung_up: list[float] = []  # seconds into a trickled answer at which the sender hung up
        self.behaviour = Behaviour()
        # the Event Grid topic: its cloud's audience, who may publish (None: any principal), its input schema
        self.event_grid_audience = AUDIENCES["AzureCloud"]["event-grid"]
        self.senders: set[str] | None = None
        self.input_schema = CLOUD_EVENT_SCHEMA
        self.principals: list[str] = []  # who published what was accepted: "key" or the token's oid
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # life cycle: down means the port is closed (connection refused), like a receiver that is not there
    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                receiver._handle(self)

            def do_GET(self) -> None:  # noqa: N802  (the sign-in page a redirect points to)
                with receiver.lock:
                    receiver.gets.append(self.path)
                page = b"<html><body>Sign in</body></html>"
                self.send_response(200 if self.path.split("?")[0] == "/login" else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, kind: str) -> str:
        return (
            f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
            + {"teams": "/teams", "webhook": "/webhook", "event-grid": "/event-grid/api/events"}[kind]
        )

    def ids(self, kind: str | None = None, release: str | None = None) -> list[str]:
        with self.lock:
            return [
                r.id
                for r in self.received
                if (kind is None or r.kind == kind) and (release is None or r.release == release)
            ]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        kind = {"/teams": "teams", "/webhook": "webhook", "/event-grid/api/events": "event-grid"}.get(path)
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if self.behaviour.slow_seconds:
            time.sleep(self.behaviour.slow_seconds)
        if self.behaviour.redirect:
            with self.lock:
                self.refused.append(f"{kind}: 302 redirected to /login")
            request.send_response(302)
            request.send_header("Location", f"http://127.0.0.1:{self.port}/login?next={path}")
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        if self.behaviour.trickle_every:
            self._trickle(request)
            return
        status, why = (self.behaviour.status, "as told") if self.behaviour.status else self._judge(request, kind, body)
        if status == 200 and self.behaviour.flaky and self.behaviour.rng.random() < self.behaviour.flaky:
            status, why = 503, "flaky"
        if status == 200:
            doc = json.loads(body)
            with self.lock:
                if kind == "event-grid":
                    token = claims(request.headers.get("Authorization"))
                    self.principals.append(str(token["oid"]) if token else "key")
                for event in doc if kind == "event-grid" else [doc]:
                    ident = event["id"] if kind != "teams" else _teams_id(event)
                    self.received.append(Received(kind, ident, event))  # type: ignore[arg-type]
        else:
            with self.lock:
                self.refused.append(f"{kind}: {status} {why}")
        request.send_response(202 if kind == "teams" and status == 200 else status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def _trickle(self, request: BaseHTTPRequestHandler) -> None:
        """An answer's head a byte at a time (a status line, then header after header): every read of the
        sender gets a byte well within any per-read timeout. Ends after `trickle_for` seconds (with a 200)
        or when the sender hangs up, which is recorded."""
        started = time.monotonic()
        head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Trickle-%d: %d\r\n" % (i, i) for i in range(90))
        try:
            for byte in head:
                if time.monotonic() - started > self.behaviour.trickle_for:
                    break
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
                time.sleep(self.behaviour.trickle_every)
            request.wfile.write(b"Content-Length: 0\r\n\r\n")
            request.wfile.flush()
        except OSError:  # the sender hung up (reset, broken pipe)
            with self.lock:
                self.hung_up.append(time.monotonic() - started)
        request.close_connection = True

    def _judge(self, request: BaseHTTPRequestHandler, kind: str | None, body: bytes) -> tuple[int, str]:
        if kind is None:
            return 404, "no such endpoint"
        if kind == "event-grid":
            why = self._unauthorised(request)
            if why:
                return 401, why
            if self.input_schema != CLOUD_EVENT_SCHEMA:
                return 400, f"the topic's input schema is {self.input_schema}: it takes no CloudEvents"
        if not (request.headers.get("Content-Type") or "").startswith(self.CONTENT_TYPES[kind]):
            return 415, f"content type {request.headers.get('Content-Type')}"
        try:
            doc = json.loads(body)
        except ValueError:
            return 400, "not JSON"
        problem = _problem(doc, kind)
        return (400, problem) if problem else (200, "")

    def _unauthorised(self, request: BaseHTTPRequestHandler) -> str | None:
        """Why the topic refuses the request's credentials (None: it may publish)."""
        key, authorization = request.headers.get("aeg-sas-key"), request.headers.get("Authorization")
        if key is not None:
            return None if key == EVENT_GRID_KEY else "wrong aeg-sas-key"
        if authorization is None:
            return "no aeg-sas-key and no bearer token"
        why = refusal(authorization, self.event_grid_audience)
        if why:
            return why
        principal = (claims(authorization) or {}).get("oid")
        if self.senders is not None and principal not in self.senders:
            return f"{principal} does not have EventGrid Data Sender on the topic"
        return None


def _teams_id(message: dict) -> str:
    facts = message["attachments"][0]["content"]["body"][2]["facts"]
    return next(f["value"] for f in facts if f["title"] == "Notification id")
