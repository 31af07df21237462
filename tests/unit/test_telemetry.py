"""Telemetry read back from in-memory exporters, for a flight release with a rollback and a retry driven through
the real service: one trace per release, each scheduled message a child of the span that scheduled it, every
metric equal to what the history says, and telemetry that fails changing nothing."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import pytest

from shared.application import telemetry
from shared.application.figures import from_history
from shared.domain import tracing
from tests.telemetry_world import CI_TRACE, Flight, Raising, in_memory, points

ROOT = tracing.release_context("wave-7")


@pytest.fixture
def otel():
    spans, metrics = in_memory()
    yield spans, metrics
    telemetry.reset()


@pytest.fixture
def flight(otel):
    return Flight(applied_early=45).story()


def by_event(spans) -> dict[str, object]:
    return {s.attributes["cloudevents.event_id"]: s for s in spans}


def test_every_message_handled_is_a_span_of_the_release_trace(otel, flight):
    spans = otel[0].get_finished_spans()
    assert len(spans) == len(flight.handled)
    assert {s.context.trace_id for s in spans} == {ROOT.trace_id}
    alert = by_event(spans)["m9"]
    assert alert.name == "process alert"
    assert alert.kind.name == "CONSUMER"
    assert {k: alert.attributes[k] for k in ("cloudevents.event_type", "promote.outcome", "promote.workload")} == {
        "cloudevents.event_type": "alert",
        "promote.outcome": "applied",
        "promote.workload": "payroll",
    }
    assert (alert.attributes["promote.state.before"], alert.attributes["promote.state.after"]) == (
        "flighting",
        "rolled-back",
    )
    assert alert.attributes["deployment.name"] == alert.attributes["deployment.id"] == "wave-7"
    assert alert.attributes["deployment.environment.name"] == "production"
    assert alert.attributes["promote.gate"] == "retry"  # what holds payroll now: an operator's retry
    assert alert.attributes["messaging.operation.type"] == "process"
    last = by_event(spans)["m18"]
    assert (last.attributes["promote.release.state"], last.attributes["deployment.status"]) == (
        "rolled-back",
        "failed",
    )  # ledger stayed rolled back: the release says so


def test_the_trace_is_one_tree_across_hops(otel, flight):
    spans = otel[0].get_finished_spans()
    ids = {s.context.span_id: s for s in spans}
    continued = tracing.parse(flight.handled[-2]["traceparent"])  # a sender continuing the release's trace
    for s in spans:
        assert s.parent is not None and s.parent.trace_id == ROOT.trace_id
        assert s.parent.span_id in ids or s.parent.span_id in (ROOT.span_id, continued.span_id), s.name
    # every message promote scheduled: handled in a child of the span that handled the message scheduling it
    events = by_event(spans)
    scheduled = [doc for doc in flight.handled if doc["source"].startswith("promote/")]
    assert len(scheduled) >= 6
    for doc in scheduled:
        span = events[doc["id"]]
        scheduler = events[flight.scheduler.by[doc["id"]]]
        assert span.parent.span_id == scheduler.context.span_id == tracing.parse(doc["traceparent"]).span_id
        assert scheduler.end_time <= span.start_time
    # a message from a sender continuing the release's trace hangs under the sender's span
    assert events["m17"].parent.span_id == continued.span_id
    # a message carrying another trace (a CI pipeline's) joins the release's trace, linked to the sender's span
    ci = tracing.parse(CI_TRACE)
    tests_passed = events["m4"]
    assert tests_passed.parent.span_id == ROOT.span_id
    assert [(link.context.trace_id, link.context.span_id) for link in tests_passed.links] == [(ci.trace_id, ci.span_id)]
    assert tests_passed.links[0].context.trace_state.to_header() == "ci=run-42"


def test_the_timers_promote_schedules_carry_the_scheduling_span_as_traceparent(otel):
    flight = Flight()
    flight.send("asset-replicated", "payroll", asset="vm-web")
    flight.send("asset-replicated", "payroll", asset="vm-db")
    flight.send("tests-passed", "payroll")
    flight.override("approve", "payroll", actor="ana@contoso.com")
    (timer, _), *_ = flight.w.scheduler.scheduled
    approve = by_event(otel[0].get_finished_spans())["m4"]
    assert timer["traceparent"] == f"00-{ROOT.trace_id:032x}-{approve.context.span_id:016x}-01"


def test_every_figure_equals_what_the_history_says(otel, flight):
    history = flight.w.store.list_history("wave-7")
    figures = from_history(flight.plan, history)
    found = points(otel[1])

    def sums(name: str, key: str) -> dict[object, tuple[float, int]]:
        return {p.attributes[key]: (p.sum, p.count) for p in found[name]}

    def expected(intervals) -> dict[object, tuple[float, int]]:
        totals: dict[object, list] = defaultdict(lambda: [0.0, 0])
        for i in intervals:
            totals[i.name if i.flight is None or i.name != "flighting" else i.flight][0] += i.seconds
            totals[i.name if i.flight is None or i.name != "flighting" else i.flight][1] += 1
        return {k: (v[0], v[1]) for k, v in totals.items()}

    # the first state of each workload started at the apply, which history does not record: the report marks
    # it partial, the metric counts it from the apply (45 s before the first entry, in this story)
    whole = [i for i in figures.states if not i.partial]
    partial = [i for i in figures.states if i.partial]
    assert [(i.workload, i.name, i.seconds) for i in partial] == [
        ("payroll", "replicating", 60.0),
        ("ledger", "replicating", 0.0),
    ]
    states = sums("promote.workload.state.duration", "promote.state")
    replicating = states.pop("replicating")
    assert replicating == (sum((i.end - flight.applied_at).total_seconds() for i in partial), 2) == (165 + 225, 2)
    assert states == expected(whole)
    gates = sums("promote.workload.gate.duration", "promote.gate")
    assets = gates.pop("assets")
    assert assets == replicating
    assert gates == expected([i for i in figures.gates if not i.partial])
    assert sums("promote.workload.flight.duration", "promote.flight") == expected(figures.flights)
    assert [p.value for p in found["promote.changes"]] == [len(figures.moves)] == [3]
    rollbacks = {p.attributes["promote.rollback.cause"]: p.value for p in found["promote.rollbacks"]}
    assert rollbacks == Counter(r.cause for r in figures.rollbacks) == {"alert": 1, "verdict": 1}
    after = sums("promote.rollback.after_trouble", "promote.rollback.cause")
    assert after == {"alert": (0.0, 1), "verdict": (0.0, 1)}  # on_alert: rollback acts on the alert itself
    waits = [a.waited for a in figures.approvals]
    assert [(p.sum, p.count) for p in found["promote.approval.wait"]] == [(sum(waits), len(waits))]
    assert sum(p.value for p in found["promote.messages"]) == len(flight.handled)
    # and the figures are the story's own numbers (not only equal to each other)
    assert [(r.workload, r.cause, r.share_before, r.flight) for r in figures.rollbacks] == [
        ("payroll", "alert", 50, 2),
        ("ledger", "verdict", 50, 2),
    ]
    assert [(a.workload, a.actor, a.waited) for a in figures.approvals] == [
        ("payroll", "ana@contoso.com", 300.0),
        ("ledger", "ana@contoso.com", 300.0),
        ("payroll", "ana@contoso.com", 120.0),
    ]
    paused = [i for i in figures.gates if i.name == "paused"]
    assert [(i.workload, i.seconds) for i in paused] == [("payroll", 240.0)]
    assert expected(figures.flights)[1] == (301.0 * 3, 3)  # flight 1: the bake (5 min) and a second, three times


def test_a_rollback_at_resume_answers_the_alert_recorded_while_paused(otel):
    flight = Flight().flighting()
    flight.tick(10)
    flight.override("pause", "payroll")
    flight.tick(60)
    flight.send("alert", "payroll", severity="Sev2")  # recorded while paused
    flight.tick(120)
    flight.override("resume", "payroll")  # on_alert: rollback, acted on now
    figures = from_history(flight.plan, flight.w.store.list_history("wave-7"))
    assert [(r.cause, r.after_trouble) for r in figures.rollbacks] == [("alert", 120.0)]
    assert [(i.name, i.seconds) for i in figures.gates if i.name == "paused"] == [("paused", 180.0)]
    found = points(otel[1])
    assert [(p.attributes["promote.rollback.cause"], p.sum) for p in found["promote.rollback.after_trouble"]] == [
        ("alert", 120.0)
    ]
    paused = [p for p in found["promote.workload.gate.duration"] if p.attributes["promote.gate"] == "paused"]
    assert [(p.sum, p.count) for p in paused] == [(180.0, 1)]


def test_an_operator_rollback_after_an_alert_paused_the_flight_is_the_operators(otel):
    flight = Flight(on_alert="pause").flighting()
    flight.tick(10)
    flight.send("flight-unhealthy", "payroll", flight=1)  # on_alert: pause
    flight.tick(300)
    flight.override("rollback", "payroll")
    figures = from_history(flight.plan, flight.w.store.list_history("wave-7"))
    assert [(r.cause, r.after_trouble, r.share_before) for r in figures.rollbacks] == [("operator", 300.0, 10)]
    assert [(i.name, i.seconds) for i in figures.gates if i.name == "paused"] == [("paused", 300.0)]
    found = points(otel[1])
    assert [(p.attributes["promote.rollback.cause"], p.value) for p in found["promote.rollbacks"]] == [("operator", 1)]
    assert [p.sum for p in found["promote.rollback.after_trouble"]] == [300.0]


def test_telemetry_that_fails_changes_no_outcome(caplog):
    telemetry.off()
    plain = Flight().story()
    in_memory(failing=True)
    try:
        with caplog.at_level(logging.WARNING, logger="promote.telemetry"):
            failing = Flight().story()
    finally:
        telemetry.reset()
    assert Raising.calls > 0  # the exporter was called, and raised every time
    assert [(r.outcome, r.reason) for r in failing.results] == [(r.outcome, r.reason) for r in plain.results]
    assert failing.w.store.list_history("wave-7") == plain.w.store.list_history("wave-7")
    assert failing.w.network.writes == plain.w.network.writes
    said = [r.getMessage() for r in caplog.records if r.name == "promote.telemetry"]
    assert len(said) == len(set(said)) == 1 and "record metrics" in said[0]  # each failure said once


def test_the_span_of_a_message_that_fails_records_the_error_and_the_error_still_propagates(otel):
    flight = Flight()
    flight.w.network.broken.add("payroll")
    for asset in ("vm-web", "vm-db"):
        flight.send("asset-replicated", "payroll", asset=asset)
    flight.send("tests-passed", "payroll")
    with pytest.raises(RuntimeError, match="routing API unavailable"):
        flight.override("approve", "payroll", actor="ana@contoso.com")
    failed = by_event(otel[0].get_finished_spans())["m4"]
    assert failed.status.status_code.name == "ERROR"
    assert [e.name for e in failed.events] == ["exception"]
    assert tracing.SENDING.get() is None  # the context is left as it was found


def test_telemetry_is_off_by_default_and_then_builds_no_span():
    telemetry.reset()
    try:
        assert telemetry.enabled() is False
        flight = Flight()
        flight.send("asset-replicated", "payroll", asset="vm-web")
        assert flight.results[-1].outcome == "applied"
    finally:
        telemetry.reset()


def test_the_spans_of_a_release_kept_in_shards_say_what_each_message_did(otel, caplog):
    """A message about one workload is decided on its shard (a partial release, whose state needs every
    workload): its span still says the outcome and the move; the release's state only where it was decided."""
    with caplog.at_level(logging.WARNING, logger="promote.telemetry"):
        flight = Flight(applied_early=45, shard_size=1).story()
    assert [r.getMessage() for r in caplog.records if r.name == "promote.telemetry"] == []
    spans = otel[0].get_finished_spans()
    assert len(spans) == len(flight.handled)
    assert all("promote.outcome" in s.attributes for s in spans)
    moved = [
        (r, by_event(spans)[r.event_id]) for r in flight.results if any(e.from_state != e.to_state for e in r.entries)
    ]
    assert len(moved) >= 10
    for result, span in moved:
        assert span.attributes["promote.state.after"] == result.entries[-1].to_state
        if result.after.partial:
            assert "promote.release.state" not in span.attributes
        else:
            assert span.attributes["promote.release.state"] == result.after.state
    assert any(r.after.partial for r, _ in moved) and any(not r.after.partial for r, _ in moved)
