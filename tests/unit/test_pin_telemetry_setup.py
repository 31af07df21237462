"""Pins where telemetry goes (shared/application/telemetry_setup.py), in the test's own process: the mode read from
the environment, the local exporters (console, OTLP/HTTP to a collector stand-in) and what reaches them, the
Application Insights distro's arguments (a stand-in module records them), the sampler, the resource, and the
exporter guards that log a failure once and never raise. OpenTelemetry's and azure-core's globals are put back
after each test, so other tests see the process as it was."""

from __future__ import annotations

import http.server
import json
import logging
import sys
import threading
import types

import pytest

from shared.application import telemetry_setup

LOGGER = "promote.telemetry"


@pytest.fixture
def fresh_globals(monkeypatch):
    """OpenTelemetry's global providers unset (and restored after), azure-core's tracing setting restored after;
    yields a list to put the providers made in, shut down at the end (their export threads stop)."""
    import opentelemetry.metrics._internal as metrics_internal
    import opentelemetry.trace as trace
    from azure.core.settings import settings
    from opentelemetry.util._once import Once

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(metrics_internal, "_METER_PROVIDER", None)
    monkeypatch.setattr(metrics_internal, "_METER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(metrics_internal, "_PROXY_METER_PROVIDER", metrics_internal._ProxyMeterProvider())
    monkeypatch.setattr(settings.tracing_implementation, "_user_value", settings.tracing_implementation._user_value)
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_LOGS_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    made: list = []
    yield made
    for provider in made:
        provider.shutdown()


def said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def documents(text: str) -> list[dict]:
    """The JSON documents the console exporters wrote one after another."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        found.append(doc)
    return found


# -- the mode -------------------------------------------------------------------------------------------------------
@pytest.fixture
def distro(monkeypatch):
    """A stand-in for the Azure Monitor distro's module: records each configure_azure_monitor call."""
    calls: list[dict] = []
    module = types.ModuleType("azure.monitor.opentelemetry")
    module.configure_azure_monitor = lambda **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", module)
    return calls


def test_without_a_mode_or_a_connection_string_telemetry_is_off_and_nothing_is_said(distro, fresh_globals, caplog):
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert telemetry_setup.from_environment({}) is None
        assert telemetry_setup.from_environment({"APPLICATIONINSIGHTS_CONNECTION_STRING": "  "}) is None
        assert (
            telemetry_setup.from_environment({"PROMOTE_OTEL": " OFF ", "APPLICATIONINSIGHTS_CONNECTION_STRING": "x"})
            is None
        )
    assert distro == []
    assert said(caplog) == []


def test_on_azure_the_distro_is_set_up_from_the_connection_string_without_logs_or_other_libraries(
    distro, fresh_globals, caplog
):
    from opentelemetry import metrics, trace

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        found = telemetry_setup.from_environment({"APPLICATIONINSIGHTS_CONNECTION_STRING": " InstrumentationKey=k "})
    assert found == (trace.get_tracer_provider(), metrics.get_meter_provider())
    assert said(caplog) == []
    (call,) = distro
    resource = call.pop("resource")
    assert resource.attributes["service.name"] == "promote"
    assert call == {
        "connection_string": "InstrumentationKey=k",
        "disable_logging": True,
        "sampling_ratio": 1.0,
        "instrumentation_options": {
            "django": {"enabled": False},
            "fastapi": {"enabled": False},
            "flask": {"enabled": False},
            "httpx": {"enabled": False},
            "psycopg2": {"enabled": False},
            "requests": {"enabled": False},
            "urllib": {"enabled": False},
            "urllib3": {"enabled": False},
        },
    }
    import os

    assert os.environ["OTEL_LOGS_EXPORTER"] == "none"  # the distro reads "no logs" from this setting only


def test_an_app_setting_for_the_logs_exporter_is_kept(distro, fresh_globals, monkeypatch):
    import os

    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "otlp")
    assert telemetry_setup.from_environment({"APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=k"})
    assert os.environ["OTEL_LOGS_EXPORTER"] == "otlp"
    assert len(distro) == 1


