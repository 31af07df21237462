"""Telemetry on the real local stack: the registered `events` function run by the local host on Azurite's queue,
the table store and the local router on Azurite's tables. The Azure SDKs' calls are children of the span of the
message they serve, and a timer that went through the real queue is a child of the span that scheduled it.

In a process of its own: OpenTelemetry's global tracer provider (which azure-core's plugin uses) is set once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shared.domain import tracing

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from azure.core.settings import settings

spans = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(provider)
settings.tracing_implementation = "opentelemetry"

from shared.application import telemetry
from shared.application.bootstrap import Stack, use_stack
from shared.application.config import LOCAL_QUEUE, load_settings
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import event

telemetry.install(provider, MeterProvider())
stack = Stack(load_settings())
use_stack(stack)
name = sys.argv[1]
stack.service.apply(validate_plan({
    "release": name, "model": "flight", "operators": ["ops@contoso.com"],
    "flights": [{"percent": 10, "bake": "1s"}, {"percent": 100, "bake": "0s"}],
    "workloads": [{"name": "web", "assets": ["vm-1"]}],
}))
spans.clear()  # the apply's own requests: before any message
for i, (kind, data) in enumerate([("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {})]):
    stack.publisher.publish(json.loads(event(kind, name, "web", f"e{i}", **data)))
host = local_host(stack)
host.judge = None  # its rounds read every release on this Azurite: another test's flights would add verdicts
stats = host.run(until_idle=True, wait=3, poll=0.05)
print(json.dumps({"completed": stats.completed, "spans": [
    {"name": s.name, "kind": s.kind.name, "trace": s.context.trace_id, "id": s.context.span_id,
     "parent": s.parent.span_id if s.parent else None, "attributes": dict(s.attributes)}
    for s in spans.get_finished_spans()]}, default=str))
"""


def test_the_azure_sdk_calls_are_children_of_the_message_they_serve(azurite, stack, release_name, tmp_path):
    # `stack`: the shared queue emptied first, so that the host counts this release's messages only
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROMOTE_", "OTEL_", "APPLICATIONINSIGHTS_"))}
    env.update(PROMOTE_STORAGE_CONNECTION_STRING=azurite.connection_string, PROMOTE_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, release_name], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["completed"] == 3  # two messages and the bake timer
    spans = found["spans"]
    process = {s["attributes"]["cloudevents.event_type"]: s for s in spans if s["name"].startswith("process ")}
    assert set(process) == {"asset-replicated", "tests-passed", "bake-elapsed"}
    root = tracing.release_context(release_name)
    assert {s["trace"] for s in process.values()} == {root.trace_id}
    # the timer crossed Azurite's queue and came back a child of the span that scheduled it
    assert process["bake-elapsed"]["parent"] == process["tests-passed"]["id"]
    for s in process.values():
        assert s["attributes"]["messaging.system"] == "azure.storage.queue"
        assert s["attributes"]["messaging.servicebus.message.delivery_count"] == 1
    # the storage and routing calls of each message are spans under that message's span
    by_id = {s["id"]: s for s in spans}

    def handled_by(span: dict) -> str | None:
        while span is not None and not span["name"].startswith("process "):
            span = by_id.get(span["parent"])
        return span["attributes"]["cloudevents.event_type"] if span else None

    sdk = [s for s in spans if not s["name"].startswith("process ")]
    under = {kind: [s["name"] for s in sdk if handled_by(s) == kind] for kind in process}
    assert all(under.values()), under  # every message read its release at least
    assert any("TableClient" in name for name in under["tests-passed"]), under["tests-passed"]
    assert sum(1 for s in sdk if s["kind"] == "CLIENT") >= 6
