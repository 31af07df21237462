"""The W3C trace context on promote's messages (shared/domain/tracing.py) and where telemetry goes
(shared/application/telemetry_setup.py): off by default, nothing imported then, one mode a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.application import telemetry_setup
from shared.domain import tracing
from shared.domain.messages import new_event, parse_message

ROOT = Path(__file__).resolve().parents[2]
T = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


def test_a_release_trace_is_derived_from_its_name_alone():
    one, again, other = (
        tracing.release_context("wave-1"),
        tracing.release_context("wave-1"),
        tracing.release_context("wave-2"),
    )
    assert one == again and one.trace_id != other.trace_id and one.span_id != other.span_id
    assert tracing.parse(one.traceparent) == one
    assert len(one.traceparent) == 55 and one.traceparent.endswith("-01")


@pytest.mark.parametrize(
    "text",
    [
        None,
        42,
        "",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",  # no flags
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # version ff is invalid
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # version 00 has nothing after flags
        "00-0af7651916cd43dd8448eb211c80319x-b7ad6b7169203331-01",
    ],
)
def test_an_invalid_traceparent_is_no_trace_context(text):
    assert tracing.parse(text) is None


def test_a_traceparent_is_read_as_w3c_says():
    context = tracing.parse(" 00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-00", "ci=run-42")
    assert context == tracing.TraceContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, False, "ci=run-42")
    later = tracing.parse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-comes-next")
    assert later is not None and later.sampled  # a later version: the fields this version knows are read
    assert tracing.parse(context.traceparent, "x" * 513).state is None  # an over-long tracestate is dropped


def test_every_message_promote_builds_carries_a_traceparent_kept_across_parse():
    doc = new_event("bake-elapsed", {"release": "wave-1", "workload": "w"}, id="x", source="promote/timer", time=T)
    assert doc["traceparent"] == tracing.release_context("wave-1").traceparent  # outside any span: the root
    assert "tracestate" not in doc
    sender = tracing.TraceContext(5, 7, True, "promote=1")
    token = tracing.SENDING.set(sender)
    try:
        doc = new_event("deadline", {"release": "wave-1", "workload": "w", "period": "p"}, id="y", source="s", time=T)
    finally:
        tracing.SENDING.reset(token)
    assert (doc["traceparent"], doc["tracestate"]) == (sender.traceparent, "promote=1")
    message = parse_message(json.dumps(doc))
    assert message.traceparent == sender.traceparent  # a CloudEvents extension attribute: kept, not refused


def test_telemetry_is_off_unless_asked_and_an_unknown_mode_is_said(caplog):
    assert telemetry_setup.from_environment({}) is None
    assert (
        telemetry_setup.from_environment({"PROMOTE_OTEL": "off", "APPLICATIONINSIGHTS_CONNECTION_STRING": "x"}) is None
    )
    assert telemetry_setup.from_environment({"PROMOTE_OTEL": "loud"}) is None
    assert "PROMOTE_OTEL=loud is not one of off, console, otlp" in caplog.text


def test_when_the_worker_set_azure_monitor_up_its_providers_are_used_as_they_are():
    from opentelemetry import metrics, trace

    found = telemetry_setup.from_environment(
        {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
            "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": "true",
        }
    )
    assert found == (trace.get_tracer_provider(), metrics.get_meter_provider())


def run(script: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PROMOTE_", "OTEL_", "APPLICATIONINSIGHTS_"))}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


HANDLE_ONE = """
import json, sys
from tests.fakes import world, event
from shared.domain.plan import validate_plan
w = world()
plan = {"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]}
w.service.apply(validate_plan(plan))
print(json.dumps(w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a")).outcome))
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("opentelemetry", "azure.monitor.opentelemetry")))))
"""


def test_off_imports_nothing_of_opentelemetry():
    done = run(HANDLE_ONE)
    assert done.returncode == 0, done.stderr
    outcome, imported = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert (outcome, imported) == ("applied", [])


def test_console_mode_writes_spans_and_metrics_to_standard_error():
    done = run(
        HANDLE_ONE + "\nfrom opentelemetry import metrics; metrics.get_meter_provider().force_flush()",
        PROMOTE_OTEL="console",
    )
    assert done.returncode == 0, done.stderr
    assert '"applied"' in done.stdout.splitlines()[0]  # standard output is the program's own
    assert '"name": "process asset-replicated"' in done.stderr
    assert '"promote.messages"' in done.stderr


def test_azure_monitor_is_set_up_from_the_connection_string_without_exporting_logs():
    script = (
        HANDLE_ONE
        + """
import logging
from opentelemetry import trace
print(json.dumps([type(trace.get_tracer_provider()).__name__,
                  [type(h).__name__ for h in logging.getLogger().handlers]]))
"""
    )
    done = run(
        script,
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        "IngestionEndpoint=http://127.0.0.1:9/",
    )
    assert done.returncode == 0, done.stderr
    provider, handlers = json.loads(done.stdout.splitlines()[-1])
    assert provider == "TracerProvider"
    assert "LoggingHandler" not in handlers  # the Functions host exports the worker's logs: not twice


def test_locally_only_the_traces_of_messages_are_kept():
    from opentelemetry import trace
    from opentelemetry.sdk.trace.sampling import Decision

    sampler = telemetry_setup.local_sampler()
    assert sampler.should_sample(None, 7, "QueueClient.receive_messages").decision == Decision.DROP  # a poll
    assert sampler.should_sample(None, 7, "process tests-passed").decision == Decision.RECORD_AND_SAMPLE
    root = tracing.release_context("wave-1")
    parent = trace.set_span_in_context(
        trace.NonRecordingSpan(
            trace.SpanContext(root.trace_id, root.span_id, is_remote=True, trace_flags=trace.TraceFlags(1))
        )
    )
    assert sampler.should_sample(parent, root.trace_id, "TableClient.get_entity").decision == Decision.RECORD_AND_SAMPLE


def test_the_functions_host_exports_in_opentelemetry_mode():
    # the host then exports its own spans and the worker's logs (which telemetry_setup leaves to it)
    assert json.loads((ROOT / "host.json").read_text())["telemetryMode"] == "OpenTelemetry"
