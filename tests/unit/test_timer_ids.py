"""Every timer promote sets has one id scheme (type:release:workload:key), and timers already queued under the
ids of earlier versions (bake:..., revoke:...) are still handled when they arrive after an upgrade."""

from __future__ import annotations

import json

from shared.domain import messages as m
from shared.domain.machine import schedule_id
from tests.fakes import T0
from tests.unit.test_machine import Driver, make_plan
from tests.unit.test_revocation_failures import promoted


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def test_a_bake_timer_is_scheduled_under_the_one_id_scheme():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    [(timer, due)] = [(e, due) for e, due in d.w.scheduler.scheduled if e["type"] == m.TIMER_TYPE]
    key = f"0:1:{_ms(T0)}:{_ms(T0)}"
    assert timer["id"] == schedule_id(m.TIMER_TYPE, "r1", "w1", key) == f"bake-elapsed:r1:w1:{key}"
    assert timer["data"] == {"release": "r1", "workload": "w1", "flight": 1, "attempt": 0, "started_ms": _ms(T0)}
    assert (due - T0).total_seconds() == 30


def test_a_bake_timer_queued_under_the_earlier_id_still_grows_the_flight():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)
    [timer] = [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.TIMER_TYPE]
    d.w.scheduler.scheduled.clear()  # the transport holds the earlier version's message instead
    data = timer["data"]
    timer["id"] = f"bake:r1:w1:{data['attempt']}:{data['flight']}:{data['started_ms']}:{_ms(T0)}"
    d.w.clock.advance(31)
    result = d.w.service.handle(json.dumps(timer))
    assert result.outcome == "applied" and "bake time of flight 1 over and healthy" in result.reason
    assert d.wl().flight == 2 and d.wl().traffic_percent == 50


def test_a_revocation_retry_queued_under_the_earlier_id_still_revokes():
    w = promoted(failures=1)
    [retry] = [e for e, _ in w.scheduler.scheduled if e["type"] == m.REVOKE_RETRY_TYPE]
    assert retry["id"].startswith("revoke-access-retry:r1:~:1:")
    retry["id"] = f"revoke:r1:1:{_ms(T0)}"  # as the earlier version named it
    w.network.revoke_failures = 0
    w.clock.advance(120)
    result = w.service.handle(json.dumps(retry))
    assert result.outcome == "applied" and "access revoked" in result.reason
    assert w.store.get_release("r1").release.access_revoked


def test_a_hypercare_timer_keeps_its_id_and_a_queued_one_still_finalizes_by_itself():
    d = Driver(make_plan("single-step", hypercare="1m", decommission={"approval": "auto", "provider": "local"}))
    d.replicate()
    d.send("tests-passed")
    [timer] = [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.HYPERCARE_TYPE]
    promoted_ms = timer["data"]["promoted_ms"]
    assert timer["id"] == f"hypercare-elapsed:r1:w1:0:{promoted_ms}:{_ms(T0)}"  # the same scheme as before
    d.w.clock.advance(61)
    result = d.w.service.handle(json.dumps(timer))
    d.tick(0)  # the decommission its committed request sends
    assert result.outcome == "applied" and d.wl().state == "finalized" and d.wl().finalized_by == "promote"


def test_an_id_promote_will_give_a_timer_cannot_be_used_up_by_another_senders_message():
    """Issue 29, defect 6: a message carrying the id of promote's next timer made the real one a duplicate."""
    d = Driver(make_plan("flight"))
    d.replicate()
    d.send("tests-passed")
    d.send("flight-healthy", flight=1)
    [timer] = [e for e, _ in d.w.scheduler.scheduled if e["type"] == m.TIMER_TYPE]
    squatter = d.send("tests-passed", id=timer["id"])  # same id, another sender (source "test")
    assert squatter.outcome == "ignored"
    [result] = [r for r in d.tick(31) if r.event_id == timer["id"]]
    assert result.outcome == "applied" and d.wl().flight == 2
    again = d.w.service.handle(json.dumps(timer))  # promote's own redelivery is still a duplicate
    assert again.outcome == "duplicate"


def test_promotes_own_types_are_de_duplicated_apart_from_outside_ids_whatever_the_source():
    assert m.dedup_key(m.parse_message(json.dumps(_doc("x", "ci")))) == "x"
    # a source is the sender's to write: naming promote's chooses no namespace (tests/unit/test_own_message_ids.py)
    assert m.dedup_key(m.parse_message(json.dumps(_doc("x", "promote/judge")))) == "x"
    timer = {**_doc("x", "ci"), "type": m.TIMER_TYPE}
    timer["data"] = {**timer["data"], "attempt": 1, "flight": 1, "started_ms": 0}
    own = m.dedup_key(m.parse_message(json.dumps(timer)))
    assert own != "x" and own.endswith("x")


def _doc(id_: str, source: str) -> dict:
    return {
        "specversion": "1.0",
        "id": id_,
        "source": source,
        "type": "alert",
        "data": {"release": "r", "workload": "w"},
    }
