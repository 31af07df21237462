"""A decision rewritten when some decommissions failed (shared/domain/machine/rules/finish.py
`decommission_failed`): the failed workload stays promoted with its error (cut at 500 characters) and a retry
timer, its finalize entry says so; the other workloads, entries and effects are left as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain import messages as m
from shared.domain.machine.effects import Decision, Decommission, Schedule
from shared.domain.machine.rules.finish import decommission_failed
from shared.domain.model import HistoryEntry, Outcome, WorkloadState, new_release
from shared.domain.plan import validate_plan
from shared.domain.plan.finishing import DecommissionTarget
from tests.unit.test_machine import APPROVER, make_plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PROMOTED = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
PROMOTED_MS, NOW_MS = 1796630400000, 1796634000000
ERROR = "ConnectionError: " + "x" * 483  # exactly 500 characters ...
TOO_LONG = ERROR + "-beyond the limit"  # ... and what the provider said past them


def _finalizing():
    plan = validate_plan(
        make_plan("single-step", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}])
    )
    release = new_release(plan, PROMOTED)
    finalized = {
        "state": WorkloadState.FINALIZED,
        "traffic_percent": 100,
        "promoted_at": PROMOTED,
        "finalized_by": APPROVER,
        "finalized_at": NOW,
    }
    workloads = {
        "w1": release.workloads["w1"].evolve(**finalized, attempt=1, decommission_failures=2),
        "w2": release.workloads["w2"].evolve(**finalized),
    }
    return release.evolve(workloads=workloads)


def _entry(workload: str, reason: str, to_state: str) -> HistoryEntry:
    return HistoryEntry(NOW, "m1", "decommission", Outcome.APPLIED, reason, workload, "promoted", to_state, 100)


FINALIZING = "turning the source off (finalize requested by ana@contoso.com) -> finalized"
OFF = [Decommission(n, DecommissionTarget(), (a,), APPROVER, 0) for n, a in (("w1", "a"), ("w2", "b"))]
OTHER = Schedule("hypercare-elapsed", {"workload": "w2"}, NOW, "k")


def test_the_failed_workload_stays_promoted_and_is_retried_the_others_are_untouched():
    release = _finalizing()
    note = _entry("w1", "a note on w1", "promoted")
    decision = Decision(
        release,
        [_entry("w1", FINALIZING, "finalized"), note, _entry("w2", FINALIZING, "finalized")],
        [OFF[0], OTHER, OFF[1]],
    )
    out = decommission_failed(decision, {"w1": TOO_LONG}, NOW)

    w1 = out.release.workloads["w1"]
    assert (w1.state, w1.finalized_by, w1.finalized_at, w1.decommission_error, w1.decommission_failures) == (
        "promoted",
        None,
        None,
        ERROR,
        3,
    )
    assert out.release.workloads["w2"] == release.workloads["w2"]
    assert out.entries == [
        _entry(
            "w1",
            "turning the source off (finalize requested by ana@contoso.com); decommission failed (3 time(s)): "
            f"{ERROR}; still promoted, retry at 2026-12-07T09:02:00Z",
            "promoted",
        ),
        note,
        _entry("w2", FINALIZING, "finalized"),
    ]
    assert out.effects == [
        OTHER,
        OFF[1],
        Schedule(
            m.DECOMMISSION_RETRY_TYPE,
            {"workload": "w1", "attempt": 1, "promoted_ms": PROMOTED_MS},
            NOW + timedelta(minutes=2),  # 30 s doubled for each failure before this one
            f"1:{PROMOTED_MS}:{NOW_MS}",
        ),
    ]


def test_the_clock_values_of_this_test():
    assert (PROMOTED.timestamp() * 1000, NOW.timestamp() * 1000) == (PROMOTED_MS, NOW_MS)
