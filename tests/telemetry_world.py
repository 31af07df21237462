"""A flight release with a rollback and a retry, driven through the real service with fakes, and telemetry read
from in-memory exporters: what tests/unit/test_telemetry.py checks and docs/observability.md pictures."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from shared.application import telemetry
from shared.domain import tracing
from shared.domain.plan import validate_plan
from tests.fakes import FakeScheduler, event, world

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
CI_TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # a CI pipeline's own trace
PLAN = {
    "release": "wave-7",
    "model": "flight",
    "approval": "manual",
    "approvers": [APPROVER],
    "operators": [OPERATOR],
    "flights": [{"percent": 10, "bake": "5m"}, {"percent": 50, "bake": "15m"}, {"percent": 100, "bake": "0s"}],
    "workloads": [{"name": "payroll", "assets": ["vm-web", "vm-db"]}, {"name": "ledger", "assets": ["vm-app"]}],
}


@dataclass
class Recording(FakeScheduler):
    """A scheduler that also notes which message's span was open when each message was scheduled: read from
    OpenTelemetry's own context, not from the traceparent under test."""

    by: dict[str, str | None] = field(default_factory=dict)  # scheduled id -> the handled message's id

    def schedule(self, event: dict, due: datetime) -> None:
        from opentelemetry import trace

        span = trace.get_current_span()
        self.by[event["id"]] = (getattr(span, "attributes", None) or {}).get("cloudevents.event_id")
        super().schedule(event, due)


class Flight:
    """The release's story, step by step; `handled` keeps every message body handled, in order."""

    def __init__(self, *, applied_early: float = 0.0, shard_size: int | None = None, **plan_changes):
        self.w = world(shard_size=shard_size)  # shard_size: a large release's shards, one decided at a time
        self.scheduler = Recording()
        self.w.scheduler = self.w.service.scheduler = self.scheduler
        self.plan = validate_plan({**PLAN, **plan_changes})
        self.applied_at = self.w.clock.now()
        self.w.service.apply(self.plan)
        self.w.clock.advance(applied_early)  # the apply is not in history: the first state starts earlier
        self.n = 0
        self.handled: list[dict] = []
        self.moments: list[datetime] = []  # when (story time) each message was handled
        self.results: list = []

    def send(self, type_: str, workload: str | None, **data):
        self.n += 1
        trace = data.pop("trace", None)
        body = json.loads(event(type_, "wave-7", workload, f"m{self.n}", time=self.w.clock.now(), **data))
        body.update(trace or {})
        return self.handle(json.dumps(body))

    def handle(self, body: str):
        self.handled.append(json.loads(body))
        self.moments.append(self.w.clock.now())
        result = self.w.service.handle(body)
        self.results.append(result)
        return result

    def tick(self, seconds: float) -> None:
        self.w.clock.advance(seconds)
        for due in self.w.scheduler.due(self.w.clock.now()):
            self.handle(json.dumps(due))

    def override(self, action: str, workload: str | None, actor: str = OPERATOR):
        return self.send("override", workload, action=action, actor=actor, reason=f"{action} by hand")

    def flighting(self, workload: str = "payroll") -> Flight:
        """`workload` replicated, tested, approved: at flight 1."""
        for asset in self.plan.workload(workload).assets:  # type: ignore[union-attr]
            self.send("asset-replicated", workload, asset=asset)
        self.send("tests-passed", workload)
        self.override("approve", workload, actor=APPROVER)
        return self

    def story(self) -> Flight:
        for workload, assets in (("payroll", ["vm-web", "vm-db"]), ("ledger", ["vm-app"])):
            for asset in assets:
                self.tick(60)
                self.send("asset-replicated", workload, asset=asset)
        self.tick(120)
        # the test pipeline runs in a trace of its own: the message's span joins the release's trace, linked
        self.send("tests-passed", "payroll", trace={"traceparent": CI_TRACE, "tracestate": "ci=run-42"})
        self.send("tests-passed", "ledger")
        self.tick(300)
        self.override("approve", None, actor=APPROVER)  # the whole release: both workloads start flight 1
        self.tick(301)  # bake of flight 1 over (timers delivered)
        self.send("flight-healthy", "payroll", flight=1)
        self.send("flight-healthy", "ledger", flight=1)
        self.tick(90)
        self.send("alert", "payroll", severity="Sev1", description="error rate 7%")  # payroll: rolled back
        self.tick(30)
        self.send("flight-unhealthy", "ledger", flight=2)  # ledger: rolled back by a verdict
        self.tick(600)
        self.override("retry", "payroll")
        self.tick(60)
        self.send("tests-passed", "payroll")
        self.tick(120)
        self.override("approve", "payroll", actor=APPROVER)
        self.tick(301)
        self.send("flight-healthy", "payroll", flight=1)
        self.tick(60)
        self.override("pause", "payroll")
        self.tick(240)
        self.override("resume", "payroll")
        self.tick(901)
        # a sender that continues the release's trace: its span becomes the parent
        root = tracing.release_context("wave-7")
        joined = tracing.TraceContext(root.trace_id, 0x1234567890ABCDEF).attributes()
        self.send("flight-healthy", "payroll", flight=2, trace=joined)
        self.tick(5)
        self.send("flight-healthy", "payroll", flight=3)
        self.tick(1)
        return self

    def finish(self) -> Flight:
        """After the story: ledger is aborted, payroll finalized (its decommission is the message the finalize
        sends itself): every workload and the release reach an end."""
        self.tick(3600)
        self.override("abort", "ledger")
        self.tick(1800)
        self.override("finalize", "payroll", actor=APPROVER)
        self.tick(0)  # the decommission
        return self


def in_memory(failing: bool = False):
    """Install in-memory telemetry (or telemetry whose every export and instrument fails): (spans, metrics)."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans, metrics = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(Raising() if failing else spans))
    telemetry.install(tracer_provider, BrokenMeters() if failing else MeterProvider(metric_readers=[metrics]))
    return spans, metrics


class Raising:
    """A span exporter that raises on every export (an endpoint down, a bug in an exporter)."""

    calls = 0

    def export(self, spans):
        Raising.calls += 1
        raise ConnectionError("collector unreachable")

    def shutdown(self):
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return False


class BrokenMeters:
    """A meter provider whose instruments raise when recording."""

    def get_meter(self, name: str, *args, **kwargs):
        return self

    def _broken(self, *args, **kwargs):
        return self

    create_counter = create_histogram = _broken

    def add(self, *args, **kwargs):
        raise RuntimeError("meter broken")

    record = add


def points(reader) -> dict[str, list]:
    """metric name -> its data points."""
    found: dict[str, list] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found
