"""Where telemetry goes, decided once per process from the environment (docs/observability.md):

- PROMOTE_OTEL=off (the default) | console | otlp: locally, spans and metrics to standard error or to an
  OTLP/HTTP endpoint (the standard OTEL_EXPORTER_OTLP_* settings: endpoint, headers, protocol...).
- On Azure, with PROMOTE_OTEL unset: Application Insights through the Azure Monitor distro, from
  APPLICATIONINSIGHTS_CONNECTION_STRING (its exporter authenticates with the app's managed identity when
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING says Authorization=AAD). Logs are left to the Functions host,
  which exports the worker's logs itself in OpenTelemetry mode (host.json): exporting them here too would
  count them twice. When the worker has set the distro up already (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY
  =true), its providers are used as they are: a second exporter would send every span twice.
In every case the Azure SDKs' calls become spans (azure-core's OpenTelemetry plugin).

Every exporter error is caught and logged once; it never reaches a message's handling.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

from shared.application import config

log = logging.getLogger("promote.telemetry")
SERVICE_NAME = "promote"
MODES = ("off", "console", "otlp")
# The distro's instrumentations other than the Azure SDKs': none of these libraries serves promote's messages,
# and requests/urllib3 would repeat, one level down, the HTTP spans the Azure SDKs already make.
OTHER_LIBRARIES = ("django", "fastapi", "flask", "httpx", "psycopg2", "requests", "urllib", "urllib3")


def from_environment(environ: Mapping[str, str] | None = None) -> tuple[Any, Any] | None:
    """(tracer provider, meter provider) as the environment asks, or None: telemetry off."""
    env = os.environ if environ is None else environ
    mode = (env.get(config.ENV_OTEL) or "").strip().lower()
    connection = (env.get(config.ENV_APPINSIGHTS_CONNECTION_STRING) or "").strip()
    if mode not in ("", *MODES):
        log.warning("%s=%s is not one of %s: telemetry is off", config.ENV_OTEL, mode, ", ".join(MODES))
        return None
    if mode == "off" or (mode == "" and not connection):
        return None
    try:
        if mode == "":
            worker = (env.get(config.ENV_WORKER_APPINSIGHTS) or "").strip().lower() == "true"
            return _azure_monitor(connection, configured_by_worker=worker)
        return _local(mode)
    except Exception as exc:  # a missing package, a bad setting: off, and said once
        log.error("telemetry is off: it could not be set up (%s: %s)", type(exc).__name__, exc)
        return None


def _azure_monitor(connection: str, *, configured_by_worker: bool) -> tuple[Any, Any]:
    import opentelemetry.metrics as metrics
    import opentelemetry.trace as trace

    if not configured_by_worker:
        from azure.monitor.opentelemetry import configure_azure_monitor

        # The distro reads "no logs" from this setting only (its disable_logging argument is overwritten by it,
        # azure-monitor-opentelemetry 1.8): set for this process unless the app settings say otherwise.
        os.environ.setdefault("OTEL_LOGS_EXPORTER", "none")
        configure_azure_monitor(
            connection_string=connection,
            disable_logging=True,
            sampling_ratio=1.0,  # by trace id: a release (one trace) is kept or dropped whole, on every host
            resource=_resource(),
            instrumentation_options={name: {"enabled": False} for name in OTHER_LIBRARIES},
        )
    return trace.get_tracer_provider(), metrics.get_meter_provider()


def _local(mode: str) -> tuple[Any, Any]:
    import opentelemetry.metrics as metrics
    import opentelemetry.trace as trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if mode == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        spans: Any = ConsoleSpanExporter(out=sys.stderr)  # standard output is the command's own
        points: Any = ConsoleMetricExporter(out=sys.stderr)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        spans, points = OTLPSpanExporter(), OTLPMetricExporter()
    resource = _resource()
    tracer_provider = TracerProvider(resource=resource, sampler=local_sampler())
    tracer_provider.add_span_processor(BatchSpanProcessor(guarded_spans(spans)))
    meter_provider = MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(guarded(points))])
    trace.set_tracer_provider(tracer_provider)  # global: the Azure SDKs' spans go where promote's go
    metrics.set_meter_provider(meter_provider)
    from azure.core.settings import settings

    settings.tracing_implementation = "opentelemetry"
    return tracer_provider, meter_provider


def local_sampler() -> Any:
    """Locally, the host polls its queue and schedule table all the time: a trace per poll would bury the
    messages. Only traces promote starts itself (a message's span) are kept, with everything under them."""
    from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult

    class MessagesOnly(Sampler):
        def should_sample(
            self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
        ):
            keep = name.startswith("process ")
            return SamplingResult(Decision.RECORD_AND_SAMPLE if keep else Decision.DROP, attributes if keep else None)

        def get_description(self) -> str:
            return "promote: the spans of messages, and what they call"

    return ParentBased(root=MessagesOnly())


def _resource() -> Any:
    from opentelemetry.sdk.resources import OTELResourceDetector, Resource

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over the default name
    return Resource.create({"service.name": SERVICE_NAME}).merge(OTELResourceDetector().detect())


class _Once:
    def __init__(self) -> None:
        self.said = False

    def say(self, what: str, exc: BaseException) -> None:
        if not self.said:
            self.said = True
            log.warning(
                "telemetry: %s failed (%s: %s); logged once, messages are handled as ever",
                what,
                type(exc).__name__,
                exc,
            )


def guarded_spans(exporter: Any) -> Any:
    """A span exporter whose failures are logged once and never raised."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Guarded(SpanExporter):
        def __init__(self) -> None:
            self.once = _Once()

        def export(self, spans: Any) -> Any:
            try:
                return exporter.export(spans)
            except Exception as exc:
                self.once.say("exporting spans", exc)
                return SpanExportResult.FAILURE

        def shutdown(self) -> None:
            try:
                exporter.shutdown()
            except Exception as exc:
                self.once.say("shutting the span exporter down", exc)

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            try:
                return bool(exporter.force_flush(timeout_millis))
            except Exception as exc:
                self.once.say("flushing spans", exc)
                return False

    return Guarded()


def guarded(exporter: Any) -> Any:
    """A metric exporter whose failures are logged once and never raised."""
    from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult

    class Guarded(MetricExporter):
        def __init__(self) -> None:
            super().__init__(
                preferred_temporality=exporter._preferred_temporality,
                preferred_aggregation=exporter._preferred_aggregation,
            )
            self.once = _Once()

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
            try:
                return exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            except Exception as exc:
                self.once.say("exporting metrics", exc)
                return MetricExportResult.FAILURE

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            try:
                return bool(exporter.force_flush(timeout_millis=timeout_millis))
            except Exception as exc:
                self.once.say("flushing metrics", exc)
                return False

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            try:
                exporter.shutdown(timeout_millis=timeout_millis, **kwargs)
            except Exception as exc:
                self.once.say("shutting the metric exporter down", exc)

    return Guarded()
