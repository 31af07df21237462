"""A report (report_render.py) of a release whose history does not say everything: an approval without an
actor (an old entry) and a traffic move without a state, pinned whole as text and as CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.application.figures import Approval
from shared.application.report import Move, ReleaseReport
from shared.application.report_render import render

T = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def report() -> ReleaseReport:
    return ReleaseReport(
        release="r1", model="big-bang", wave=None, state=None, started=None, done=None, workloads=[], phases={},
        gates={}, flights={}, rollbacks=[], approvals=[Approval("payroll", T, None, None, None)], pauses=[],
        traffic=[Move(T, "payroll", 0, 100, None)], changes=0, entries=2,
    )  # fmt: skip


def test_the_text_shows_a_dash_for_no_actor_and_nothing_for_no_state():
    assert render(report(), "text").splitlines() == [
        "Release r1 (big-bang): -",
        "  from - to (not done): -; 2 history entries",
        "  changes 0, rollbacks 0, change failure rate -",
        "",
        "Workloads",
        "",
        "Time per phase (all workloads)",
        "",
        "Waits by gate",
        "",
        "Rollbacks",
        "  none",
        "",
        "Approvals",
        "  2026-12-01 10:00:00Z  payroll          by -",
        "",
        "Traffic",
        "  2026-12-01 10:00:00Z  payroll            0% -> 100%  ",
    ]


def test_the_csv_leaves_no_state_and_no_actor_empty():
    assert render(report(), "csv").splitlines() == [
        "release,section,workload,name,at,seconds,value,actor,detail",
        "r1,release,,,,,0,,change failure rate -",
        "r1,approval,payroll,approve,2026-12-01T10:00:00Z,,,,",
        "r1,traffic,payroll,,2026-12-01T10:00:00Z,,100,,0% -> 100%",
    ]


def test_the_json_is_indented_by_two_and_ends_with_a_newline():
    text = render(report(), "json")
    assert text.startswith('{\n  "release": "r1",\n')
    assert text == json.dumps(json.loads(text), indent=2) + "\n"