def test_when_the_worker_set_the_distro_up_it_is_not_set_up_twice(distro, fresh_globals):
    from opentelemetry import metrics, trace

    found = telemetry_setup.from_environment(
        {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=k",
            "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY": " True ",
        }
    )
    assert found == (trace.get_tracer_provider(), metrics.get_meter_provider())
    assert distro == []


def test_a_set_up_that_fails_leaves_telemetry_off_and_says_why(fresh_globals, monkeypatch, caplog):
    module = types.ModuleType("azure.monitor.opentelemetry")

    def refuse(**kwargs):
        raise ValueError("connection string is invalid")

    module.configure_azure_monitor = refuse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", module)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert telemetry_setup.from_environment({"APPLICATIONINSIGHTS_CONNECTION_STRING": "nonsense"}) is None
    assert said(caplog) == ["telemetry is off: it could not be set up (ValueError: connection string is invalid)"]


# -- local exporters ---------------------------------------------------------------------------------------------
def test_console_mode_writes_the_kept_spans_and_the_metrics_to_standard_error(distro, fresh_globals, capsys, caplog):
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan
    from opentelemetry import metrics, trace

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        found = telemetry_setup.from_environment({"PROMOTE_OTEL": " Console "})
    assert found is not None
    tracer_provider, meter_provider = found
    fresh_globals.extend(found)
    assert distro == []
    # global: the Azure SDKs' spans (azure-core's OpenTelemetry plugin) go where promote's go
    assert trace.get_tracer_provider() is tracer_provider
    assert metrics.get_meter_provider() is meter_provider
    from azure.core.settings import settings

    assert settings.tracing_implementation() is OpenTelemetrySpan
    tracer = tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("process tests-passed", attributes={"promote.workload": "w1"}):
        with tracer.start_as_current_span("TableClient.get_entity"):
            pass
    with tracer.start_as_current_span("QueueClient.receive_messages"):  # a poll: no trace of its own
        pass
    meter_provider.get_meter("test").create_counter("promote.messages").add(3)
    assert tracer_provider.force_flush() is True
    assert meter_provider.force_flush() is True
    out = capsys.readouterr()
    assert out.out == ""  # standard output is the command's own
    written = documents(out.err)
    spans = [d for d in written if "resource_metrics" not in d]
    assert sorted((s["name"], s["attributes"]) for s in spans) == [
        ("TableClient.get_entity", {}),
        ("process tests-passed", {"promote.workload": "w1"}),
    ]
    assert {s["resource"]["attributes"]["service.name"] for s in spans} == {"promote"}
    (data,) = [d for d in written if "resource_metrics" in d]
    (resource,) = data["resource_metrics"]
    assert resource["resource"]["attributes"]["service.name"] == "promote"
    assert [
        (m["name"], [p["value"] for p in m["data"]["data_points"]])
        for s in resource["scope_metrics"]
        for m in s["metrics"]
    ] == [("promote.messages", [3])]
    assert said(caplog) == []


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector stand-in: keeps (path, content type, body) of each request, answers 200."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector(monkeypatch):
    Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    for name in ("NO_PROXY", "no_proxy"):  # a proxy the machine may set is not asked for the loopback address
        monkeypatch.setenv(name, "127.0.0.1")
    yield Collector.received
    server.shutdown()
    server.server_close()


