"""The ids promote sets (its timers) and the ids a judge derives (health.verdict_id) are predictable: another
sender's message carrying one must not make the real message a duplicate. A message's `source` is written by
its sender (`promote send --source promote/judge`, or any client with send rights on the topic), so the
namespace of those ids is chosen by the message's type, which decides what the message can do."""

from __future__ import annotations

import json

from shared.domain import messages as m
from shared.domain.health import JUDGE_SOURCE, verdict_id
from shared.domain.times import ms
from tests.fakes import event
from tests.unit.test_machine import Driver, make_plan


def forged(type_: str, id_: str, source: str, **data) -> str:
    doc = json.loads(event(type_, "r1", "w1", id_, **data))
    doc["source"] = source
    return json.dumps(doc)


def test_an_outside_message_that_names_a_promote_source_cannot_use_up_the_id_of_promotes_next_timer():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)  # healthy before the bake is over: the timer grows the flight
    [timer] = [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.TIMER_TYPE]
    assert d.w.service.handle(forged("tests-passed", timer["id"], "promote/judge")).outcome == "ignored"
    [result] = [r for r in d.tick(31) if r.event_id == timer["id"]]
    assert result.outcome == "applied" and d.wl().flight == 2, result.reason
    assert d.w.service.handle(json.dumps(timer)).outcome == "duplicate"  # promote's own redelivery still is one


def test_no_other_verdict_can_use_up_the_id_of_the_judges_next_unhealthy_verdict():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    w = d.wl()
    assert w.flight_started_at is not None
    next_id = verdict_id("r1", "w1", w.attempt, 1, ms(w.flight_started_at), 1)
    assert d.w.service.handle(forged("tests-passed", next_id, JUDGE_SOURCE)).outcome == "ignored"
    d.w.service.handle(forged("flight-healthy", next_id, JUDGE_SOURCE, flight=1))
    unhealthy = d.w.service.handle(forged("flight-unhealthy", next_id, JUDGE_SOURCE, flight=1))
    assert unhealthy.outcome == "applied" and d.wl().state == "rolled-back", unhealthy.reason
    again = d.w.service.handle(forged("flight-unhealthy", next_id, JUDGE_SOURCE, flight=1))
    assert again.outcome == "duplicate"  # the judge publishing it again (a re-run) is still one


def test_a_senders_id_is_its_own_whatever_source_it_names_and_promotes_types_are_kept_apart():
    def key(type_: str, source: str, **data) -> str:
        return m.dedup_key(m.parse_message(forged(type_, "x", source, **data)))

    assert key("alert", "ci") == key("alert", "promote/judge") == "x"  # the source chooses nothing
    verdict = key("flight-healthy", JUDGE_SOURCE, flight=1)
    assert verdict.endswith("x") and verdict not in ("x", key("flight-unhealthy", JUDGE_SOURCE, flight=1))
