"""A local Azure Monitor over HTTPS for the real SDK clients: the Log Analytics query API
(`POST /v1/workspaces/{id}/query`, LogsQueryClient) and the regional metrics batch API
(`POST /subscriptions/{id}/metrics:getBatch`, MetricsClient), with the shapes of the REST reference.

As strict as Azure where promote could go wrong: a bearer token for the API's audience in the monitor's cloud
is required (401 without one, or for another audience or cloud: tests/tokens.py), unknown workspaces answer
404, a body without `query`/`timespan` or a bad ISO 8601 interval is a 400, the metrics batch needs its
api-version, a metric namespace matching every resource's type, resources of the path's subscription and of
the endpoint's region, and known metric names (400 otherwise). `fail()` queues faults: errors, 429 with
Retry-After, partial results (200 with an `error`), and slow answers (a client timeout).

Its budgets are Azure's (Azure Monitor service limits, "User query throttling"; "How to migrate from the metrics
API to the getBatch API"), per caller (the token's `oid`):
- Log Analytics: 200 queries in any 30 seconds (`logs_per_30s`), answered 429 with Retry-After beyond it (the
  seconds until the oldest query leaves the window); 5 run at once (`logs_concurrent`), the rest wait in a
  queue of 200 (`logs_queue`) for at most 3 minutes (`logs_queue_wait`), 429 when it is full or they waited
  too long. `logs_latency` makes every query take that long; `max_running` is the most seen running at once,
  `max_in_flight` the most sent at once (running or queued).
- metrics:getBatch: at most 50 unique resource ids per call (400 beyond).
`clock` (seconds) is the one the 30-second window is counted on: a test's fake clock or the real one.
"""

from __future__ import annotations

import json
import math
import re
import ssl
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tests.https_server import HttpsServer
from tests.tokens import AUDIENCES, claims, refusal

METRICS_API_VERSION = "2024-02-01"
LOGS_PER_30S, LOGS_CONCURRENT, LOGS_QUEUE, LOGS_QUEUE_WAIT = 200, 5, 200, 180.0
METRICS_BATCH = 50
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_AGGREGATIONS = {"average", "minimum", "maximum", "total", "count"}


@dataclass
class Fault:
    api: str  # logs | metrics
    status: int  # an HTTP status; 200 with `partial` makes a partial result; `delay` makes a slow answer
    times: int = 1
    retry_after: str | None = None
    partial: bool = False
    delay: float = 0.0


@dataclass
class Call:
    api: str
    path: str
    query: dict
    body: dict | None
    status: int = 0