def test_otlp_mode_sends_spans_and_metrics_to_the_configured_collector(
    collector, distro, fresh_globals, capsys, caplog
):  # the collector first: it is torn down after the providers' last export (at their shutdown)
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        found = telemetry_setup.from_environment({"PROMOTE_OTEL": "otlp"})
    assert found is not None
    tracer_provider, meter_provider = found
    fresh_globals.extend(found)
    with tracer_provider.get_tracer("test").start_as_current_span("process alert"):
        pass
    meter_provider.get_meter("test").create_counter("promote.rollbacks").add(1)
    assert tracer_provider.force_flush() is True
    assert meter_provider.force_flush() is True
    assert sorted((path, kind) for path, kind, _ in collector) == [
        ("/v1/metrics", "application/x-protobuf"),
        ("/v1/traces", "application/x-protobuf"),
    ]
    traces = ExportTraceServiceRequest.FromString(next(b for p, _, b in collector if p == "/v1/traces"))
    (resource_spans,) = traces.resource_spans
    assert {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"] == "promote"
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["process alert"]
    sent = ExportMetricsServiceRequest.FromString(next(b for p, _, b in collector if p == "/v1/metrics"))
    (resource_metrics,) = sent.resource_metrics
    assert {a.key: a.value.string_value for a in resource_metrics.resource.attributes}["service.name"] == "promote"
    assert [m.name for scope in resource_metrics.scope_metrics for m in scope.metrics] == ["promote.rollbacks"]
    assert capsys.readouterr().err == ""
    assert said(caplog) == []


def test_the_resource_is_promote_unless_the_standard_settings_name_it(fresh_globals, monkeypatch):
    assert telemetry_setup._resource().attributes["service.name"] == "promote"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "promote-billing")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "team=migrations,service.namespace=ops")
    attributes = telemetry_setup._resource().attributes
    assert (attributes["service.name"], attributes["team"], attributes["service.namespace"]) == (
        "promote-billing",
        "migrations",
        "ops",
    )


# -- the local sampler -----------------------------------------------------------------------------------------------
def test_the_local_sampler_keeps_a_messages_attributes_and_drops_the_rest():
    from opentelemetry.sdk.trace.sampling import Decision

    sampler = telemetry_setup.local_sampler()
    kept = sampler.should_sample(None, 7, "process alert", attributes={"promote.workload": "w1"})
    assert (kept.decision, dict(kept.attributes)) == (Decision.RECORD_AND_SAMPLE, {"promote.workload": "w1"})
    dropped = sampler.should_sample(None, 7, "QueueClient.receive_messages", attributes={"x": 1})
    assert (dropped.decision, dict(dropped.attributes)) == (Decision.DROP, {})
    assert sampler.get_description() == (
        "ParentBased{root:promote: the spans of messages, and what they call,"
        "remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,"
        "localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"
    )


