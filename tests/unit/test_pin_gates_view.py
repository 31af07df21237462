"""What holds a release and its workloads in views of thousands (gates_view.py) pinned at its bounds: the
`release` gate's count and its twenty names (without the workload's own), a count given for a page, the holds
of a release as a whole with the ready unapproved count given by the shards' tallies, and none once finished."""

from __future__ import annotations

from dataclasses import replace

from shared.application.gates_view import Counted, holding, holds_json, release_gate
from shared.domain.model import ReleaseState, Workload, WorkloadState
from tests.unit.test_pin_status import NOW, flight_release, staged_release

S = WorkloadState
NAMES = [f"n{i:02d}" for i in range(25)]


def test_the_release_gate_counts_the_others_and_names_twenty():
    me = Workload("me", state=S.READY)
    gate = release_gate(me, NAMES)
    assert (gate.gate, gate.details) == ("release", {"workloads": NAMES[:20], "workload_count": 25})
    mine = release_gate(me, ["me", *NAMES[:21]])  # its own name is neither named nor counted
    assert mine.details == {"workloads": NAMES[:20], "workload_count": 21}
    assert release_gate(me, ["me", "n00"]).details == {"workloads": ["n00"], "workload_count": 1}
    assert release_gate(me, ["me"]) is None and release_gate(me, []) is None
    assert release_gate(me, ["x"], count=5).details == {"workloads": ["x"], "workload_count": 5}
    assert release_gate(me, ["x"], count=0) is None
    assert release_gate(replace(me, state=S.TESTING), ["x"]) is None


def test_what_holds_a_staged_release_and_the_ready_unapproved_its_tallies_count():
    release = staged_release()
    assert holding(release, NOW) == ["crm", "ledger", "billing"]  # crm waits for its quorum: it holds the rest
    assert holding(flight_release(), NOW) == []
    assert holds_json(release, NOW, unapproved=0) == [
        {"gate": "after", "releases": ["wave-6"]},
        {"gate": "window", "reason": "denied period: freeze", "opens": "2026-03-03T06:00:00Z"},
        {"gate": "release", "workloads": ["ledger", "billing"], "workload_count": 2},
        {"gate": "paused", "workloads": ["ledger"], "workload_count": 1},
    ]
    assert holds_json(release, NOW, unapproved=7)[2] == {
        "gate": "approval", "approvers": ["ana@contoso.com", "bo@contoso.com"], "workload_count": 7
    }  # fmt: skip


def test_holds_name_twenty_workloads_and_count_all():
    release = flight_release()
    base = release.workloads["old"]
    many = {n: replace(base, name=n, paused=True) for n in NAMES}
    assert holds_json(release.evolve(workloads=many), NOW) == [
        {"gate": "paused", "workloads": NAMES[:20], "workload_count": 25}
    ]
    staged = staged_release()
    behind = {n: replace(staged.workloads["ledger"], name=n, paused=False) for n in NAMES}
    assert holds_json(staged.evolve(workloads=behind, after_met=("wave-5", "wave-6"), plan=staged.plan.model_copy(
        update={"windows": None})), NOW) == [
        {"gate": "release", "workloads": NAMES[:20], "workload_count": 25}
    ]  # fmt: skip


def test_a_finished_release_is_held_by_nothing():
    release = staged_release()
    for state, workload_state in (
        (ReleaseState.PROMOTED, S.PROMOTED),
        (ReleaseState.FINALIZED, S.FINALIZED),
        (ReleaseState.ABORTED, S.ABORTED),
    ):
        done = {n: replace(w, state=workload_state, paused=True) for n, w in release.workloads.items()}
        finished = Counted.of(release.evolve(workloads=done))
        assert (finished.state, holds_json(finished, NOW, unapproved=3)) == (state, [])  # tallies never hold it


def test_what_holds_a_staged_release_counts_its_own_gates_only_those_that_hold_what_comes_next():
    staged = staged_release()
    ready = replace(staged.workloads["crm"], approved=True, approvals=[])
    plan = staged.plan.model_copy(update={"approval": "auto"})
    # every open workload ready and approved: the closed window and `after` hold them all alike, not one another
    alike = staged.evolve(plan=plan, workloads={"crm": ready, "hr": replace(ready, name="hr")})
    assert holding(alike, NOW) == []
    # a data-sync hold waits for its own move only; a workload still testing with its tests passed holds the rest
    synced = replace(ready, name="payroll", assets={"vm-a": True, "vm-b": True})
    passed = replace(staged.workloads["ledger"], paused=False, tests_passed=True)
    mixed = staged.evolve(plan=plan, workloads={"payroll": synced, "ledger": passed})
    assert holding(mixed, NOW) == ["ledger"]
