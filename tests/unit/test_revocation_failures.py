"""Revoking the migration team's access fails and is retried (unit tier, strict fakes): what the history entry,
the release row, the status document and the scheduled retry message say after each failed attempt."""

from __future__ import annotations

import json
from datetime import timedelta

from shared.application.views import status_json
from shared.domain import messages as m
from shared.domain.machine import Decision, Schedule, revocation_failed, schedule_id
from shared.domain.model import new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, check_types, event, world
from tests.unit.test_effects import APPROVER, REVOKE, plan

# what FakeNetwork.revoke raises, as Azure refuses a deny rule
ERROR = "network security group: priority 100 clashes (SecurityRuleConflict)"


def _ms(when) -> int:
    return int(when.timestamp() * 1000)


def _iso(when) -> str:
    return when.isoformat().replace("+00:00", "Z")


def promoted(failures: int, *, revoke: bool = True):
    """A one-workload staged release (auto approval) promoted by `tests-passed`; the next `failures` revocations
    fail."""
    w = world()
    extra = {"revoke_access": REVOKE} if revoke else {}
    w.service.apply(validate_plan(plan("staged", approval="auto", **extra)))
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    w.network.revoke_failures = failures
    result = w.service.handle(event("tests-passed", "r1", "w1", "t1"))
    assert result.outcome == "applied", result.reason
    return w


def deliver_due(w, seconds: float) -> list:
    w.clock.advance(seconds)
    return [w.service.handle(json.dumps(e)) for e in w.scheduler.due(w.clock.now())]


def release(w):
    return w.store.get_release("r1").release


def test_a_failed_revocation_schedules_a_retry_message_from_promote_itself():
    w = promoted(failures=1)
    [(retry, due)] = w.scheduler.scheduled
    assert retry["type"] == m.REVOKE_RETRY_TYPE
    assert retry["source"] == "promote/timer"  # an internal message, sent by promote's own timer
    assert retry["data"] == {"release": "r1", "attempt": 1}
    # one id per release, failed attempt and decision instant (milliseconds): the transport deduplicates on it
    assert (
        retry["id"]
        == f"revoke-access-retry:r1:~:1:{_ms(T0)}"
        == schedule_id(m.REVOKE_RETRY_TYPE, "r1", None, f"1:{_ms(T0)}")
    )
    assert retry["time"] == _iso(T0)
    assert due == T0 + timedelta(minutes=1)
    assert w.network.revocations == []  # nothing was revoked


def test_a_failed_revocation_is_recorded_on_the_release_and_in_status():
    w = promoted(failures=1)
    r = release(w)
    assert r.state == "promoted" and w.network.shares[("r1", "w1")] == 100  # the promotion stands
    assert r.access_revoked is False and r.revoke_error == ERROR and r.revoke_attempts == 1
    check_types(r)  # as Table Storage keeps it: access_revoked is a bool, never null
    doc = status_json(r)
    assert doc["access_revoked"] is False
    assert doc["access_revocation"] == {"state": "failing", "failed_attempts": 1, "error": ERROR}


def test_the_promotion_entry_keeps_what_it_said_and_adds_the_failure_instead_of_the_revocation():
    plain = promoted(failures=0, revoke=False)  # the same promotion by a plan that revokes nothing
    [expected] = plain.store.list_history("r1")[-1:]
    head, network = expected.reason.split("; network: ", 1)

    w = promoted(failures=1)
    [entry] = w.store.list_history("r1")[-1:]
    assert (entry.workload, entry.outcome, entry.to_state, entry.traffic_percent) == (
        expected.workload,
        expected.outcome,
        expected.to_state,
        expected.traffic_percent,
    )
    # the entry reads as the plain promotion's, with the failure note in place of the (withdrawn) revocation claim
    assert entry.reason.startswith(head + "; "), entry.reason
    assert entry.reason.endswith("; network: " + network), entry.reason
    note = entry.reason[len(head) + 2 : -len("; network: " + network)]
    assert "access revoked" not in note and "attempt 1" in note
    assert _iso(T0 + timedelta(minutes=1)) in note  # when it is retried
    assert note.endswith(ERROR)  # Azure's message, passed through


