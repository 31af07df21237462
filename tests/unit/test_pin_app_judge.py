"""judge.py pinned: the evaluation written before any of a flight's data can be in (every check inconclusive,
with its bounds and the reason, the counts kept), and when a handled healthy verdict counts as voided (an
alert on the workload after it, within the clocks' skew, and only while no healthy verdict holds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.application.judge import Judge, _waiting
from shared.domain.health import CheckResult, Evaluation, JudgeRecord, Streak
from shared.domain.model import Workload, WorkloadState
from shared.domain.plan.health import Health

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
WHY = "no complete data yet: Monitor's data is in 180s late (ingestion_delay); first at 2026-12-01T10:03:00Z"


def test_an_evaluation_before_the_data_is_in_is_inconclusive_for_every_check_and_keeps_the_counts():
    health = Health.model_validate(
        {
            "interval": "1m",
            "checks": [
                {"name": "errors", "provider": "local", "max": 1.5, "min": 0.5, "min_samples": 100},
                {"name": "latency", "provider": "azure-monitor-logs", "min": 2.0,
                 "workspace": "00000000-0000-0000-0000-000000000001", "query": "T | count"},
            ],
        }
    )  # fmt: skip
    streaks = {"errors": Streak(failed=1, inconclusive=2)}
    evaluation = _waiting(health, streaks, T0 + timedelta(minutes=3))
    assert evaluation == Evaluation(
        [
            CheckResult(name="errors", max=1.5, min=0.5, min_samples=100, passed=False, outcome="inconclusive",
                        in_a_row=0, error=WHY),
            CheckResult(name="latency", max=None, min=2.0, min_samples=1, passed=False, outcome="inconclusive",
                        in_a_row=0, error=WHY),
        ],
        {"errors": Streak(failed=1, inconclusive=2)},
    )  # fmt: skip
    assert [r.in_a_row for r in evaluation.results] == [0, 0]


def flying(healthy_flight: int, trouble_at: datetime | None) -> Workload:
    return Workload("payroll", WorkloadState.FLIGHTING, flight=2, flight_started_at=T0, healthy_flight=healthy_flight,
                    trouble_at=trouble_at)  # fmt: skip


CLAIMED = T0 + timedelta(minutes=5)  # when the judge claimed its healthy verdict


@pytest.mark.parametrize(
    ("healthy_flight", "trouble_at", "voided"),
    [
        (0, CLAIMED + timedelta(seconds=1), True),  # an alert after the verdict
        (0, CLAIMED - timedelta(seconds=5), True),  # at the clocks' skew before it: counted
        (0, CLAIMED - timedelta(seconds=6), False),  # before it, past the skew: the verdict was after the alert
        (0, None, False),  # no alert during this flight (a healthy verdict still on its way)
        (2, CLAIMED + timedelta(seconds=1), False),  # a healthy verdict holds for the flight
    ],
)
def test_a_handled_healthy_verdict_is_voided_only_by_trouble_after_it(healthy_flight, trouble_at, voided):
    record = JudgeRecord("payroll", attempt=0, flight=2, started_ms=0, at=CLAIMED, done=True)
    assert Judge._verdict_voided(flying(healthy_flight, trouble_at), record) is voided
