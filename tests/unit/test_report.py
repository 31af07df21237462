"""`promote report` and the board's report page: the figures of a release from its history, the same in every
format, and a wave's report from the releases whose plans name it (`wave:`, contract §14)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from shared.application.board import BoardApp
from shared.application.report import WaveReport, release_report
from shared.application.report_render import render
from tests.telemetry_world import APPROVER, Flight


@pytest.fixture(scope="module")
def story():
    flight = Flight(applied_early=45, wave="wave-a").story()
    release = flight.w.store.get_release("wave-7").release
    return flight, release_report(flight.plan, flight.w.store.list_history("wave-7"), release.state)


def test_the_report_says_what_the_release_went_through(story):
    _, r = story
    assert (r.release, r.model, r.state, r.entries) == ("wave-7", "flight", "rolled-back", 25)
    # rolled back (ledger stays so; payroll promoted): an end, from the first workload's start (22:02:45, payroll
    # out of replicating) to the second time it was reached (22:55:53); the first was at 22:17:46, before the retry
    assert (r.seconds, [(e.state, e.seconds) for e in r.ends]) == (
        3188.0,
        [("rolled-back", 901.0), ("rolled-back", 3188.0)],
    )
    payroll, ledger = r.workloads
    assert (payroll.state, payroll.attempts, payroll.seconds) == ("promoted", 2, None)  # not finalized: not done
    assert (ledger.state, ledger.attempts, ledger.seconds) == ("rolled-back", 1, None)
    assert r.phases == {
        "replicating": 60.0,
        "testing": 360.0,
        "ready": 720.0,
        "flighting": 2319.0,
        "rolled-back": 630.0,
    }
    assert r.partial == ["replicating"]
    assert r.gates["approval"] == 720.0 and r.gates["paused"] == 240.0 and r.gates["retry"] == 630.0
    assert r.gates["bake"] + r.gates["verdict"] == r.phases["flighting"]  # every flighting second is one or other
    assert r.rollbacks_by_cause == {"alert": 1, "verdict": 1}
    assert (r.changes, r.change_failure_rate) == (3, 2 / 3)
    assert [(a.workload, a.actor, a.waited) for a in r.approvals][-1] == ("payroll", APPROVER, 120.0)
    assert [(m.workload, m.before, m.after) for m in r.traffic][-4:] == [
        ("ledger", 50, 0),
        ("payroll", 0, 10),
        ("payroll", 10, 50),
        ("payroll", 50, 100),
    ]


def test_every_format_carries_the_same_figures(story):
    _, r = story
    doc = json.loads(render(r, "json"))
    assert doc["rollbacks_by_cause"] == {"alert": 1, "verdict": 1}
    assert doc["workloads"][0] == {
        "name": "payroll",
        "state": "promoted",
        "started": "2026-11-26T22:02:45Z",
        "done": None,
        "seconds": None,
        "attempts": 2,
    }
    assert doc["approvals"][0]["actor"] == APPROVER and doc["approvals"][0]["seconds_waited"] == 300.0
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert {row["name"]: float(row["seconds"]) for row in rows if row["section"] == "gate"} == r.gates
    assert [row["name"] for row in rows if row["section"] == "rollback"] == ["alert", "verdict"]
    text = render(r, "text")
    assert "change failure rate 67%" in text and "payroll                  promoted              -" in text
    assert "to 2026-11-26 22:55:53Z: 53m8s" in text
    assert "by ana@contoso.com, after 2m in ready" in text
    html = render(r, "html")
    assert html.startswith("<!doctype html>") and 'data-cause="verdict"' in html and "53m8s" in html


def test_the_board_shows_the_report_of_a_release(story):
    flight, _ = story
    board = BoardApp(flight.w.store, None, flight.w.clock)
    page = board.handle("releases/wave-7/report", {})
    body = page.body.decode()
    assert page.status == 200
    assert '<strong class="report-cfr">67%</strong>' in body
    assert '<tr data-gate="paused"><th scope="row">paused</th><td class="n">4m</td></tr>' in body
    assert "data-live" not in body  # a report reads the whole history: loaded on demand, not refreshed
    assert board.handle("releases/never-applied/report", {}).status == 404
    assert board.handle("releases/Bad_Name/report", {}).status == 400


def test_a_wave_is_reported_from_the_releases_whose_plans_name_it(story):
    flight, r = story
    assert flight.plan.wave == "wave-a"
    board = BoardApp(flight.w.store, None, flight.w.clock)
    page = board.handle("waves/wave-a/report", {})
    assert page.status == 200 and "wave-7" in page.body.decode()
    missing = board.handle("waves/wave-b/report", {})
    assert missing.status == 404 and "no release names wave &#39;wave-b&#39;" in missing.body.decode()
    assert board.handle("waves/Bad_Wave/report", {}).status == 400
    wave = WaveReport("wave-a", [r, r])
    assert (wave.changes, len(wave.rollbacks), wave.total("gates")["paused"]) == (6, 4, 480.0)
    assert "Wave wave-a: 2 releases" in render(wave, "text")


def test_every_approval_of_a_quorum_is_reported_with_who_and_when():
    """approval: quorum 2 (v3 §19): the first approval is counted, the second moves users. The report names both
    approvers; the wait in ready is the quorum's (one figure, as the metric records it)."""
    bob = "bob@contoso.com"
    flight = Flight(approvers=[APPROVER, bob], approval={"mode": "manual", "quorum": 2})
    for asset in ("vm-web", "vm-db"):
        flight.send("asset-replicated", "payroll", asset=asset)
    flight.send("tests-passed", "payroll")
    flight.tick(60)
    flight.override("approve", "payroll", actor=APPROVER)
    flight.tick(60)
    flight.override("approve", "payroll", actor=bob)
    r = release_report(flight.plan, flight.w.store.list_history("wave-7"))
    assert [(a.actor, a.waited, a.counted) for a in r.approvals] == [(APPROVER, None, True), (bob, 120.0, False)]
    assert [a["actor"] for a in json.loads(render(r, "json"))["approvals"]] == [APPROVER, bob]
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert [(row["name"], row["actor"]) for row in rows if row["section"] == "approval"] == [
        ("counted", APPROVER),
        ("approve", bob),
    ]
    assert f"by {APPROVER}, counted toward the quorum" in render(r, "text")


def test_an_alerts_own_words_never_make_a_pause():
    """An alert's description is free text from outside, kept inside its history reason: one saying ': paused at
    40%' is not a pause (only the rules' own words are, where they put them), so no paused time is reported."""
    from datetime import UTC, datetime, timedelta

    from shared.domain.model import HistoryEntry
    from shared.domain.plan import validate_plan

    plan = validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}]})
    t0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)

    def entry(minutes, type_, reason, before, after, percent=0):
        at = t0 + timedelta(minutes=minutes)
        return HistoryEntry(at, f"e{minutes}", type_, "applied", reason, "w", before, after, percent)

    history = [
        entry(0, "asset-replicated", "asset a replicated", "replicating", "testing"),
        entry(5, "alert", "alert Sev3 'db: paused at 40%' recorded while testing", "testing", "testing"),
        entry(9, "tests-passed", "tests passed -> promoted", "testing", "promoted", 100),
        entry(20, "alert", "alert Sev1: rolled back to 0%", "promoted", "rolled-back"),
    ]
    report = release_report(plan, history, "rolled-back")
    assert report.gates.get("paused", 0) == 0
