"""Pins promote's instruments (shared/application/telemetry_metrics.py): each one's name, kind, unit, description and
buckets as a meter is asked for them, and the message counter's attributes for results with and without entries."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from shared.application import telemetry
from shared.application.telemetry_metrics import Instruments
from tests.fakes import event, world
from tests.telemetry_world import in_memory, points

BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800]


class Meter:
    """A meter that notes each instrument asked for, and each measurement made with it."""

    def __init__(self):
        self.made: list[tuple] = []
        self.measured: list[tuple] = []

    def create_counter(self, name, **kwargs):
        self.made.append(("counter", name, kwargs))
        return Instrument(self, name)

    def create_histogram(self, name, **kwargs):
        self.made.append(("histogram", name, kwargs))
        return Instrument(self, name)


class Instrument:
    def __init__(self, meter: Meter, name: str):
        self.meter, self.name = meter, name

    def add(self, value, attributes=None):
        self.meter.measured.append((self.name, value, attributes))

    record = add


def seconds(description: str) -> dict:
    return {"unit": "s", "description": description, "explicit_bucket_boundaries_advisory": BUCKETS}


def test_every_instrument_is_made_with_its_unit_description_and_buckets():
    meter = Meter()
    Instruments(meter)
    assert meter.made == [
        ("counter", "promote.messages", {"unit": "{message}", "description": "messages handled"}),
        ("histogram", "promote.workload.state.duration", seconds("time a workload spent in a state")),
        ("histogram", "promote.workload.gate.duration", seconds("time a gate held a workload")),
        ("histogram", "promote.workload.flight.duration", seconds("time a workload spent at one flight")),
        ("counter", "promote.changes", {"unit": "{change}", "description": "users moved onto the migrated system"}),
        ("counter", "promote.rollbacks", {"unit": "{rollback}", "description": "rollbacks"}),
        (
            "histogram",
            "promote.rollback.after_trouble",
            seconds("from an alert or unhealthy verdict to the rollback done"),
        ),
        ("histogram", "promote.approval.wait", seconds("time in ready before an approval")),
        (
            "histogram",
            "promote.workload.duration",
            seconds("from a workload leaving its initial state to finalized or aborted"),
        ),
        (
            "histogram",
            "promote.release.duration",
            seconds("from a release's first workload start to an end: finalized, aborted, rolled back"),
        ),
    ]


def test_a_result_without_entries_or_a_release_counts_one_message_by_its_outcome():
    meter = Meter()
    Instruments(meter).record(SimpleNamespace(outcome="dead-lettered", reason="bad", entries=[]))  # no `before`
    assert meter.measured == [("promote.messages", 1, {"promote.outcome": "dead-lettered"})]


def test_a_result_with_entries_but_no_release_before_counts_its_message_only():
    meter = Meter()
    entry = SimpleNamespace(type="tests-passed", workload="w1")
    Instruments(meter).record(SimpleNamespace(outcome="ignored", reason="", entries=[entry]))  # no `before`
    assert meter.measured == [
        ("promote.messages", 1, {"cloudevents.event_type": "tests-passed", "promote.outcome": "ignored"})
    ]


@pytest.fixture
def otel():
    spans, metrics = in_memory()
    yield spans, metrics
    telemetry.reset()


def test_the_messages_counted_through_the_service_carry_their_type_and_outcome(otel, caplog):
    from shared.domain.plan import validate_plan

    w = world()
    w.service.apply(
        validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]})
    )
    with caplog.at_level(logging.DEBUG, logger="promote.telemetry"):
        w.service.handle("not json")
        w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a"))
        w.service.handle(event("asset-replicated", "r1", "w1", "m1", asset="a"))  # again: a duplicate
    counted = sorted((sorted(p.attributes.items()), p.value) for p in points(otel[1])["promote.messages"])
    assert counted == [
        ([("cloudevents.event_type", "asset-replicated"), ("promote.outcome", "applied")], 1),
        ([("cloudevents.event_type", "asset-replicated"), ("promote.outcome", "duplicate")], 1),
        ([("promote.outcome", "dead-lettered")], 1),
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "promote.telemetry"] == []
