"""What the service returns for each message (the local host, the demo and `promote run` print it)."""

from __future__ import annotations

import json
from datetime import UTC

from shared.application.service import SystemClock
from shared.domain.plan import validate_plan
from tests.fakes import event, world


def applied_world():
    w = world()
    w.service.apply(
        validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]})
    )
    return w


def test_an_invalid_message_of_a_known_release_is_returned_as_rejected_with_its_id_release_and_entry():
    w = applied_world()
    result = w.service.handle(event("asset-replicated", "r1", "w1", "bad-1"))  # no asset
    assert (result.outcome, result.event_id, result.release) == ("rejected", "bad-1", "r1")
    [entry] = result.entries
    assert entry.event_id == "bad-1" and entry.workload == "w1" and "data.asset" in result.reason
    assert w.store.list_history("r1") == [entry]
    assert entry.at == w.clock.now()


def test_a_message_for_a_release_never_applied_is_dead_lettered_as_it_came():
    w = applied_world()
    body = event("tests-passed", "nowhere", "w1", "lost-1")
    result = w.service.handle(body)
    assert (result.outcome, result.event_id, result.release) == ("dead-lettered", "lost-1", None)
    assert w.dead.letters == [(body.encode(), "release 'nowhere' was never applied")]


def test_an_invalid_message_naming_an_unknown_release_is_dead_lettered_with_the_validation_reason():
    w = applied_world()
    body = json.dumps(
        {
            "specversion": "1.0",
            "id": "bad-2",
            "source": "s",
            "type": "asset-replicated",
            "data": {"release": "nowhere", "workload": "w1"},
        }
    )
    result = w.service.handle(body)
    assert (result.outcome, result.event_id) == ("dead-lettered", "bad-2")
    [(kept, reason)] = w.dead.letters
    assert kept == body.encode() and reason.startswith("invalid message: ") and "asset" in reason


def test_an_applied_message_returns_its_outcome_reason_id_release_and_entries():
    w = applied_world()
    result = w.service.handle(event("asset-replicated", "r1", "w1", "ok-1", asset="a"))
    assert (result.outcome, result.event_id, result.release) == ("applied", "ok-1", "r1")
    assert result.reason == "asset a replicated (1/1) -> testing"
    assert result.entries == w.store.list_history("r1")


def test_the_system_clock_is_utc():
    assert SystemClock().now().tzinfo == UTC
