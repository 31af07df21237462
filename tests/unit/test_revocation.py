"""Revoking the migration team's access is a step of its own (issue 10, item 3): when Azure refuses the deny
rule, the promotion stands, the failure is recorded and shown, and a scheduled retry revokes it later."""

from __future__ import annotations

from shared.application.views import status_json, status_text
from shared.domain import messages as m
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, staged_plan


def promoted_with_a_failing_revocation(failures: int = 1) -> Driver:
    d = Driver(staged_plan())
    for workload, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", workload, asset=asset)
        d.send("tests-passed", workload)
    d.w.network.revoke_failures = failures
    result = d.override("approve", actor=APPROVER, workload=None)
    assert result.outcome == "applied", result.reason
    return d


def test_a_failed_revocation_never_rolls_the_promotion_back():
    d = promoted_with_a_failing_revocation()
    assert (d.routed("w1"), d.routed("w2")) == (100, 100)
    assert d.w.network.writes == [("r1", "w1", 100), ("r1", "w2", 100)]  # never routed back
    release = d.release
    assert release.state == "promoted" and not release.access_revoked
    assert release.revoke_attempts == 1 and "SecurityRuleConflict" in release.revoke_error
    last = d.w.store.list_history("r1")[-1]
    assert "revoking the migration team's access failed (attempt 1; routing unchanged; retried at" in last.reason
    assert "access revoked" not in last.reason.replace("access failed", "")
    [(retry, due)] = d.w.scheduler.scheduled
    assert retry["type"] == m.REVOKE_RETRY_TYPE and retry["data"] == {"release": "r1", "attempt": 1}
    assert (due - d.w.clock.now()).total_seconds() == 60


def test_the_failure_is_visible_in_status_until_a_retry_succeeds():
    d = promoted_with_a_failing_revocation(failures=2)
    doc = status_json(d.release)
    assert doc["access_revocation"]["state"] == "failing" and doc["access_revocation"]["failed_attempts"] == 1
    assert "access revocation FAILING after 1 attempt(s), retried" in status_text(d.release)
    [second] = d.tick(60)  # the retry fails too: the next one waits twice as long
    assert second.outcome == "applied" and "attempt 2" in second.reason
    assert [(due - d.w.clock.now()).total_seconds() for _, due in d.w.scheduler.scheduled] == [120]
    assert d.tick(119) == []
    [third] = d.tick(1)
    assert third.outcome == "applied" and "access revoked" in third.reason
    assert d.release.access_revoked and d.release.revoke_error is None and d.w.network.revoked == ["r1"]
    assert status_json(d.release)["access_revocation"] == {"state": "revoked", "failed_attempts": 2, "error": None}
    assert (d.routed("w1"), d.routed("w2")) == (100, 100) and d.w.scheduler.scheduled == []


def test_a_redelivered_promotion_does_not_move_users_again():
    d = promoted_with_a_failing_revocation()
    writes = list(d.w.network.writes)
    again = d.override("approve", actor=APPROVER, workload=None, id="m5")  # the approval, redelivered
    assert again.outcome == "duplicate"
    assert d.w.network.writes == writes and not d.release.access_revoked


def test_a_retry_after_a_rollback_waits_for_the_next_promotion():
    d = promoted_with_a_failing_revocation()
    d.override("rollback", actor=OPERATOR, workload="w1")
    [retry] = d.tick(60)
    assert retry.outcome == "ignored" and "access is revoked at the next promotion" in retry.reason
    assert d.w.network.revoked == [] and d.routed("w1") == 0


def test_a_retry_when_access_is_already_revoked_changes_nothing():
    d = promoted_with_a_failing_revocation()
    [retry] = d.tick(60)
    assert "access revoked" in retry.reason and d.release.access_revoked
    body = m.new_event(
        m.REVOKE_RETRY_TYPE, {"release": "r1", "attempt": 1}, id="forged-retry", source="someone", time=d.w.clock.now()
    )
    import json

    late = d.w.service.handle(json.dumps(body))
    assert late.outcome == "ignored" and late.reason == "access already revoked"
    assert d.w.network.revoked == ["r1"]


def test_a_release_wide_move_is_refused_before_any_workload_moves():
    d = Driver(staged_plan())
    for workload, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", workload, asset=asset)
        d.send("tests-passed", workload)
    d.w.network.refused["w2"] = "a member the plan does not name"
    refused = d.override("approve", actor=APPROVER, workload=None)
    assert refused.outcome == "rejected"
    assert "r1: nothing moved: w2: a member the plan does not name at 100%" in refused.reason
    assert d.w.network.writes == [] and d.release.state == "awaiting-approval"
    del d.w.network.refused["w2"]
    assert d.override("approve", actor=APPROVER, workload=None, id="again").outcome == "applied"  # approved anew
    assert (d.routed("w1"), d.routed("w2")) == (100, 100)


def test_a_retry_for_a_release_that_revokes_nothing_is_ignored():
    import json

    from tests.unit.test_machine import make_plan

    d = Driver(make_plan("single-step"))
    body = m.new_event(
        m.REVOKE_RETRY_TYPE, {"release": "r1", "attempt": 1}, id="stray", source="x", time=d.w.clock.now()
    )
    result = d.w.service.handle(json.dumps(body))
    assert (result.outcome, result.reason) == (
        "ignored",
        "this release revokes no access (no revoke_access in its plan)",
    )
