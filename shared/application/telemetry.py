"""Traces and metrics of promote's decisions (OpenTelemetry); docs/observability.md says what and why.

- A span for each message handled (`handling`, around PromotionService.handle): message type, outcome,
  workload, state before and after, the gates that hold it, with the OpenTelemetry names (`cloudevents.*`,
  `messaging.*`, `deployment.*`). Its parent is the span that sent the message when that span is in the
  release's trace (promote's own timers and notices, senders that continue the release's trace); otherwise
  the release's root (shared/domain/tracing.py: one trace per release, its ids derived from the name), with
  a link to the sender's span from another trace. While it is open, messages promote builds carry its
  context (`traceparent`), and the Azure SDKs' calls (storage, routing) are its children.
- Metrics from each decision's history entries (shared/application/figures.py), so they add up to what the
  history says, and never feed back into a decision.

Off unless configured (telemetry_setup.py: PROMOTE_OTEL locally, the Application Insights connection string
on Azure), and then nothing of OpenTelemetry is imported. Telemetry never fails a message: every error of its
own is caught here and logged once.
"""

from __future__ import annotations

import json
import logging
import threading
from contextvars import ContextVar
from typing import Any

from shared.application import config
from shared.domain import tracing
from shared.domain.model import ReleaseState

log = logging.getLogger("promote.telemetry")
SCOPE = "promote"
ENVIRONMENT = "production"  # deployment.environment.name: where a release moves users to
_SUCCEEDED = (ReleaseState.PROMOTED, ReleaseState.FINALIZED)
_FAILED = (ReleaseState.ROLLED_BACK, ReleaseState.ABORTED)
_DELIVERY: ContextVar[dict[str, Any] | None] = ContextVar("promote_delivery", default=None)
_UNSET: Any = object()
_state: Any = _UNSET  # _Telemetry when on, None when off, _UNSET until configured
_lock = threading.Lock()


def _current() -> _Telemetry | None:
    state = _state
    if state is _UNSET:
        from shared.application.telemetry_setup import from_environment

        with _lock:
            if _state is _UNSET:
                _use(from_environment())
        state = _state
    return state


def _use(providers: tuple[Any, Any] | None) -> None:
    global _state
    try:
        _state = _Telemetry(*providers) if providers is not None else None
    except Exception as exc:  # instruments could not be made: telemetry stays off, messages go on
        log.error("telemetry is off: %s: %s", type(exc).__name__, exc)
        _state = None


def install(tracer_provider: Any, meter_provider: Any) -> None:
    """Use these providers in this process (tests, bench); `off()` stops, `reset()` reads the environment again."""
    with _lock:
        _use((tracer_provider, meter_provider))


def off() -> None:
    global _state
    with _lock:
        _state = None


def reset() -> None:
    global _state
    with _lock:
        _state = _UNSET


def enabled() -> bool:
    return _current() is not None


class _Null:
    """Telemetry off: costs a function call."""

    def __enter__(self) -> _Null:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def done(self, result: Any) -> None:
        pass


_NULL = _Null()


def handling(body: bytes | str) -> Any:
    """Around the handling of one message: `with handling(body) as span: ...; span.done(result)`."""
    t = _current()
    return _NULL if t is None else _Handling(t, body)


def delivery(msg: Any, *, servicebus: bool) -> Any:
    """Around one delivery of the `events` function: the messaging attributes of the Service Bus hop."""
    if _current() is None:
        return _NULL
    return _Delivery(
        {
            "messaging.system": "servicebus" if servicebus else "azure.storage.queue",  # locally: Azurite's queue
            "messaging.destination.name": config.TOPIC if servicebus else config.LOCAL_QUEUE,
            **({"messaging.destination.subscription.name": config.SUBSCRIPTION} if servicebus else {}),
            "messaging.message.id": getattr(msg, "message_id", None),
            "messaging.servicebus.message.delivery_count": getattr(msg, "delivery_count", None),
        }
    )


class _Delivery:
    def __init__(self, attributes: dict[str, Any]):
        self.attributes = {k: v for k, v in attributes.items() if v is not None}

    def __enter__(self) -> _Delivery:
        self.token = _DELIVERY.set(self.attributes)
        return self

    def __exit__(self, *exc: object) -> None:
        _DELIVERY.reset(self.token)

    def done(self, result: Any) -> None:
        pass


class _Telemetry:
    def __init__(self, tracer_provider: Any, meter_provider: Any):
        from shared.application.telemetry_metrics import Instruments

        self.tracer = tracer_provider.get_tracer(SCOPE)
        self.instruments = Instruments(meter_provider.get_meter(SCOPE))
        self.reported: set[str] = set()

    def failed(self, what: str, exc: BaseException) -> None:
        """Log a telemetry error once per kind; never raise."""
        if what not in self.reported:
            self.reported.add(what)
            log.warning(
                "telemetry: could not %s (%s: %s); logged once, messages are handled as ever",
                what,
                type(exc).__name__,
                exc,
            )