# -- exporters that fail ---------------------------------------------------------------------------------------------
class SpanExporterStandIn:
    """Records every call; raises `failure` from each when set."""

    def __init__(self, failure: Exception | None = None, flushed: object = True):
        self.failure, self.flushed, self.calls = failure, flushed, []

    def _call(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        if self.failure is not None:
            raise self.failure

    def export(self, spans):
        self._call("export", spans)
        return "exported"

    def shutdown(self):
        self._call("shutdown")

    def force_flush(self, timeout_millis=None):
        self._call("force_flush", timeout_millis)
        return self.flushed


def test_a_guarded_span_exporter_passes_every_call_through():
    inner = SpanExporterStandIn(flushed=1)
    guarded = telemetry_setup.guarded_spans(inner)
    batch = ["span-a", "span-b"]
    assert guarded.export(batch) == "exported"
    assert guarded.force_flush() is True  # bool of what the exporter answered
    assert guarded.force_flush(5) is True
    guarded.shutdown()
    assert inner.calls == [
        ("export", (batch,), {}),
        ("force_flush", (30000,), {}),
        ("force_flush", (5,), {}),
        ("shutdown", (), {}),
    ]


def test_a_span_exporter_that_fails_is_said_once_and_never_raises(caplog):
    from opentelemetry.sdk.trace.export import SpanExportResult

    guarded = telemetry_setup.guarded_spans(SpanExporterStandIn(ConnectionError("collector unreachable")))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert guarded.export(["span"]) == SpanExportResult.FAILURE
        assert guarded.export(["span"]) == SpanExportResult.FAILURE
        assert guarded.force_flush() is False
        guarded.shutdown()
    assert said(caplog) == [
        "telemetry: exporting spans failed (ConnectionError: collector unreachable); "
        "logged once, messages are handled as ever"
    ]


@pytest.mark.parametrize(
    ("first", "what"),
    [
        (lambda g: g.force_flush(), "flushing spans"),
        (lambda g: g.shutdown(), "shutting the span exporter down"),
    ],
)
def test_the_first_span_exporter_failure_names_what_failed(caplog, first, what):
    guarded = telemetry_setup.guarded_spans(SpanExporterStandIn(OSError("disk full")))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        first(guarded)
        guarded.export(["span"])
    assert said(caplog) == [f"telemetry: {what} failed (OSError: disk full); logged once, messages are handled as ever"]


def metric_exporter_stand_in(failure: Exception | None = None, flushed: object = True):
    """A metric exporter (the SDK's base class: its preferences are what a reader asks) that records its calls."""
    from opentelemetry.sdk.metrics import Counter, Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricExporter
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation

    class StandIn(MetricExporter):
        def __init__(self):
            super().__init__(
                preferred_temporality={Counter: AggregationTemporality.DELTA},
                preferred_aggregation={Histogram: ExplicitBucketHistogramAggregation([1.0, 2.0])},
            )
            self.calls: list = []

        def _call(self, name, *args, **kwargs):
            self.calls.append((name, args, kwargs))
            if failure is not None:
                raise failure

        def export(self, metrics_data, timeout_millis=None, **kwargs):
            self._call("export", metrics_data, timeout_millis=timeout_millis, **kwargs)
            return "exported"

        def force_flush(self, timeout_millis=None):
            self._call("force_flush", timeout_millis=timeout_millis)
            return flushed

        def shutdown(self, timeout_millis=None, **kwargs):
            self._call("shutdown", timeout_millis=timeout_millis, **kwargs)

    return StandIn()


def test_a_guarded_metric_exporter_passes_every_call_and_the_exporters_preferences_through():
    from opentelemetry.sdk.metrics import Counter, Histogram
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    inner = metric_exporter_stand_in(flushed=1)
    guarded = telemetry_setup.guarded(inner)
    assert guarded._preferred_temporality[Counter] == AggregationTemporality.DELTA
    assert guarded._preferred_aggregation[Histogram] is inner._preferred_aggregation[Histogram]
    assert guarded.export("data") == "exported"
    assert guarded.export("data", 5, extra=1) == "exported"
    assert guarded.force_flush() is True
    assert guarded.force_flush(7) is True
    guarded.shutdown()
    guarded.shutdown(9, extra=2)
    assert inner.calls == [
        ("export", ("data",), {"timeout_millis": 10_000}),
        ("export", ("data",), {"timeout_millis": 5, "extra": 1}),
        ("force_flush", (), {"timeout_millis": 10_000}),
        ("force_flush", (), {"timeout_millis": 7}),
        ("shutdown", (), {"timeout_millis": 30_000}),
        ("shutdown", (), {"timeout_millis": 9, "extra": 2}),
    ]


def test_a_metric_exporter_that_fails_is_said_once_and_never_raises(caplog):
    from opentelemetry.sdk.metrics.export import MetricExportResult

    guarded = telemetry_setup.guarded(metric_exporter_stand_in(ConnectionError("collector unreachable")))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        assert guarded.export("data") == MetricExportResult.FAILURE
        assert guarded.export("data") == MetricExportResult.FAILURE
        assert guarded.force_flush() is False
        guarded.shutdown()
    assert said(caplog) == [
        "telemetry: exporting metrics failed (ConnectionError: collector unreachable); "
        "logged once, messages are handled as ever"
    ]


@pytest.mark.parametrize(
    ("first", "what"),
    [
        (lambda g: g.force_flush(), "flushing metrics"),
        (lambda g: g.shutdown(), "shutting the metric exporter down"),
    ],
)
def test_the_first_metric_exporter_failure_names_what_failed(caplog, first, what):
    guarded = telemetry_setup.guarded(metric_exporter_stand_in(OSError("disk full")))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        first(guarded)
        guarded.export("data")
    assert said(caplog) == [f"telemetry: {what} failed (OSError: disk full); logged once, messages are handled as ever"]
