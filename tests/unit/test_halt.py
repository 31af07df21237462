"""Stop the line (v3 §19): `halt` pauses every workload of a release with who and why on the release; `unhalt`
(approvers) resumes what the halt paused and only that; while everything is halted, a new release starts
halted."""

from __future__ import annotations

from shared.domain.plan import validate_plan
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan


def two(**extra) -> dict:
    return make_plan("flight", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}], **extra)


def test_halt_pauses_every_workload_and_says_who_and_why_on_the_release():
    d = Driver(two())
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    result = d.override("halt", actor=OPERATOR, workload=None)
    assert result.outcome == "applied"
    release = d.release
    assert all(w.paused for w in release.workloads.values())
    assert (release.halted_by, release.halted_reason) == (OPERATOR, "test") and release.halted_at
    assert all(w.paused_reason == "halted: test" for w in release.workloads.values())
    assert d.routed("w1") == 10  # a halt holds shares where they are


def test_halt_is_for_a_whole_release_and_unhalt_for_approvers():
    d = Driver(two())
    assert d.override("halt", actor=OPERATOR, workload="w1").outcome == "rejected"
    d.override("halt", actor=OPERATOR, workload=None)
    assert d.override("unhalt", actor=OPERATOR, workload=None).outcome == "rejected"  # approvers only
    assert d.release.halted_by == OPERATOR


def test_unhalt_resumes_what_the_halt_paused_and_only_that():
    d = Driver(two())
    d.override("pause", actor=OPERATOR, workload="w2")  # an operator's own pause, before the halt
    d.override("halt", actor=OPERATOR, workload=None)
    d.override("unhalt", actor=APPROVER, workload=None)
    release = d.release
    assert release.halted_by is None and not release.workloads["w1"].paused
    assert release.workloads["w2"].paused and release.workloads["w2"].paused_reason == "test"


def test_while_everything_is_halted_a_new_release_starts_halted():
    d = Driver(two())
    d.w.store.set_halt({"by": OPERATOR, "reason": "datacenter incident", "at": "2026-11-26T22:00:00Z"})
    d.w.service.apply(validate_plan({**two(), "release": "r2"}))
    release = d.w.store.get_release("r2").release
    assert release.halted_by == OPERATOR and all(w.paused for w in release.workloads.values())
    assert {w.paused_reason for w in release.workloads.values()} == {"halted: datacenter incident"}
