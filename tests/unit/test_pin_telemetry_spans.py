"""Pins what the span of each message says (shared/application/telemetry.py), read back from in-memory exporters:
every attribute of whole spans, their names and statuses, the links to senders and deliveries, the Service Bus
delivery's attributes, the trace state promote's own messages carry on, and each telemetry failure said once."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from shared.application import telemetry
from shared.domain import tracing
from shared.domain.plan import validate_plan
from tests.fakes import event, world
from tests.telemetry_world import BrokenMeters, Flight, in_memory

LOGGER = "promote.telemetry"
APPROVER = "ana@contoso.com"
SINGLE = {
    "release": "r1",
    "model": "single-step",
    "approval": "manual",
    "approvers": [APPROVER],
    "workloads": [{"name": "w1", "assets": ["a"]}],
}
PROCESS = {"messaging.operation.type": "process", "messaging.operation.name": "process"}


@pytest.fixture
def otel():
    spans, metrics = in_memory()
    yield spans, metrics
    telemetry.reset()


def said(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def cloud_event(id: str, type_: str, **more) -> dict:
    """The attributes every span of a CloudEvents message from `event()` (source test, specversion 1.0) has."""
    return {
        "cloudevents.event_id": id,
        "cloudevents.event_type": type_,
        "cloudevents.event_source": "test",
        "cloudevents.event_spec_version": "1.0",
        **more,
        **PROCESS,
        "messaging.message.id": id,
    }


def test_the_spans_of_a_single_step_release_say_everything_about_each_message(otel):
    w = world()
    w.service.apply(validate_plan(SINGLE))
    replicated = json.loads(event("asset-replicated", "r1", "w1", "m1", asset="a"))
    replicated["subject"] = "w1/a"
    w.service.handle(json.dumps(replicated))
    w.service.handle(event("tests-passed", "r1", "w1", "m2"))
    w.service.handle(event("override", "r1", "w1", "m3", action="approve", actor=APPROVER, reason="ok"))
    spans = otel[0].get_finished_spans()
    release = {
        "deployment.id": "r1",
        "deployment.name": "r1",
        "deployment.environment.name": "production",
        "promote.workload": "w1",
    }
    assert [(s.name, dict(s.attributes)) for s in spans] == [
        (
            "process asset-replicated",
            {
                **cloud_event("m1", "asset-replicated", **{"cloudevents.event_subject": "w1/a"}),
                **release,
                "promote.outcome": "applied",
                "promote.reason": "asset a replicated (1/1) -> testing",
                "promote.state.before": "replicating",
                "promote.state.after": "testing",
                "promote.traffic_percent": 0,
                "promote.entries": 1,
                "promote.gate": "tests",
                "promote.release.state": "in-progress",
            },
        ),
        (
            "process tests-passed",
            {
                **cloud_event("m2", "tests-passed"),
                **release,
                "promote.outcome": "applied",
                "promote.reason": "tests passed -> ready",
                "promote.state.before": "testing",
                "promote.state.after": "ready",
                "promote.traffic_percent": 0,
                "promote.entries": 1,
                "promote.gate": "approval",
                "promote.release.state": "awaiting-approval",
            },
        ),
        (
            "process override",
            {
                **cloud_event("m3", "override"),
                **release,
                "promote.outcome": "applied",
                "promote.reason": "approved -> promoted (100%); network: fake r1/w1: share 0 -> 100",
                "promote.state.before": "ready",
                "promote.state.after": "promoted",
                "promote.traffic_percent": 100,
                "promote.entries": 1,
                "promote.gate": "finalize",
                "promote.release.state": "promoted",
                "deployment.status": "succeeded",
            },
        ),
    ]
    assert [s.status.status_code.name for s in spans] == ["UNSET"] * 3
    assert {(s.instrumentation_scope.name, s.kind.name) for s in spans} == {("promote", "CONSUMER")}


def test_a_flight_approved_says_its_flight_and_every_gate_that_holds_it(otel):
    flight = Flight()
    flight.send("asset-replicated", "payroll", asset="vm-web")
    flight.send("asset-replicated", "payroll", asset="vm-db")
    flight.send("tests-passed", "payroll")
    flight.override("approve", "payroll", actor=APPROVER)
    approve = otel[0].get_finished_spans()[-1]
    assert dict(approve.attributes) == {
        **cloud_event("m4", "override"),
        "deployment.id": "wave-7",
        "deployment.name": "wave-7",
        "deployment.environment.name": "production",
        "promote.workload": "payroll",
        "promote.outcome": "applied",
        "promote.reason": "approved -> flighting (flight 1, 10%); network: fake wave-7/payroll: share 0 -> 10",
        "promote.state.before": "ready",
        "promote.state.after": "flighting",
        "promote.traffic_percent": 10,
        "promote.flight": 1,
        "promote.entries": 1,
        "promote.gate": "bake,verdict",
        "promote.release.state": "in-progress",
    }


def test_messages_that_cannot_be_read_still_get_a_span_that_says_they_were_dead_lettered(otel, caplog):
    w = world()
    not_an_object = json.dumps([1])
    odd = json.dumps({"id": 5, "type": "x", "source": 7, "subject": "", "data": "text"})  # not texts: left out
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for body in ("not json", b"\xff\xfe", not_an_object, odd, json.dumps({"type": "y"})):
            w.service.handle(body)
    spans = otel[0].get_finished_spans()
    not_json = "invalid message: not JSON: Expecting value: line 1 column 1 (char 0)"
    assert [(s.name, dict(s.attributes)) for s in spans] == [
        ("process message", {**PROCESS, "promote.outcome": "dead-lettered", "promote.reason": not_json}),
        (
            "process message",
            {**PROCESS, "promote.outcome": "dead-lettered", "promote.reason": not_json},
        ),
        (
            "process message",
            {
                **PROCESS,
                "promote.outcome": "dead-lettered",
                "promote.reason": "invalid message: a CloudEvents message is a JSON object",
            },
        ),
        (
            "process x",
            {
                "cloudevents.event_type": "x",
                **PROCESS,
                "promote.outcome": "dead-lettered",
                "promote.reason": "invalid message: specversion must be '1.0' (CloudEvents 1.0), got None",
            },
        ),
        (
            "process y",
            {
                "cloudevents.event_type": "y",
                **PROCESS,
                "promote.outcome": "dead-lettered",
                "promote.reason": "invalid message: specversion must be '1.0' (CloudEvents 1.0), got None",
            },
        ),
    ]
    assert [(s.status.status_code.name, s.status.description) for s in spans] == [
        ("ERROR", f"dead-lettered: {s.attributes['promote.reason']}") for s in spans
    ]
    assert said(caplog) == []  # none of them failed telemetry itself


def test_long_texts_are_cut_to_256_characters(otel):
    w = world()
    doc = json.loads(event("tests-passed", "r" * 300, "w" * 256, "m1"))  # refused: the span still names them
    doc["subject"] = "s" * 257
    w.service.handle(json.dumps(doc))
    (span,) = otel[0].get_finished_spans()
    assert {k: v for k, v in span.attributes.items() if k != "promote.reason"} == {
        **cloud_event("m1", "tests-passed", **{"cloudevents.event_subject": "s" * 256}),
        "deployment.id": "r" * 256,
        "deployment.name": "r" * 256,
        "deployment.environment.name": "production",
        "promote.workload": "w" * 256,
        "promote.outcome": "dead-lettered",
    }


def test_a_long_reason_is_cut_to_256_characters_in_the_span_and_its_status(otel):
    with telemetry.handling(event("tests-passed", "r1", "w1", "m1")) as span:
        span.done(SimpleNamespace(outcome="dead-lettered", reason="y" * 300, entries=[]))
    (found,) = otel[0].get_finished_spans()
    assert found.attributes["promote.reason"] == "y" * 256
    assert (found.status.status_code.name, found.status.description) == ("ERROR", "dead-lettered: " + "y" * 241)


def test_the_error_a_handling_raises_is_recorded_on_its_span_and_still_raised(otel):
    with pytest.raises(RuntimeError):
        with telemetry.handling(event("tests-passed", "r1", "w1", "m1")):
            raise RuntimeError("x" * 300)
    (span,) = otel[0].get_finished_spans()
    assert span.status.status_code.name == "ERROR"
    assert span.status.description == "RuntimeError: " + "x" * 242
    assert [(e.name, e.attributes["exception.type"], e.attributes["exception.message"]) for e in span.events] == [
        ("exception", "RuntimeError", "x" * 300)
    ]
    assert tracing.SENDING.get() is None


def test_a_result_without_states_or_a_release_says_only_what_it_has(otel, caplog):
    """Telemetry reads what it needs of a result and leaves out what is not there (no state, no release after)."""
    entry = SimpleNamespace(
        type="tests-passed", workload="w1", from_state=None, to_state=None, traffic_percent=0, flight=None
    )
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        with telemetry.handling(event("tests-passed", "r1", "w1", "m1")) as span:
            span.done(SimpleNamespace(outcome="ignored", reason="", entries=[entry]))
    (found,) = otel[0].get_finished_spans()
    assert {k: v for k, v in found.attributes.items() if k.startswith("promote.") and k != "promote.workload"} == {
        "promote.outcome": "ignored",
        "promote.reason": "",
        "promote.traffic_percent": 0,
        "promote.entries": 1,
    }
    assert said(caplog) == []


# -- links and trace state -----------------------------------------------------------------------------------------
def test_a_sender_from_another_trace_is_a_link_as_it_was_sent(otel):
    w = world()
    w.service.apply(validate_plan(SINGLE))
    doc = json.loads(event("asset-replicated", "r1", "w1", "m1", asset="a"))
    doc.update(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", tracestate="ci=run-9")
    w.service.handle(json.dumps(doc))
    (span,) = otel[0].get_finished_spans()
    (link,) = span.links
    context = link.context
    assert (context.trace_id, context.span_id, context.is_remote, int(context.trace_flags)) == (
        0x0AF7651916CD43DD8448EB211C80319C,
        0xB7AD6B7169203331,
        True,
        0,  # not sampled, as sent
    )
    assert (context.trace_state.to_header(), dict(link.attributes)) == ("ci=run-9", {"promote.link": "sender"})


def test_the_delivery_span_the_host_passes_is_a_link_unless_it_is_the_parent_itself(otel):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    w = world()
    w.service.apply(validate_plan(SINGLE))
    with TracerProvider().get_tracer("host").start_as_current_span("invocation") as host:
        w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a"))
    root = tracing.release_context("r1")
    same = trace.NonRecordingSpan(
        trace.SpanContext(root.trace_id, root.span_id, is_remote=True, trace_flags=trace.TraceFlags(1))
    )
    with trace.use_span(same):  # the host passed the release's root itself: the parent, no link to it
        w.service.handle(event("tests-passed", "r1", "w1", "m2"))
    delivered, rooted = otel[0].get_finished_spans()
    assert [(link.context.span_id, dict(link.attributes)) for link in delivered.links] == [
        (host.get_span_context().span_id, {"promote.link": "delivery"})
    ]
    assert delivered.parent.span_id == root.span_id
    assert (rooted.links, rooted.parent.span_id) == ((), root.span_id)


def test_the_messages_promote_sends_carry_the_trace_state_of_the_message_that_sent_them(otel):
    flight = Flight()
    flight.send("asset-replicated", "payroll", asset="vm-web")
    flight.send("asset-replicated", "payroll", asset="vm-db")
    flight.send("tests-passed", "payroll")
    root = tracing.release_context("wave-7")
    sender = f"00-{root.trace_id:032x}-1122334455667788-01"  # a sender continuing the release's trace
    trace = {"traceparent": sender, "tracestate": "ci=run-1"}
    flight.send("override", "payroll", action="approve", actor=APPROVER, reason="ok", trace=trace)
    ((timer, _),) = flight.w.scheduler.scheduled
    approve = otel[0].get_finished_spans()[-1]
    assert approve.parent.span_id == 0x1122334455667788
    assert (timer["traceparent"], timer["tracestate"]) == (
        f"00-{root.trace_id:032x}-{approve.context.span_id:016x}-01",
        "ci=run-1",
    )


# -- the delivery (functions/events.py) ----------------------------------------------------------------------------
def test_a_service_bus_delivery_adds_its_messaging_attributes_to_the_span_inside_it_only(otel):
    w = world()
    w.service.apply(validate_plan(SINGLE))
    message = SimpleNamespace(message_id="sb-17", delivery_count=3)
    with telemetry.delivery(message, servicebus=True):
        w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a"))
    with telemetry.delivery(SimpleNamespace(), servicebus=False):  # Azurite's queue: no id, no count known
        w.service.handle(event("tests-passed", "r1", "w1", "m2"))
    w.service.handle(event("override", "r1", "w1", "m3", action="approve", actor=APPROVER, reason="ok"))
    messaging = [
        {k: v for k, v in s.attributes.items() if k.startswith("messaging.")} for s in otel[0].get_finished_spans()
    ]
    assert messaging == [
        {
            **PROCESS,
            "messaging.message.id": "sb-17",
            "messaging.system": "servicebus",
            "messaging.destination.name": "promotion-events",
            "messaging.destination.subscription.name": "orchestrator",
            "messaging.servicebus.message.delivery_count": 3,
        },
        {
            **PROCESS,
            "messaging.message.id": "m2",
            "messaging.system": "azure.storage.queue",
            "messaging.destination.name": "promotion-events",
        },
        {**PROCESS, "messaging.message.id": "m3"},
    ]


def test_a_delivery_with_telemetry_off_does_nothing():
    telemetry.off()
    try:
        with telemetry.delivery(SimpleNamespace(message_id="sb-1"), servicebus=True) as delivery:
            delivery.done(None)
        assert telemetry.enabled() is False
    finally:
        telemetry.reset()


# -- telemetry that fails ------------------------------------------------------------------------------------------
class Tracers:
    """A tracer provider whose spans fail as told: at the start, at set_attributes, at the end."""

    def __init__(self, *, start: bool = True, describe: bool = True, end: bool = True):
        self.start, self.describe, self.end = start, describe, end

    def get_tracer(self, name, *args, **kwargs):
        return self

    def start_span(self, name, **kwargs):
        if not self.start:
            raise RuntimeError("tracer down")
        return FailingSpan(self)


class FailingSpan:
    def __init__(self, tracers: Tracers):
        self.tracers = tracers

    def get_span_context(self):
        from opentelemetry.trace import SpanContext, TraceFlags, TraceState

        return SpanContext(1, 2, is_remote=False, trace_flags=TraceFlags(1), trace_state=TraceState())

    def set_attributes(self, attributes):
        if not self.tracers.describe:
            raise ValueError("attributes refused")

    def set_status(self, status):
        pass

    def end(self):
        if not self.tracers.end:
            raise OSError("exporter gone")


HANDLED = "logged once, messages are handled as ever"


def handle_twice(caplog, tracers, meters) -> list:
    from opentelemetry.sdk.metrics import MeterProvider

    telemetry.install(tracers, meters or MeterProvider())
    w = world()
    w.service.apply(validate_plan(SINGLE))
    try:
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            results = [
                w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a")),
                w.service.handle(event("tests-passed", "r1", "w1", "m2")),
            ]
    finally:
        telemetry.reset()
    assert [(r.outcome, r.reason) for r in results] == [
        ("applied", "asset a replicated (1/1) -> testing"),
        ("applied", "tests passed -> ready"),
    ]
    assert tracing.SENDING.get() is None
    return said(caplog)


def test_a_span_that_cannot_start_is_said_once_and_nothing_else_is_tried(caplog):
    assert handle_twice(caplog, Tracers(start=False), None) == [
        f"telemetry: could not start a span (RuntimeError: tracer down); {HANDLED}"
    ]


def test_each_kind_of_failure_after_the_start_is_said_once(caplog):
    assert handle_twice(caplog, Tracers(describe=False, end=False), BrokenMeters()) == [
        f"telemetry: could not describe a span (ValueError: attributes refused); {HANDLED}",
        f"telemetry: could not record metrics (RuntimeError: meter broken); {HANDLED}",
        f"telemetry: could not end a span (OSError: exporter gone); {HANDLED}",
    ]


def test_a_context_that_cannot_be_left_is_said_once(caplog, monkeypatch):
    import opentelemetry.context as context

    # OpenTelemetry's SDK binds `detach` by name when first imported: imported under the patch below, its export
    # threads would keep the failing one for good, and a later test's provider would lose its context (a test
    # order mutmut's stats run happened on).
    import opentelemetry.sdk._shared_internal  # noqa: F401
    import opentelemetry.sdk.metrics.export  # noqa: F401
    import opentelemetry.sdk.trace.export  # noqa: F401

    detach = context.detach

    def detach_then_fail(token):  # OpenTelemetry's own detach logs its failures: this one raises after it
        detach(token)
        raise RuntimeError("context lost")

    monkeypatch.setattr(context, "detach", detach_then_fail)
    assert handle_twice(caplog, Tracers(), None) == [
        f"telemetry: could not leave a span's context (RuntimeError: context lost); {HANDLED}"
    ]


# -- on and off ------------------------------------------------------------------------------------------------------
class NoMeters:
    def get_meter(self, name, *args, **kwargs):
        raise RuntimeError("no meters here")


def test_providers_whose_instruments_cannot_be_made_leave_telemetry_off(caplog):
    from opentelemetry.sdk.trace import TracerProvider

    try:
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            telemetry.install(TracerProvider(), NoMeters())
        assert telemetry.enabled() is False
        w = world()
        w.service.apply(validate_plan(SINGLE))
        assert w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a")).outcome == "applied"
    finally:
        telemetry.reset()
    assert said(caplog) == ["telemetry is off: RuntimeError: no meters here"]


def test_reset_reads_the_environment_again(monkeypatch):
    monkeypatch.delenv("PROMOTE_OTEL", raising=False)
    # the worker set Azure Monitor up: its (global) providers are used as they are, nothing is configured here
    monkeypatch.setenv("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=k")
    monkeypatch.setenv("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", "true")
    telemetry.off()
    try:
        assert telemetry.enabled() is False
        telemetry.reset()
        assert telemetry.enabled() is True
    finally:
        telemetry.reset()