def test_a_failing_retry_withdraws_its_claim_and_schedules_the_next_attempt_twice_as_late():
    ok = promoted(failures=1)
    [succeeded] = deliver_due(ok, 60)
    assert succeeded.outcome == "applied" and release(ok).access_revoked is True

    w = promoted(failures=2)
    [failed] = deliver_due(w, 60)
    assert failed.outcome == "applied"
    [entry] = failed.entries
    assert entry.source == "promote/timer" and entry.workload is None
    # the same opening statement as a retry that succeeded (it follows 1 failed attempt) ...
    opening = succeeded.entries[-1].reason.partition("; ")[0]
    assert "1 failed attempt" in opening
    assert entry.reason.partition("; ")[0] == opening, entry.reason
    # ... but no claim that access was revoked: the failure of attempt 2 instead
    assert "access revoked" not in entry.reason
    assert "attempt 2" in entry.reason and entry.reason.endswith(ERROR)
    assert _iso(T0 + timedelta(minutes=3)) in entry.reason
    assert w.store.list_history("r1")[-1] == entry

    r = release(w)
    assert r.access_revoked is False and r.revoke_attempts == 2 and r.revoke_error == ERROR
    check_types(r)
    assert status_json(r)["access_revoked"] is False

    retried_at = T0 + timedelta(minutes=1)
    [(retry, due)] = w.scheduler.scheduled
    assert retry["type"] == m.REVOKE_RETRY_TYPE and retry["source"] == "promote/timer"
    assert retry["data"] == {"release": "r1", "attempt": 2}
    assert retry["id"] == f"revoke-access-retry:r1:~:2:{_ms(retried_at)}"
    assert due == retried_at + timedelta(minutes=2)
    assert w.network.revocations == []

    [done] = deliver_due(w, 120)
    assert done.outcome == "applied" and done.entries[-1].source == "promote/timer"
    r = release(w)
    assert r.access_revoked is True and r.revoke_error is None and r.revoke_attempts == 2
    assert len(w.network.revocations) == 1 and w.scheduler.scheduled == []
    assert done.entries[-1].reason.count("; network: ") == 1  # the one change, said once


def test_retries_of_two_releases_failing_at_the_same_instant_have_their_own_ids():
    w = world()
    for name in ("r1", "r2"):
        doc = plan("staged", approval="auto", revoke_access=REVOKE)
        doc["release"] = name
        w.service.apply(validate_plan(doc))
        w.service.handle(event("asset-replicated", name, "w1", f"rep-{name}", asset="a"))
    w.network.revoke_failures = 2
    for name in ("r1", "r2"):
        w.service.handle(event("tests-passed", name, "w1", f"t-{name}"))
    ids = [e["id"] for e, _ in w.scheduler.scheduled]
    assert ids == [f"revoke-access-retry:r1:~:1:{_ms(T0)}", f"revoke-access-retry:r2:~:1:{_ms(T0)}"]
    assert [e["data"]["release"] for e, _ in w.scheduler.scheduled] == ["r1", "r2"]


def test_the_wait_between_attempts_doubles_from_a_minute_up_to_half_an_hour():
    r = new_release(validate_plan(plan("staged", approval="auto", revoke_access=REVOKE)), T0)
    waits = []
    for before in (0, 1, 2, 3, 4, 5, 9, 10, 11, 50, 1000):
        decision = revocation_failed(Decision(release=r.evolve(revoke_attempts=before), entries=[]), "boom", T0)
        [retry] = decision.effects
        assert (
            isinstance(retry, Schedule)
            and retry.data == {"attempt": before + 1}
            and retry.key == f"{before + 1}:{_ms(T0)}"
        )
        assert decision.release.revoke_attempts == before + 1 and decision.release.access_revoked is False
        waits.append((retry.due - T0) / timedelta(minutes=1))
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30]


def test_a_long_error_is_kept_cut_to_a_thousand_characters():
    r = new_release(validate_plan(plan("staged", approval="auto", revoke_access=REVOKE)), T0)
    error = "x" * 1500
    decision = revocation_failed(Decision(release=r, entries=[]), error, T0)
    assert decision.release.revoke_error == "x" * 1000


def test_a_redelivered_release_wide_message_names_the_shares_it_put_back():
    """Under on_drift: reapply a duplicate re-asserts every workload's share; its one entry is of no workload,
    and the changes were recorded on no entry at all."""
    w = world()
    doc = plan("staged", approval="manual", on_drift="reapply")
    doc["workloads"] = [{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["a"]}]
    w.service.apply(validate_plan(doc))
    for name in ("w1", "w2"):
        w.service.handle(event("asset-replicated", "r1", name, f"rep-{name}", asset="a"))
        w.service.handle(event("tests-passed", "r1", name, f"t-{name}"))
    approve = event("override", "r1", None, "ov1", action="approve", actor=APPROVER, reason="ok")
    assert w.service.handle(approve).outcome == "applied"
    w.network.shares[("r1", "w1")] = 0  # someone moved w1's users back
    again = w.service.handle(approve)
    assert again.outcome == "duplicate" and w.network.shares[("r1", "w1")] == 100
    [entry] = again.entries
    assert entry.workload is None and "; network: " in entry.reason and "w1" in entry.reason.split("; network: ")[1]
