"""Why not yet (shared/domain/gates.py): the gates holding a workload, their JSON details and the one text a
person reads for each (status, the board, history's "held: ...", notifications), pinned exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shared.domain.gates import Gate, WaitingPeriod, describe, waiting_for, waiting_period
from shared.domain.model import GateName, WorkloadState, new_release
from shared.domain.plan import validate_plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
G, S = GateName, WorkloadState


def _release(model: str = "single-step", workloads: int = 1, **fields):
    raw = {
        "release": "r1",
        "model": model,
        "approvers": ["ana", "bo", "cy"],
        "operators": ["ops", "ana"],
        "workloads": [{"name": f"w{i + 1}", "assets": [f"a{i}"]} for i in range(workloads)],
        **fields,
    }
    return new_release(validate_plan(raw), NOW)


def _with(release, **workloads):
    return dataclasses.replace(release, workloads={**release.workloads, **workloads})


def _w(release, name="w1", **fields):
    return dataclasses.replace(release.workloads[name], **fields)


def shown(release, w, now=NOW, **kw) -> list[tuple[str, dict, str]]:
    return [(g.gate, g.to_json(), describe(g)) for g in waiting_for(release, w, now, **kw)]


def test_assets_pending_are_cut_at_twenty_and_counted():
    release = _release()
    assets = {f"a{i:02}": i < 3 for i in range(25)}
    w = _w(release, assets=assets)
    pending = [f"a{i:02}" for i in range(3, 23)]
    assert shown(release, w) == [
        (
            "assets",
            {"gate": "assets", "pending": pending, "pending_count": 22, "replicated": 3, "total": 25},
            f"assets: 3/25 replicated, pending {', '.join(pending)} and 2 more",
        )
    ]
    done = _w(release, assets={"a": True})
    assert shown(release, done) == []


def test_tests_then_approval_by_quorum():
    release = _release(approval={"mode": "manual", "quorum": 2})
    assert shown(release, _w(release, state=S.TESTING)) == [
        ("tests", {"gate": "tests", "needs": "tests-passed"}, "tests: waiting for tests-passed")
    ]
    assert shown(release, _w(release, state=S.TESTING, tests_passed=True)) == []
    one = [{"by": "ana", "at": "2026-12-07T08:00:00Z"}]
    assert shown(release, _w(release, state=S.READY, approvals=one)) == [
        (
            "approval",
            {"gate": "approval", "approvers": ["ana", "bo", "cy"], "approvals": one, "needed": 2},
            "1 of 2 approvals (ana) by ana, bo, cy",
        )
    ]
    assert [d for _, _, d in shown(release, _w(release, state=S.READY))] == ["0 of 2 approvals by ana, bo, cy"]
    assert shown(release, _w(release, state=S.READY, approved=True)) == []
    single = _release(approval="manual")
    assert shown(single, _w(single, state=S.READY)) == [
        ("approval", {"gate": "approval", "approvers": ["ana", "bo", "cy"]}, "approval by one of ana, bo, cy")
    ]
    assert shown(single, _w(single, state=S.READY, approvals=one))[0][2] == "1 of 1 approvals (ana) by ana, bo, cy"
    assert shown(_release(), _w(_release(), state=S.READY)) == []  # auto approval


def test_a_staged_release_waits_for_the_rest():
    release = _release("staged", workloads=3)
    w1 = _w(release, "w1", state=S.READY, approved=True)
    w2 = _w(release, "w2", state=S.READY, approved=True)
    w3 = _w(release, "w3", state=S.ABORTED)
    release = _with(release, w1=w1, w2=w2, w3=w3)
    assert shown(release, w1) == []
    testing = _w(release, "w2", state=S.TESTING)
    held = _with(release, w2=testing)
    assert shown(held, w1) == [
        (
            "release",
            {"gate": "release", "workloads": ["w2"], "workload_count": 1},
            "the rest of the release: w2",
        )
    ]
    unapproved = _with(release, w2=_w(release, "w2", state=S.READY, approved=False))
    assert shown(unapproved, w1)[0][2] == "the rest of the release: w2"


def test_a_flight_bakes_then_needs_a_verdict():
    release = _release(
        "flight", flights=[{"percent": 10, "bake": "10m"}, {"percent": 100}], approvers=["ana"], operators=[]
    )
    w = _w(release, state=S.FLIGHTING, flight=1, flight_started_at=NOW)
    assert shown(release, w, NOW + timedelta(seconds=30.5)) == [
        (
            "bake",
            {"gate": "bake", "flight": 1, "until": "2026-12-07T09:10:00Z", "seconds_left": 570},
            "bake of flight 1: 570s left (until 2026-12-07T09:10:00Z)",
        ),
        (
            "verdict",
            {"gate": "verdict", "flight": 1, "needs": "flight-healthy", "since": "2026-12-07T09:00:00Z"},
            "a flight-healthy verdict for flight 1",
        ),
    ]
    assert [g for g, _, _ in shown(release, w, NOW + timedelta(minutes=10))] == ["verdict"]
    assert shown(release, dataclasses.replace(w, healthy_flight=1), NOW + timedelta(minutes=10)) == []
    period = waiting_period(release, w)
    assert period == WaitingPeriod("verdict", NOW + timedelta(minutes=10), None)


def test_a_closed_window_and_releases_waited_for():
    windows = {
        "timezone": "Europe/Amsterdam",
        "allow": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "22:00", "to": "23:00"}],
    }
    release = _release(windows=windows, after=["r0", "rx"])
    release = dataclasses.replace(release, after_met=("r0",))
    w = _w(release, state=S.READY)
    assert shown(release, w) == [
        (
            "window",
            {
                "gate": "window",
                "reason": "outside the allowed slots",
                "opens": "2026-12-07T21:00:00Z",
                "timezone": "Europe/Amsterdam",
            },
            "change window closed (outside the allowed slots), opens 2026-12-07 22:00 Europe/Amsterdam (21:00Z)",
        ),
        ("after", {"gate": "after", "releases": ["rx"]}, "waiting for release(s) rx to be promoted"),
    ]
    assert [g for g, _, _ in shown(release, w, skip=(G.WINDOW,))] == ["after"]
    assert shown(release, _w(release, state=S.TESTING, tests_passed=True)) == []


def test_paused_and_rolled_back():
    release = _release()
    paused = _w(release, state=S.READY, paused=True, paused_by="ops", paused_at=NOW, paused_reason="checking")
    assert shown(release, paused) == [
        (
            "paused",
            {"gate": "paused", "by": "ops", "at": "2026-12-07T09:00:00Z", "reason": "checking"},
            "paused by ops: checking",
        )
    ]
    assert describe(Gate(G.PAUSED, {"by": None, "reason": None})) == "paused"
    assert shown(release, _w(release, state=S.ROLLED_BACK)) == [
        (
            "retry",
            {"gate": "retry", "needs": "override retry", "operators": ["ops", "ana", "bo", "cy"]},
            "override retry by one of ops, ana, bo, cy",
        )
    ]


def test_terminal_workloads_only_show_the_finishing_gates():
    release = _release(hypercare="1h")
    promoted = _w(release, state=S.PROMOTED, promoted_at=NOW, paused=True, paused_by="ops")
    assert [(g, d) for g, _, d in shown(release, promoted)] == [("hypercare", "hypercare until 2026-12-07T10:00:00Z")]
    assert shown(release, promoted, holding=True) == []


def test_other_gate_texts():
    assert describe(Gate(G.REHEARSAL, {"plan_hash": "abc", "why": "none yet"})) == (
        "a passing rehearsal of this plan (abc): none yet"
    )
    assert describe(Gate(G.MIGRATION_JOB, {"why": "running"})) == "Azure Migrate's migration: running"
    assert describe(Gate(G.WINDOW, {"reason": "denied period: freeze", "opens": None, "timezone": "UTC"})) == (
        "change window closed (denied period: freeze), opens never"
    )
    assert describe(Gate(G.TTL, {}, "the text")) == "the text"
    assert describe(Gate(G.RELEASE, {"workloads": ["a", "b"], "workload_count": 5})) == (
        "the rest of the release: a, b and 3 more"
    )


def test_waiting_periods():
    release = _release(approval="manual", deadlines={"replicating": "1h", "approval": "2h"})
    w = _w(release, state_since=NOW)
    assert waiting_period(release, w) == WaitingPeriod("replicating", NOW, 3600)
    assert waiting_period(release, w).key == f"replicating:{1796634000000}"
    assert waiting_period(release, w).deadline == NOW + timedelta(hours=1)
    assert waiting_period(release, _w(release, state=S.TESTING, state_since=NOW)) == WaitingPeriod("testing", NOW, None)
    assert waiting_period(release, _w(release, state=S.TESTING, tests_passed=True, state_since=NOW)) is None
    assert waiting_period(release, _w(release, state=S.READY, state_since=NOW)) == WaitingPeriod("approval", NOW, 7200)
    assert waiting_period(release, _w(release, state=S.READY, approved=True, state_since=NOW)) is None
    assert waiting_period(release, _w(release, state=S.PROMOTED, state_since=NOW)) is None
    assert waiting_period(release, _w(release, state_since=None)) is None
    assert WaitingPeriod("testing", NOW, None).deadline is None
    auto = _release()
    assert waiting_period(auto, _w(auto, state=S.READY, state_since=NOW)) is None