@dataclass
class FakeMonitor:
    # workspace id -> function(query text, (start, end)) -> (columns [(name, type)], rows)
    workspaces: dict[str, Callable] = field(default_factory=dict)
    # resource id (lower) -> {"region", "namespace", "metrics": {name: [points]}}
    resources: dict[str, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    cloud: str = "AzureCloud"  # whose audiences a token must be for (tests.tokens.AUDIENCES)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # budgets (per caller)
    clock: Callable[[], float] = time.monotonic
    logs_per_30s: int = LOGS_PER_30S
    logs_concurrent: int = LOGS_CONCURRENT
    logs_queue: int = LOGS_QUEUE
    logs_queue_wait: float = LOGS_QUEUE_WAIT
    logs_latency: float = 0.0
    logs_gate: threading.Event | None = None  # set: running queries answer (a test holds them running until then)
    accepted: dict[str, deque] = field(default_factory=dict)  # caller -> times of queries let in (30 s window)
    running: Counter = field(default_factory=Counter)  # caller -> queries running now
    queued: Counter = field(default_factory=Counter)  # caller -> queries waiting for a slot
    max_running: Counter = field(default_factory=Counter)
    max_in_flight: Counter = field(default_factory=Counter)  # running + queued: what the caller had sent at once
    throttled: Counter = field(default_factory=Counter)  # why -> 429s answered for the budget
    slots: threading.Condition = field(default_factory=threading.Condition)

    # -- seeding ------------------------------------------------------------------------------
    def workspace(self, workspace_id: str, answer: Callable) -> None:
        self.workspaces[workspace_id.lower()] = answer

    def resource(self, resource_id: str, region: str, metrics: dict[str, list[dict]]) -> None:
        provider = resource_id.split("/providers/", 1)[1].split("/")
        self.resources[resource_id.lower()] = {
            "id": resource_id,
            "region": region,
            "namespace": f"{provider[0]}/{provider[1]}",
            "metrics": metrics,
        }

    def fail(self, api: str, status: int, **kwargs) -> None:
        self.faults.append(Fault(api, status, **kwargs))

    def metrics_endpoint(self) -> str:
        return f"{self.url}/regions/{{region}}"

    def logs_endpoint(self) -> str:
        return f"{self.url}/v1"

    # -- the APIs -----------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict, body: dict | None) -> tuple[int, dict, dict | None]:
        parts = urlsplit(target)
        api = "metrics" if "metrics:getBatch" in parts.path else "logs"
        call = Call(api, unquote(parts.path), {k: v[0] for k, v in parse_qs(parts.query).items()}, body)
        with self.lock:
            self.calls.append(call)
            fault = next((f for f in self.faults if f.api == api and f.times > 0), None)
            if fault:
                fault.times -= 1
        status, out_headers, payload = self._answer(method, call, headers, body, fault)
        call.status = status
        return status, out_headers, payload

    def _answer(self, method, call: Call, headers, body, fault: Fault | None):
        why = refusal(headers.get("authorization"), AUDIENCES[self.cloud][call.api])
        if why == "no bearer token":
            return _error(401, "AuthorizationRequired", "Valid authentication was not provided")
        if why:
            return _error(401, "InvalidAuthenticationTokenAudience", f"The access token is not valid here: {why}")
        if method != "POST":
            return _error(405, "MethodNotAllowed", f"{method} is not supported")
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and not fault.partial and fault.status != 200:
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            code = "TooManyRequests" if fault.status == 429 else "ServiceError"
            status, _, payload = _error(fault.status, code, f"injected {fault.status}")
            return status, extra, payload
        if call.api == "metrics":
            return self._metrics(call, body)
        caller = str((claims(headers.get("authorization")) or {}).get("oid", ""))
        refused = self._admit(caller)
        if refused:
            return refused
        try:
            if self.logs_latency:
                time.sleep(self.logs_latency)
            if self.logs_gate is not None:
                self.logs_gate.wait(30)
            return self._logs(call, body, fault)
        finally:
            with self.slots:
                self.running[caller] -= 1
                self.slots.notify_all()

    def _admit(self, caller: str):
        """Log Analytics' user throttling: the rate over the last 30 s, then a running slot (queued if none)."""
        with self.slots:
            window = self.accepted.setdefault(caller, deque())
            now = self.clock()
            while window and window[0] <= now - 30:
                window.popleft()
            if len(window) >= self.logs_per_30s:
                self.throttled["rate"] += 1
                wait = max(1, math.ceil(window[0] + 30 - now))
                return _throttled(f"more than {self.logs_per_30s} queries in 30 seconds", wait)
            if self.running[caller] >= self.logs_concurrent and self.queued[caller] >= self.logs_queue:
                self.throttled["queue-full"] += 1
                return _throttled(f"{self.logs_queue} queries already wait in the concurrency queue", 10)
            window.append(now)
            self.queued[caller] += 1
            in_flight = self.queued[caller] + self.running[caller]
            self.max_in_flight[caller] = max(self.max_in_flight[caller], in_flight)
            deadline = time.monotonic() + self.logs_queue_wait
            while self.running[caller] >= self.logs_concurrent:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.queued[caller] -= 1
                    self.throttled["queue-wait"] += 1
                    return _throttled(f"the query waited {self.logs_queue_wait:g}s in the concurrency queue", 10)
                self.slots.wait(left)
            self.queued[caller] -= 1
            self.running[caller] += 1
            self.max_running[caller] = max(self.max_running[caller], self.running[caller])
            return None

    def _logs(self, call: Call, body, fault):
        match = re.fullmatch(r"/v1/workspaces/([^/]+)/query", call.path)
        if not match:
            return _error(404, "PathNotFoundError", f"the requested path {call.path} does not exist")
        answer = self.workspaces.get(match.group(1).lower())
        if answer is None:
            return _error(404, "WorkspaceNotFoundError", f"workspace {match.group(1)} not found")
        if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
            return _error(400, "BadArgumentError", "the request had some invalid properties: query is required")
        try:
            start, end = (_iso(p) for p in body.get("timespan", "").split("/"))
        except ValueError:
            return _error(400, "BadArgumentError", f"invalid timespan {body.get('timespan')!r}")
        if end <= start:
            return _error(400, "BadArgumentError", "the timespan ends before it starts")
        columns, rows = answer(body["query"], (start, end))
        table = {"name": "PrimaryResult", "columns": [{"name": n, "type": t} for n, t in columns], "rows": rows}
        payload: dict = {"tables": [table]}
        if fault and fault.partial:
            payload["error"] = {
                "code": "PartialError",
                "message": "There were some errors when processing your query.",
                "details": [{"code": "EngineError", "message": "Query exceeded the memory limit", "resources": []}],
            }
        return 200, {}, payload

    def _metrics(self, call: Call, body):
        match = re.fullmatch(r"/regions/([a-z0-9]+)/subscriptions/([^/]+)/metrics:getBatch", call.path)
        if not match:
            return _error(404, "NotFound", f"{call.path} is not a metrics batch path")
        region, subscription = match.groups()
        q = call.query
        if q.get("api-version") != METRICS_API_VERSION:
            return _error(400, "InvalidApiVersion", f"api-version {q.get('api-version')!r} is not supported")
        for name in ("metricnamespace", "metricnames"):
            if not q.get(name):
                return _error(400, "BadRequest", f"{name} is required")
        try:
            start, end = _iso(q["starttime"]), _iso(q["endtime"])
        except (KeyError, ValueError):
            return _error(400, "BadRequest", "starttime and endtime must be ISO 8601 times")
        aggregations = [a.strip().lower() for a in q.get("aggregation", "average").split(",")]
        if not set(aggregations) <= _AGGREGATIONS:
            return _error(400, "BadRequest", f"unknown aggregation in {q.get('aggregation')}")
        ids = (body or {}).get("resourceids")
        if not isinstance(ids, list) or not ids:
            return _error(400, "BadRequest", "resourceids must list at least one resource")
        if len({str(i).lower() for i in ids}) > METRICS_BATCH:
            return _error(400, "BadRequest", f"resourceids lists more than {METRICS_BATCH} unique resources")
        values = []
        for rid in ids:
            resource = self.resources.get(str(rid).lower())
            if not str(rid).lower().startswith(f"/subscriptions/{subscription.lower()}/"):
                return _error(400, "BadRequest", f"{rid} is not in subscription {subscription}")
            if resource is None:
                return _error(400, "ResourceNotFound", f"resource {rid} not found")
            if resource["region"] != region:
                return _error(400, "BadRequest", f"{rid} is in {resource['region']}, not {region}")
            if resource["namespace"].lower() != q["metricnamespace"].lower():
                return _error(400, "BadRequest", f"namespace {q['metricnamespace']} does not match {rid}")
            metrics = []
            for name in q["metricnames"].split(","):
                name = name.replace("%2", ",")
                known = {k.lower(): k for k in resource["metrics"]}
                if name.lower() not in known:
                    return _error(
                        400,
                        "BadRequest",
                        f"Failed to find metric configuration for provider: {resource['namespace']}, metric: {name}",
                    )
                points = [
                    {"timeStamp": p["timeStamp"], **{a: p[a] for a in aggregations if a in p}}
                    for p in resource["metrics"][known[name.lower()]]
                    if start <= _iso(p["timeStamp"]) < end
                ]
                metrics.append(
                    {
                        "id": f"{resource['id']}/providers/Microsoft.Insights/metrics/{known[name.lower()]}",
                        "type": "Microsoft.Insights/metrics",
                        "errorCode": "Success",
                        "name": {"value": known[name.lower()], "localizedValue": known[name.lower()]},
                        "displayDescription": "",
                        "unit": "Percent",
                        "timeseries": [{"metadatavalues": [], "data": points}],
                    }
                )
            values.append(
                {
                    "starttime": q["starttime"],
                    "endtime": q["endtime"],
                    "interval": q.get("interval", "PT1M"),
                    "namespace": resource["namespace"],
                    "resourceregion": region,
                    "resourceid": resource["id"],
                    "value": metrics,
                }
            )
        return 200, {}, {"values": values}

    def serve(self, cert: Path, key: Path) -> HttpsServer:
        server = HttpsServer(type("Handler", (_Handler,), {"monitor": self}), cert, key)
        self.url = server.url
        return server


def _iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time needs its offset")
    return moment


def _throttled(message: str, retry_after: int) -> tuple[int, dict, dict]:
    status, _, payload = _error(429, "TooManyRequests", message)
    return status, {"Retry-After": str(retry_after)}, payload


def _error(status: int, code: str, message: str) -> tuple[int, dict, dict]:
    return status, {}, {"error": {"code": code, "message": message}}


class _Handler(BaseHTTPRequestHandler):
    monitor: FakeMonitor
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, payload = self.monitor.handle(self.command, self.path, headers, body)
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            for name, value in {
                "Content-Type": "application/json; charset=utf-8",
                "Content-Length": str(len(data)),
                "x-ms-request-id": str(uuid.uuid4()),
                **out_headers,
            }.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args) -> None:  # quiet
        pass
