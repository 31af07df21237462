"""trouble_at (when an alert voided a flight's healthy verdict) between hosts whose clocks differ by up to
CLOCK_SKEW, and across flights. From a review: each failed before the fix."""

from __future__ import annotations

from datetime import timedelta

from shared.application.judge import Judge
from shared.domain.machine import CLOCK_SKEW
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event, world
from tests.judge_fakes import MemoryJudgeStore, ScriptedSource, ServicePublisher
from tests.unit.test_judge import R, lagging_flight, state


class SkewedClock:
    """Another host's clock: `offset` seconds ahead of (positive) or behind (negative) the service's."""

    def __init__(self, base: FakeClock, offset: float):
        self.base, self.offset = base, timedelta(seconds=offset)

    def now(self):
        return self.base.now() + self.offset


def test_a_judge_whose_clock_runs_ahead_within_clock_skew_never_judges_a_voided_flight_again():
    """The judge runs on another host than the service; its clock 3 s ahead (less than CLOCK_SKEW). Its
    healthy verdict is handled (held by lag), then an alert 1 s later voids it. trouble_at (service clock) is
    earlier than record.at (judge clock), so _verdict_voided says "holds": after resume nobody ever judges
    flight 1 again, and the workload stays at 10 % although every check passes and the lag cleared. The old
    digest-in-seen test did not depend on two hosts' clocks."""
    w = world()
    lag = lagging_flight(w)
    records, source, publisher = MemoryJudgeStore(), ScriptedSource(), ServicePublisher(w.service)
    judge = Judge(store=w.store, records=records, source=source, publisher=publisher, clock=SkewedClock(w.clock, +3))
    source.set("payroll", "errors", 0.1, 900)
    w.clock.advance(10)
    assert len(judge.round().published) == 1
    assert (state(w).flight, state(w).healthy_flight) == (1, 1)  # held by lag
    w.clock.advance(1)  # the alert, a second after the verdict was handled
    w.service.handle(event("alert", R, "payroll", "alert-1", severity="Sev2", description="p95 up"))
    assert state(w).paused and state(w).healthy_flight == 0
    w.service.handle(
        event("override", R, "payroll", "resume", action="resume", actor="ops@contoso.com", reason="false alarm")
    )
    lag(0.5, "lag-3")
    for _ in range(30):  # five minutes of rounds
        w.clock.advance(10)
        judge.round()
    assert state(w).flight == 2, "flight 1 was never judged again: stuck at 10 % with every check passing"


def paused_by_an_alert_at_flight_1_then_resumed():
    """A flight (on_alert: pause) whose flight 1 was paused by an alert 60 s in and resumed 1 s later; the
    clock is 1 s past the resume."""
    w = world()
    plan = validate_plan(
        {
            "release": R,
            "model": "flight",
            "on_alert": "pause",
            "operators": ["ops@contoso.com"],
            "approvers": ["cab@contoso.com"],
            "flights": [{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
            "workloads": [{"name": "payroll", "assets": ["vm-1"]}],
        }
    )
    w.service.apply(plan)
    w.service.handle(event("asset-replicated", R, "payroll", "rep", asset="vm-1"))
    w.service.handle(event("tests-passed", R, "payroll", "tests"))
    w.clock.advance(60)
    w.service.handle(event("alert", R, "payroll", "alert-1", severity="Sev2"))
    w.clock.advance(1)
    w.service.handle(
        event("override", R, "payroll", "resume", action="resume", actor="ops@contoso.com", reason="false alarm")
    )
    w.clock.advance(1)
    return w


def test_a_monitor_whose_clock_runs_behind_within_clock_skew_is_refused_after_an_alert():
    """CLOCK_SKEW says a monitor's clock may run 5 s behind ours, and the flight-start check allows for it;
    the new trouble_at check does not. A healthy verdict measured after the alert was handled and after resume,
    stamped by a monitor 3 s behind, is ignored as 'before the alert'."""
    w = paused_by_an_alert_at_flight_1_then_resumed()
    stamped = w.clock.now() - timedelta(seconds=3)  # measured 2 s after the alert was handled, by a clock 3 s behind
    assert stamped >= state(w).flight_began - CLOCK_SKEW
    result = w.service.handle(event("flight-healthy", R, "payroll", "h-after", time=stamped, flight=1))
    assert result.outcome == "applied", result.reason


def test_trouble_from_an_earlier_flight_refuses_a_verdict_the_flight_start_check_accepts():
    """trouble_at is never cleared: start_flight/to_source/retry keep it. A verdict for flight 2
    that the flight-start check accepts (within CLOCK_SKEW of its start) is refused because of flight 1's
    alert, with a reason naming flight 2 as needing a verdict 'from after' an alert it never had."""
    w = paused_by_an_alert_at_flight_1_then_resumed()
    w.service.handle(
        event("override", R, "payroll", "adv", action="advance", actor="cab@contoso.com", reason="by hand")
    )
    assert state(w).flight == 2
    stamped = state(w).flight_began - timedelta(seconds=3)  # accepted by the flight-start check
    result = w.service.handle(event("flight-healthy", R, "payroll", "h2", time=stamped, flight=2))
    assert result.outcome == "applied", result.reason
