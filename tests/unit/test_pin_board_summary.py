"""The board's releases list (board/summary.py, board/forecast.py): what holds a release in words, its
overdue workloads, its attention, the waves' totals and the forecast of when a wave ends, pinned whole, each
branch and boundary on both sides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.application.board import progress
from shared.application.board.forecast import left, release_end, wave_forecast
from shared.application.board.summary import FINISHED, Wave, deadline_of, holds_text, overdue, watch, waves
from shared.domain.model import WorkloadState
from tests.unit.test_pin_status import NOW, flight_release, staged_release

S = WorkloadState


def test_a_staged_release_at_a_glance():
    assert watch(staged_release(), False, NOW) == {
        "holds": [
            "waits for release wave-6",
            "change window closed (denied period: freeze); opens 2026-03-03T06:00:00Z",
            "approval of 1 workload by ana@contoso.com, bo@contoso.com",
            "2 workloads not ready: ledger, billing",
            "1 paused: ledger",
        ],
        "overdue": [],
        "overdue_complete": False,
        "attention": [
            {"workload": "payroll", "state": "promoted", "traffic_percent": 100,
             "why": "promoted (100%) while the staged release is in-progress"},
            {"workload": "hr", "state": "finalized", "traffic_percent": 100,
             "why": "promoted (100%) while the staged release is in-progress"},
            {"workload": "ledger", "state": "testing", "traffic_percent": 0,
             "why": "paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; nothing advances and routing "
                    "does not change until resume; alert recorded while paused, acted on at resume: error rate 4%"},
            {"workload": "billing", "state": "rolled-back", "traffic_percent": 0,
             "why": "rolled back to 0% while the release is in-progress; override retry brings it back to testing; "
                    "Azure refused the route: quota"},
            {"workload": "sales", "state": "promoted", "traffic_percent": 100,
             "why": "promoted (100%) while the staged release is in-progress"},
        ],
        "halted": True,
    }  # fmt: skip


def test_overdue_workloads_earliest_deadline_first_from_the_moment_it_falls():
    release = flight_release()
    w = release.workloads
    # api's verdict deadline fell at 11:40:30; web's verdict deadline is 12:35, db's 12:27:30
    release = release.evolve(workloads={**w, "db": replace(w["db"], flight_started_at=NOW - timedelta(hours=2))})
    found = watch(release, True, NOW)
    assert found["overdue"] == [
        ("db", datetime(2026, 3, 2, 10, 30, 30, tzinfo=UTC)),
        ("api", datetime(2026, 3, 2, 11, 40, 30, tzinfo=UTC)),
    ]
    assert found["holds"] == [] and found["halted"] is False and found["overdue_complete"] is True
    api = release.workloads["api"]
    at = datetime(2026, 3, 2, 11, 40, 30, tzinfo=UTC)
    assert overdue(release, api, at) == at
    assert overdue(release, api, at - timedelta(seconds=1)) is None
    assert deadline_of(release, api, at) == {"at": at, "overdue": True, "kind": "verdict"}
    assert deadline_of(release, api, at - timedelta(seconds=1)) == {"at": at, "overdue": False, "kind": "verdict"}
    assert deadline_of(release, release.workloads["old"], NOW) is None  # no replicating deadline in its plan


def test_what_holds_a_release_counts_one_and_many():
    holds = [
        {"gate": "approval", "approvers": ["ana", "bo"], "workload_count": 2},
        {"gate": "release", "workloads": ["w1"], "workload_count": 1},
        {"gate": "paused", "workloads": ["w1", "w2"], "workload_count": 2},
        {"gate": "window", "reason": "outside hours", "opens": None},
        {"gate": "halt"},
    ]
    assert holds_text(holds) == [
        "approval of 2 workloads by ana, bo",
        "1 workload not ready: w1",
        "2 paused: w1, w2",
        "change window closed (outside hours); opens None",
        "halt",
    ]


def test_progress_counts_promoted_and_finalized_workloads_rounding_down():
    release = staged_release()  # payroll and sales promoted, hr finalized: 3 of 6
    assert progress(release.workloads.values()) == {"promoted": 3, "total": 6, "percent": 50}
    two_of_three = list(release.workloads.values())[:3]  # payroll, hr, crm
    assert progress(two_of_three) == {"promoted": 2, "total": 3, "percent": 66}
    assert progress([]) == {"promoted": 0, "total": 0, "percent": 0}


def row(name: str, state: str = "in-progress", wave: str | None = "w1", *, promoted: int = 0, total: int = 10,
        by_state=None, started=None, holds=(), overdue=(), attention=()) -> dict:  # fmt: skip
    by_state = by_state if by_state is not None else [("promoted", promoted), ("testing", total - promoted)]
    return {"name": name, "state": state, "wave": wave, "by_state": by_state, "started": started,
            "progress": {"promoted": promoted, "total": total}, "holds": list(holds), "overdue": list(overdue),
            "attention": list(attention)}  # fmt: skip


def test_a_releases_end_at_its_pace_and_each_reason_it_has_none():
    hour_ago = NOW - timedelta(hours=1)
    assert release_end(row("a", promoted=4, total=10, started=hour_ago), NOW) == (NOW + timedelta(minutes=90), None)
    assert release_end(row("b", by_state=[("promoted", 3), ("aborted", 1)], promoted=3), NOW) == (NOW, None)
    assert release_end(row("c", "rolled-back", promoted=2, started=hour_ago), NOW) == (
        None,
        "c is rolled back: nothing moves until a workload is retried",
    )
    assert release_end(row("d", promoted=2), NOW) == (None, "d's start was not read here (open the release)")
    assert release_end(row("e", started=hour_ago), NOW) == (
        None,
        "e has promoted nothing yet, so there is no pace to go by",
    )
    assert release_end(row("f", promoted=1, started=NOW), NOW) == (None, "f has only just started")
    assert release_end(row("g", promoted=1, started=NOW - timedelta(seconds=1)), NOW) == (
        NOW + timedelta(seconds=9),
        None,
    )
    long_ago = datetime(1971, 1, 1, tzinfo=UTC)
    assert release_end(row("h", promoted=1, total=10**6, started=long_ago), NOW) == (
        None,
        "h at its pace so far (1 of 1000000 in 20149 days) would not end before the year 9999",
    )
    assert left(row("i", by_state=[("promoted", 2), ("finalized", 1), ("aborted", 1), ("ready", 3)])) == 3


def test_a_waves_forecast():
    hour_ago = NOW - timedelta(hours=1)
    done = row("done", "finalized", by_state=[("finalized", 10)], promoted=10)
    fast = row("fast", promoted=5, started=hour_ago)  # 5 left: 1 h more
    slow = row("slow", promoted=2, started=hour_ago)  # 8 left: 4 h more
    assert wave_forecast([done], FINISHED, NOW) == {"state": "finished", "at": None, "remaining": None, "why": None}
    assert wave_forecast([done, fast, slow], FINISHED, NOW) == {
        "state": "forecast",
        "at": NOW + timedelta(hours=4),
        "remaining": 13,
        "why": None,
    }
    assert wave_forecast([fast, row("x"), row("y")], FINISHED, NOW) == {
        "state": "none",
        "at": None,
        "remaining": None,
        "why": "x's start was not read here (open the release) (and 1 more)",
    }
    assert wave_forecast([fast, row("x")], FINISHED, NOW)["why"] == "x's start was not read here (open the release)"


def test_waves_named_first_in_name_order_with_their_totals():
    hour_ago = NOW - timedelta(hours=1)
    rows = [
        row("loose", wave=None, promoted=1, holds=["x"]),
        row("b1", wave="beta", promoted=5, started=hour_ago, overdue=[("w", NOW)], attention=[{}, {}]),
        row("a1", wave="alpha", state="promoted", by_state=[("promoted", 4)], promoted=4, total=4),
        row("b2", wave="beta", promoted=0, total=3, holds=["y", "z"], started=hour_ago),
    ]
    found = waves(rows, NOW)
    assert [(w.name, [r["name"] for r in w.rows]) for w in found] == [
        ("alpha", ["a1"]),
        ("beta", ["b1", "b2"]),
        ("", ["loose"]),
    ]
    assert [w.totals for w in found] == [
        {"releases": 1, "promoted": 4, "workloads": 4, "finished": 1, "held": 0, "overdue": 0, "attention": 0},
        {"releases": 2, "promoted": 5, "workloads": 13, "finished": 0, "held": 1, "overdue": 1, "attention": 2},
        {"releases": 1, "promoted": 1, "workloads": 10, "finished": 0, "held": 1, "overdue": 0, "attention": 0},
    ]
    assert [w.forecast for w in found] == [
        {"state": "finished", "at": None, "remaining": None, "why": None},
        {"state": "none", "at": None, "remaining": None,
         "why": "b2 has promoted nothing yet, so there is no pace to go by"},
        None,
    ]  # fmt: skip
    assert Wave("empty").totals == {
        "releases": 0, "promoted": 0, "workloads": 0, "finished": 0, "held": 0, "overdue": 0, "attention": 0
    }  # fmt: skip
