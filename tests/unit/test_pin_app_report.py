"""A release report's workload lines and traffic (report.py) from a short history: a workload started and not
ended shows its start; one whose history holds no move shows the state its first entry found it in; a change
of share recorded without a state move shows no state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.application.report import Move, WorkloadLine, release_report
from shared.domain.model import HistoryEntry
from shared.domain.plan import validate_plan

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
PLAN = validate_plan(
    {
        "release": "wave-9",
        "model": "flight",
        "flights": [{"percent": 10, "bake": "1m"}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": "payroll", "assets": ["vm-web"]}, {"name": "ledger", "assets": ["vm-app"]}],
    }
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def entry(seconds, workload, type, outcome, frm, to, share=None) -> HistoryEntry:
    return HistoryEntry(at(seconds), f"ev-{seconds}", type, outcome, type, workload, frm, to, share)


def test_workload_lines_and_a_share_change_without_a_state():
    history = [
        entry(0, "payroll", "asset-replicated", "applied", "replicating", "testing"),
        entry(10, "ledger", "tests-passed", "ignored", "replicating", "replicating"),
        entry(20, "payroll", "alert", "ignored", "testing", "testing"),
        entry(30, "payroll", "routing-progress", "applied", None, None, 10),
    ]
    report = release_report(PLAN, history)
    assert report.workloads == [
        WorkloadLine("payroll", "testing", at(0), None, 1),
        WorkloadLine("ledger", "replicating", None, None, 1),
    ]
    assert report.traffic == [Move(at(30), "payroll", 0, 10, None)]