class _Handling:
    def __init__(self, t: _Telemetry, body: bytes | str):
        self.t, self.body = t, body
        self.span: Any = None
        self.tokens: tuple[Any, ...] = ()

    def __enter__(self) -> _Handling:
        try:
            self._start()
        except Exception as exc:
            self.t.failed("start a span", exc)
        return self

    def _start(self) -> None:
        import opentelemetry.context as context
        import opentelemetry.trace as trace
        from opentelemetry.trace import SpanKind

        doc = _peek(self.body)
        data: dict[str, Any] = doc["data"] if isinstance(doc.get("data"), dict) else {}
        release, kind = _text(data.get("release")), _text(doc.get("type"))
        parent, links = _parent(release, doc)
        attributes = {
            "cloudevents.event_id": _text(doc.get("id")),
            "cloudevents.event_type": kind,
            "cloudevents.event_source": _text(doc.get("source")),
            "cloudevents.event_spec_version": _text(doc.get("specversion")),
            "cloudevents.event_subject": _text(doc.get("subject")),
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.message.id": _text(doc.get("id")),
            **(_DELIVERY.get() or {}),
            "deployment.id": release,
            "deployment.name": release,
            "deployment.environment.name": ENVIRONMENT if release else None,
            "promote.workload": _text(data.get("workload")),
        }
        span = self.t.tracer.start_span(
            f"process {kind or 'message'}",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
        self.span, own = span, span.get_span_context()
        sending = tracing.TraceContext(
            own.trace_id, own.span_id, own.trace_flags.sampled, own.trace_state.to_header() or None
        )
        self.tokens = (context.attach(trace.set_span_in_context(span)), tracing.SENDING.set(sending))

    def done(self, result: Any) -> None:
        """What became of the message: the span's outcome attributes, and the decision's metrics."""
        if self.span is None:
            return
        try:
            _describe(self.span, result)
        except Exception as exc:
            self.t.failed("describe a span", exc)
        try:
            self.t.instruments.record(result)
        except Exception as exc:
            self.t.failed("record metrics", exc)

    def __exit__(self, kind: type | None, exc: BaseException | None, tb: object) -> None:
        # returns None: the service's own exception always propagates
        try:
            if self.span is not None:
                if exc is not None:
                    from opentelemetry.trace import Status, StatusCode

                    self.span.record_exception(exc)
                    self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:256]))
                self.span.end()
        except Exception as failure:
            self.t.failed("end a span", failure)
        finally:
            if self.tokens:
                tracing.SENDING.reset(self.tokens[1])
                try:
                    import opentelemetry.context as context

                    context.detach(self.tokens[0])
                except Exception as failure:
                    self.t.failed("leave a span's context", failure)


def _peek(body: bytes | str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _text(value: Any, limit: int = 256) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _parent(release: str | None, doc: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The span's parent context and its links (see the module's docstring)."""
    import opentelemetry.trace as trace
    from opentelemetry.trace import Link

    sent = tracing.parse(doc.get("traceparent"), doc.get("tracestate"))
    root = tracing.release_context(release) if release else None
    parent = sent if sent is not None and (root is None or sent.trace_id == root.trace_id) else root
    links = []
    if sent is not None and parent is not sent:
        links.append(Link(_span_context(sent), {"promote.link": "sender"}))
    ambient = trace.get_current_span().get_span_context()  # the Functions host's invocation, when it passes one
    if ambient.is_valid and (parent is None or ambient.span_id != parent.span_id):
        links.append(Link(ambient, {"promote.link": "delivery"}))
    if parent is None:
        return None, links
    return trace.set_span_in_context(trace.NonRecordingSpan(_span_context(parent))), links


def _span_context(context: tracing.TraceContext) -> Any:
    from opentelemetry.trace import SpanContext, TraceFlags, TraceState

    state = TraceState.from_header([context.state]) if context.state else None
    flags = TraceFlags(TraceFlags.SAMPLED if context.sampled else TraceFlags.DEFAULT)
    return SpanContext(context.trace_id, context.span_id, is_remote=True, trace_flags=flags, trace_state=state)


def _describe(span: Any, result: Any) -> None:
    from opentelemetry.trace import Status, StatusCode

    attributes: dict[str, Any] = {"promote.outcome": str(result.outcome), "promote.reason": (result.reason or "")[:256]}
    if result.outcome == "dead-lettered":
        span.set_status(Status(StatusCode.ERROR, f"dead-lettered: {result.reason}"[:256]))
    entries = [e for e in result.entries if e.workload is not None]
    if entries:
        first, last = entries[0], entries[-1]
        attributes["promote.state.before"] = str(first.from_state) if first.from_state else None
        attributes["promote.state.after"] = str(last.to_state) if last.to_state else None
        attributes["promote.traffic_percent"] = last.traffic_percent
        attributes["promote.flight"] = last.flight
        attributes["promote.entries"] = len(result.entries)
        after = getattr(result, "after", None)
        if after is not None and len({e.workload for e in entries}) == 1 and last.workload in after.workloads:
            from shared.domain.gates import waiting_for

            gates = waiting_for(after, after.workloads[last.workload], last.at)
            attributes["promote.gate"] = ",".join(str(g.gate) for g in gates) or None
        # the release may have moved: its state needs every workload (a decision on one shard moves none)
        if after is not None and not after.partial and any(e.from_state != e.to_state for e in entries):
            state = after.state
            attributes["promote.release.state"] = str(state)
            attributes["deployment.status"] = (
                "succeeded" if state in _SUCCEEDED else "failed" if state in _FAILED else None
            )
    span.set_attributes({k: v for k, v in attributes.items() if v is not None})
