"""Time and order through the service (shared/domain/machine/rules/time.py): deadlines under each on_deadline,
change-window timers and dependencies between releases, with the exact reasons history shows and the timers
each schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.machine.rules.time import span
from shared.domain.plan import validate_plan
from tests.fakes import event, world
from tests.unit.test_machine import Driver, make_plan

START_MS = 1795730400000  # the fakes' clock at the start: 2026-11-26T22:00:00Z


def said(*results) -> list[tuple[str, str]]:
    return [(str(r.outcome), r.reason) for r in results]


def timers(d: Driver) -> list[tuple[str, dict, datetime]]:
    return [(e["type"], e["data"], due) for e, due in d.w.scheduler.scheduled]


def test_span():
    assert [span(s) for s in (0, 45, 59.9, 60, 3600, 86400, 90061, 3661)] == [
        "0s",
        "45s",
        "59s",
        "1m",
        "1h",
        "1d",
        "1d1h1m1s",
        "1h1m1s",
    ]


DEADLINE_AT = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
REPLICATING = f"replicating:{START_MS}"
WAITED = "deadline passed: waited 1h for replicating (deadline replicating: 1h) in replicating"


def _deadlines(action: str) -> Driver:
    d = Driver(make_plan("flight", deadlines={"replicating": "1h", "verdict": "30m"}, on_deadline=action))
    assert timers(d) == [("deadline", {"release": "r1", "workload": "w1", "period": REPLICATING}, DEADLINE_AT)]
    return d


def test_a_deadline_notifies():
    d = _deadlines("notify")
    assert said(*d.tick(3599)) == []
    assert said(*d.tick(1)) == [("applied", f"{WAITED}; on_deadline notify")]
    assert said(d.send("deadline", "w1", period=REPLICATING)) == [
        ("ignored", "the replicating deadline of this waiting period already fired")
    ]
    d.replicate()
    d.send("tests-passed")
    verdict = f"verdict:{START_MS + 3600_000 + 30_000}"  # the bake of flight 1 (30s) is over
    assert timers(d)[-1] == (
        "deadline",
        {"release": "r1", "workload": "w1", "period": verdict},
        datetime(2026, 11, 26, 23, 30, 30, tzinfo=UTC),
    )
    assert said(*d.tick(30 * 60 + 30)) == [
        ("ignored", "bake time of flight 1 over; waiting for a healthy verdict"),
        ("applied", "deadline passed: waited 30m for verdict (deadline verdict: 30m) in flighting; on_deadline notify"),
    ]
    assert said(d.send("deadline", "w1", period="replicating:1")) == [
        ("ignored", "deadline for a waiting period that is over (replicating:1); the workload is flighting")
    ]


def test_a_deadline_pauses():
    d = _deadlines("pause")
    assert said(*d.tick(3600)) == [("applied", f"{WAITED}; paused at 0% (on_deadline: pause)")]
    w = d.wl()
    assert (w.paused, w.paused_by, w.paused_reason) == (True, "promote/deadline", WAITED)


def test_a_deadline_rolls_back_only_a_missing_verdict():
    d = _deadlines("rollback")
    assert said(*d.tick(3600)) == [
        ("applied", f"{WAITED}; on_deadline rollback: rollback acts on a missing verdict only")
    ]
    d.replicate()
    d.send("tests-passed")
    assert said(*d.tick(30 * 60 + 30))[-1] == (
        "applied",
        "deadline passed: waited 30m for verdict (deadline verdict: 30m) in flighting; rolled back to 0% "
        "(on_deadline: rollback) -> rolled-back (0%); network: fake r1/w1: share 10 -> 0",
    )


def test_a_paused_flight_is_not_rolled_back_by_its_deadline():
    d = Driver(make_plan("flight", deadlines={"verdict": "30m"}, on_deadline="rollback"))
    d.replicate()
    d.send("tests-passed")
    d.override("pause")
    assert said(*d.tick(30 * 60 + 30))[-1] == (
        "applied",
        "deadline passed: waited 30m for verdict (deadline verdict: 30m) in flighting; paused, so not rolled back "
        "(on_deadline: rollback)",
    )
    assert d.routed() == 10


def test_a_paused_workload_s_deadline_with_on_deadline_pause():
    d = Driver(make_plan("flight", deadlines={"replicating": "1h"}, on_deadline="pause"))
    d.override("pause")
    assert said(*d.tick(3600)) == [("applied", f"{WAITED}; on_deadline pause: already paused")]


def test_a_window_wakes_a_held_move():
    win = {
        "timezone": "UTC",
        "allow": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "23:00", "to": "23:30"}],
    }
    d = Driver(make_plan("single-step", windows=win))
    d.replicate()
    assert said(d.send("tests-passed")) == [
        (
            "applied",
            "tests passed -> ready; held: change window closed (outside the allowed slots), opens 2026-11-26 23:00 "
            "UTC (23:00Z)",
        )
    ]
    assert timers(d) == [
        ("window-open", {"release": "r1", "workload": "w1", "opens_ms": START_MS + 3600_000}, DEADLINE_AT)
    ]
    assert said(d.send("window-open", "w1", opens_ms=START_MS + 3600_000)) == [
        ("ignored", "window timer arrived early; rescheduled for 2026-11-26T23:00:00Z")
    ]
    assert said(*d.tick(3600))[0] == (
        "applied",
        "change window open -> promoted (100%); network: fake r1/w1: share 0 -> 100",
    )
    assert said(d.send("window-open", "w1", opens_ms=START_MS + 3600_000)) == [
        ("ignored", "window opening 2026-11-26T23:00:00Z: nothing moves now (the workload is promoted)")
    ]


def test_a_window_opening_while_another_gate_holds():
    win = {
        "timezone": "UTC",
        "allow": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "23:00", "to": "23:30"}],
    }
    d = Driver(make_plan("single-step", windows=win))
    d.w.clock.advance(3600)
    assert said(d.send("window-open", "w1", opens_ms=START_MS + 3600_000)) == [
        (
            "ignored",
            "window opening 2026-11-26T23:00:00Z: nothing moves now (assets: 0/2 replicated, pending a, b)",
        )
    ]


@pytest.fixture
def waiting() -> Driver:
    """r1 waits for r0 and r9, both applied."""
    d = Driver.__new__(Driver)
    d.w, d.n = world(), 0
    for name in ("r0", "r9"):
        d.w.service.apply(validate_plan({**make_plan("single-step"), "release": name}))
    d.plan = validate_plan(make_plan("single-step", after=["r0", "r9"]))
    d.w.service.apply(d.plan)
    return d


def test_dependencies(waiting):
    d = waiting
    assert said(d.send("dependency-promoted", None, dependency="rx")) == [
        ("ignored", "release rx is not in this release's `after`")
    ]
    assert said(d.send("dependency-promoted", None, dependency="r0")) == [
        ("ignored", "release r0 is in-progress, not promoted; looking again at 2026-11-26T22:00:30Z")
    ]
    assert timers(d) == [
        (
            "dependency-promoted",
            {"release": "r1", "dependency": "r0", "recheck": 1},
            datetime(2026, 11, 26, 22, 0, 30, tzinfo=UTC),
        )
    ]
    assert said(d.send("dependency-promoted", None, dependency="r9", recheck=3)) == [
        ("ignored", "release r9 is in-progress, not promoted")
    ]
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "a"}), ("asset-replicated", {"asset": "b"}), ("tests-passed", {})]
    ):
        d.w.service.handle(event(type_, "r0", "w1", f"r0-{i}", **data))
    assert said(*d.tick(2)) == [("applied", "release r0 is promoted; still waiting for r9")]
    assert d.release.after_met == ("r0",)
    assert said(d.send("dependency-promoted", None, dependency="r0")) == [
        ("ignored", "release r0 was already seen promoted")
    ]
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "a"}), ("asset-replicated", {"asset": "b"}), ("tests-passed", {})]
    ):
        d.w.service.handle(event(type_, "r9", "w1", f"r9-{i}", **data))
    assert said(*d.tick(2)) == [("applied", "release r9 is promoted; no release to wait for now")]
