"""The notices one decision gives rise to, written out in full (issue 21): every field of each notice, its
stable id, which transitions make one, a release-wide move told once with how many and which workloads,
and the clipped reason. Real decisions of the machine where a message can make them; a decision made by
hand where the point is one field (a routing batch's time, the clip)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shared.domain import messages as m
from shared.domain.machine import Decision, decide
from shared.domain.model import HistoryEntry, Outcome, ReleaseState, WorkloadState, new_release
from shared.domain.notices import MAX_NOTICE_REASON, Notice, notice_id, notices_for, wanted_kinds
from shared.domain.plan import validate_plan
from tests.fakes import T0, event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
ALL = ["flight-started", "rolled-back", "promoted", "finalized", "awaiting-approval", "deadline", "override-rejected"]


def release(count: int = 2, on: list[str] | None = None, **extra):
    doc = {
        "release": "wave-1",
        "model": "flight",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "flights": [{"percent": 10}, {"percent": 100}],
        "notify": [{"kind": "webhook", "url_setting": "HOOK", "on": on or ALL}],
        "workloads": [{"name": f"w{i:02d}", "assets": ["vm"]} for i in range(count)],
    }
    doc.update(extra)
    return new_release(validate_plan(doc))


def decide_on(before, type_, workload, id_, **data):
    decision = decide(before, m.parse_message(event(type_, before.name, workload, id_, **data)), T0)
    return decision.release, [n.to_json() for n in notices_for(before, decision)]


def flighting(before, *names):
    for name in names:
        before, _ = decide_on(before, "asset-replicated", name, f"{name}-a", asset="vm")
        before, _ = decide_on(before, "tests-passed", name, f"{name}-t")
    return before


def test_a_notice_as_json():
    notice = Notice(
        id="ntf-1",
        kind="promoted",
        release="wave-1",
        workload="web",
        at=datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC),
        event_id="m-1",
        state="promoted",
        traffic_percent=100,
        flight=2,
        reason="healthy",
        actor="ana@contoso.com",
        actor_reason="go",
    )
    assert notice.to_json() == {
        "id": "ntf-1",
        "kind": "promoted",
        "release": "wave-1",
        "workload": "web",
        "at": "2026-03-01T12:00:05Z",
        "event_id": "m-1",
        "state": "promoted",
        "traffic_percent": 100,
        "flight": 2,
        "reason": "healthy",
        "actor": "ana@contoso.com",
        "actor_reason": "go",
    }
    assert replace(notice, workload=None, actor=None, actor_reason=None).to_json()["actor"] is None


def test_the_stable_id_of_a_notice():
    # sha256 of "wave-1\nab\nrolled-back\n" (no workload) and of "wave-1\nm-1\npromoted\nweb"
    assert notice_id("wave-1", "ab", "rolled-back", None) == "ntf-55a7e9594c17ce23d3676d4e33aa2a19"
    assert notice_id("wave-1", "ab", "rolled-back", "") == "ntf-55a7e9594c17ce23d3676d4e33aa2a19"
    assert len(notice_id("wave-1", "m-1", "promoted", "web")) == 36
    assert notice_id("wave-1", "m-1", "promoted", "web") != notice_id("wave-1", "m-1", "promoted", "db")


def test_the_kinds_the_targets_listen_for():
    plan_ = release(
        notify=[
            {"kind": "webhook", "url_setting": "A", "on": ["promoted"]},
            {"kind": "teams", "url_setting": "B", "on": ["deadline", "promoted"]},
        ]
    )
    assert wanted_kinds(plan_) == {"promoted", "deadline"}
    assert wanted_kinds(release(notify=None)) == set()


def test_the_next_flight_of_a_flighting_workload_is_a_flight_started_too():
    _, notices = decide_on(flighting(release(), "w00"), "flight-healthy", "w00", "h-1", flight=1)
    assert notices == [
        {
            "id": notice_id("wave-1", "h-1", "flight-started", "w00"),
            "kind": "flight-started",
            "release": "wave-1",
            "workload": "w00",
            "at": "2026-11-26T22:00:00Z",
            "event_id": "h-1",
            "state": "flighting",
            "traffic_percent": 100,
            "flight": 2,
            "reason": "flight 1 healthy and baked -> flighting (flight 2, 100%)",
            "actor": None,
            "actor_reason": None,
        }
    ]


def test_the_first_flight_and_its_notice():
    before = flighting(release(), "w00")
    before, _ = decide_on(before, "asset-replicated", "w01", "w01-a", asset="vm")
    _, notices = decide_on(before, "tests-passed", "w01", "w01-t")
    assert notices == [
        {
            "id": notice_id("wave-1", "w01-t", "flight-started", "w01"),
            "kind": "flight-started",
            "release": "wave-1",
            "workload": "w01",
            "at": "2026-11-26T22:00:00Z",
            "event_id": "w01-t",
            "state": "flighting",
            "traffic_percent": 10,
            "flight": 1,
            "reason": "tests passed -> flighting (flight 1, 10%)",
            "actor": None,
            "actor_reason": None,
        }
    ]


def test_a_workload_that_stays_in_its_flight_gives_no_notice():
    before = flighting(release(), "w00")
    after, notices = decide_on(before, "tests-passed", "w00", "again")
    assert after.workloads["w00"].state == WorkloadState.FLIGHTING and notices == []


def test_rolled_back_by_an_alert_and_promoted_by_hand():
    before = flighting(release(), "w00")
    _, notices = decide_on(before, "alert", "w00", "al-1", description="5xx")
    assert [(n["kind"], n["workload"], n["state"], n["traffic_percent"], n["flight"]) for n in notices] == [
        ("rolled-back", "w00", "rolled-back", 0, 1)
    ]
    assert (notices[0]["actor"], notices[0]["actor_reason"]) == (None, None)
    _, notices = decide_on(before, "override", "w00", "adv", action="advance", actor=APPROVER, reason="go")
    assert [(n["kind"], n["state"], n["flight"]) for n in notices] == [("flight-started", "flighting", 2)]
    two, _ = decide_on(before, "override", "w00", "adv", action="advance", actor=APPROVER, reason="go")
    _, notices = decide_on(two, "override", "w00", "adv2", action="advance", actor=APPROVER, reason="done")
    assert [(n["kind"], n["state"], n["actor"], n["actor_reason"]) for n in notices] == [
        ("promoted", "promoted", APPROVER, "done")
    ]


def test_only_the_kinds_listened_for():
    before = flighting(release(on=["promoted"]), "w00")
    _, notices = decide_on(before, "alert", "w00", "al-1", description="5xx")
    assert notices == []


def test_awaiting_approval_once_for_the_release_in_full():
    before, _ = decide_on(release(approval="manual"), "asset-replicated", "w00", "a", asset="vm")
    after, notices = decide_on(before, "tests-passed", "w00", "t")
    assert after.state == ReleaseState.AWAITING_APPROVAL
    assert notices == [
        {
            "id": notice_id("wave-1", "t", "awaiting-approval", None),
            "kind": "awaiting-approval",
            "release": "wave-1",
            "workload": None,
            "at": "2026-11-26T22:00:00Z",
            "event_id": "t",
            "state": "awaiting-approval",
            "traffic_percent": None,
            "flight": None,
            "reason": "tests passed -> ready",  # the entry's own reason: no workloads are counted
            "actor": None,
            "actor_reason": None,
        }
    ]


def test_a_release_wide_rollback_is_one_notice_naming_ten_workloads_and_how_many_more():
    before = flighting(release(12), *[f"w{i:02d}" for i in range(12)])
    _, notices = decide_on(before, "override", None, "ab", action="rollback", actor=OPERATOR, reason="bad day")
    assert notices == [
        {
            "id": "ntf-55a7e9594c17ce23d3676d4e33aa2a19",
            "kind": "rolled-back",
            "release": "wave-1",
            "workload": None,
            "at": "2026-11-26T22:00:00Z",
            "event_id": "ab",
            "state": "rolled-back",
            "traffic_percent": None,
            "flight": None,
            "reason": "rolled-back: 12 workloads (w00, w01, w02, w03, w04, w05, w06, w07, w08, w09 and 2 more)",
            "actor": OPERATOR,
            "actor_reason": "bad day",
        }
    ]


def test_ten_workloads_are_all_named_eleven_leave_one_more():
    before = flighting(release(10), *[f"w{i:02d}" for i in range(10)])
    _, notices = decide_on(before, "override", None, "ab", action="rollback", actor=OPERATOR, reason="r")
    assert notices[0]["reason"] == ("rolled-back: 10 workloads (w00, w01, w02, w03, w04, w05, w06, w07, w08, w09)")
    before = flighting(release(11), *[f"w{i:02d}" for i in range(11)])
    _, notices = decide_on(before, "override", None, "ab", action="rollback", actor=OPERATOR, reason="r")
    assert notices[0]["reason"] == (
        "rolled-back: 11 workloads (w00, w01, w02, w03, w04, w05, w06, w07, w08, w09 and 1 more)"
    )


def test_a_release_wide_move_of_two_is_one_notice_of_one_is_that_workloads():
    before = flighting(release(3), "w00", "w01")
    _, notices = decide_on(before, "override", None, "ab", action="rollback", actor=OPERATOR, reason="r")
    assert [(n["kind"], n["workload"], n["reason"]) for n in notices] == [
        ("rolled-back", None, "rolled-back: 2 workloads (w00, w01)")
    ]
    assert notices[0]["state"] == "in-progress"  # the third workload still replicates
    before = flighting(release(2), "w00")
    _, notices = decide_on(before, "override", None, "ab", action="rollback", actor=OPERATOR, reason="r")
    assert [(n["kind"], n["workload"], n["traffic_percent"]) for n in notices] == [("rolled-back", "w00", 0)]
    assert notices[0]["reason"] == "rolled back to 0% by hand -> rolled-back (0%)"  # its own, not a count


def test_a_refused_override_tells_who_and_why():
    before = flighting(release(), "w00")
    _, notices = decide_on(before, "override", None, "x", action="advance", actor="mallory@x.com", reason="because")
    assert notices == [
        {
            "id": notice_id("wave-1", "x", "override-rejected", None),
            "kind": "override-rejected",
            "release": "wave-1",
            "workload": None,
            "at": "2026-11-26T22:00:00Z",
            "event_id": "x",
            "state": "in-progress",
            "traffic_percent": None,
            "flight": None,
            "reason": "mallory@x.com may not advance: not among the release's approvers",
            "actor": "mallory@x.com",
            "actor_reason": "because",
        }
    ]


def test_a_refused_override_of_one_workload_names_it():
    before = flighting(release(), "w00")
    _, notices = decide_on(before, "override", "w00", "x", action="advance", actor="mallory@x.com", reason="b")
    assert [(n["kind"], n["workload"], n["state"], n["traffic_percent"], n["flight"]) for n in notices] == [
        ("override-rejected", "w00", "flighting", 10, 1)
    ]


def test_a_release_wide_override_that_applied_somewhere_is_no_rejection():
    before = flighting(release(2), "w00")  # w01 is still replicating: advance does not apply to it
    decision = decide(
        before,
        m.parse_message(event("override", "wave-1", None, "adv", action="advance", actor=APPROVER, reason="go")),
        T0,
    )
    assert decision.outcome == Outcome.APPLIED
    assert Outcome.REJECTED in {e.outcome for e in decision.entries}
    assert [n.kind for n in notices_for(before, decision)] == ["flight-started"]


# ---- decisions made by hand ----------------------------------------------------------------------------------


def entry(reason: str, workload: str | None = "w00", **changes) -> HistoryEntry:
    base = HistoryEntry(
        at=T0,
        event_id="e-1",
        type="flight-healthy",
        outcome=Outcome.APPLIED,
        reason=reason,
        workload=workload,
        from_state="flighting",
        to_state="promoted",
        traffic_percent=100,
    )
    return replace(base, **changes)


def moved(before, state: WorkloadState, *names: str, **workload_changes):
    return replace(
        before,
        workloads={
            **before.workloads,
            **{n: replace(before.workloads[n], state=state, **workload_changes) for n in names},
        },
    )


def test_a_reason_is_clipped_to_a_thousand_characters():
    assert MAX_NOTICE_REASON == 1_000
    before = flighting(release(), "w00")
    after = moved(before, WorkloadState.PROMOTED, "w00", traffic_percent=100)
    for length, kept in ((999, 999), (1_000, 1_000), (1_001, 1_000)):
        [notice] = notices_for(before, Decision(after, [entry("x" * length)]))
        assert notice.reason == "x" * kept


def test_a_finalized_workload_is_told():
    before = moved(flighting(release(), "w00"), WorkloadState.PROMOTED, "w00", traffic_percent=100)
    after = moved(before, WorkloadState.FINALIZED, "w00")
    [notice] = notices_for(before, Decision(after, [entry("source turned off", type="decommissioned")]))
    assert (notice.kind, notice.workload, notice.state, notice.reason) == (
        "finalized",
        "w00",
        "finalized",
        "source turned off",
    )
    assert notices_for(after, Decision(after, [entry("again")])) == []  # already finalized: nothing new


def test_a_workload_without_an_entry_of_its_own_has_an_empty_reason():
    before = flighting(release(), "w00")
    after = moved(before, WorkloadState.PROMOTED, "w00", traffic_percent=100)
    [notice] = notices_for(before, Decision(after, [entry("about w01", workload="w01")]))
    assert (notice.kind, notice.reason, notice.actor, notice.actor_reason) == ("promoted", "", None, None)


def test_the_entry_of_the_workload_is_its_last_one():
    before = flighting(release(), "w00")
    after = moved(before, WorkloadState.PROMOTED, "w00", traffic_percent=100)
    entries = [entry("first"), entry("other", workload="w01"), entry("last", actor="ops", actor_reason="why")]
    [notice] = notices_for(before, Decision(after, entries))
    assert (notice.reason, notice.actor, notice.actor_reason) == ("last", "ops", "why")


def test_a_notice_takes_the_time_and_message_of_the_decisions_first_entry():
    before = flighting(release(), "w00")
    after = moved(before, WorkloadState.PROMOTED, "w00", traffic_percent=100)
    later = datetime(2026, 11, 27, tzinfo=UTC)
    entries = [entry("a", event_id="first", at=later), entry("b", event_id="second")]
    [notice] = notices_for(before, Decision(after, entries))
    assert (notice.at, notice.event_id, notice.id) == (later, "first", notice_id("wave-1", "first", "promoted", "w00"))


def test_a_batch_moved_release_wide_says_how_long_its_routing_took():
    before = flighting(release(3), "w00", "w01", "w02")
    after = moved(before, WorkloadState.ROLLED_BACK, "w00", "w01", "w02", traffic_percent=0)
    took = "routing of 3 workloads: 2 Azure writes in 1.5s"
    entries = [entry("rolled back", workload=w) for w in ("w00", "w01")] + [
        entry(f"rolled back; {took}", workload="w02")
    ]
    [notice] = notices_for(before, Decision(after, entries))
    assert notice.reason == f"rolled-back: 3 workloads (w00, w01, w02); {took}"
    [notice] = notices_for(before, Decision(after, [entry("rolled back", workload=w) for w in ("w00", "w01", "w02")]))
    assert notice.reason == "rolled-back: 3 workloads (w00, w01, w02)"


def test_a_deadline_missed_is_told_one_ignored_is_not():
    before = flighting(release(), "w00")
    missed = entry("no verdict within 1m", type="deadline", to_state="flighting", traffic_percent=10)
    [notice] = notices_for(before, Decision(before, [missed]))
    assert (notice.kind, notice.workload, notice.state, notice.reason) == (
        "deadline",
        "w00",
        "flighting",
        "no verdict within 1m",
    )
    assert notices_for(before, Decision(before, [replace(missed, outcome=Outcome.IGNORED)])) == []
    other = replace(missed, type="alert")
    assert notices_for(before, Decision(before, [other])) == []


def test_a_rejected_entry_that_is_no_override_is_no_notice():
    before = flighting(release(), "w00")
    refused = entry("no", type="flight-healthy", outcome=Outcome.REJECTED)
    assert notices_for(before, Decision(before, [refused])) == []


def test_a_shard_of_a_large_release_says_no_release_state():
    before = replace(flighting(release(3), "w00", "w01"), others=5)  # one shard of a larger release
    after = moved(before, WorkloadState.ROLLED_BACK, "w00", "w01", traffic_percent=0)
    [notice] = notices_for(before, Decision(after, [entry("rb", workload=w) for w in ("w00", "w01")]))
    assert (notice.workload, notice.state) == (None, None)


def test_no_notice_without_targets_or_without_entries():
    before = flighting(release(notify=None), "w00")
    after = moved(before, WorkloadState.PROMOTED, "w00")
    assert notices_for(before, Decision(after, [entry("p")])) == []
    before = flighting(release(), "w00")
    assert notices_for(before, Decision(moved(before, WorkloadState.PROMOTED, "w00"), [])) == []


def test_two_kinds_moved_release_wide_each_count_their_own_workloads():
    before = flighting(release(4), "w00", "w01", "w02", "w03")
    after = moved(before, WorkloadState.ROLLED_BACK, "w00", "w01", traffic_percent=0)
    after = moved(after, WorkloadState.PROMOTED, "w02", "w03", traffic_percent=100)
    notices = notices_for(before, Decision(after, [entry("moved", workload=w) for w in ("w00", "w01", "w02", "w03")]))
    assert sorted((n.kind, n.workload, n.reason) for n in notices) == [
        ("promoted", None, "promoted: 2 workloads (w02, w03)"),
        ("rolled-back", None, "rolled-back: 2 workloads (w00, w01)"),
    ]


def test_a_kind_not_listened_for_does_not_hide_a_later_one():
    before = flighting(release(2, on=["promoted"]), "w00", "w01")
    after = moved(before, WorkloadState.ROLLED_BACK, "w00", traffic_percent=0)
    after = moved(after, WorkloadState.PROMOTED, "w01", traffic_percent=100)
    entries = [entry("rb", workload="w00"), entry("p", workload="w01")]
    assert [(n.kind, n.workload) for n in notices_for(before, Decision(after, entries))] == [("promoted", "w01")]


def test_a_release_wide_move_counts_a_workload_without_an_entry_of_its_own_and_tells_the_first_ones_actor():
    before = flighting(release(3), "w00", "w01", "w02")
    after = moved(before, WorkloadState.ROLLED_BACK, "w00", "w01", traffic_percent=0)
    entries = [entry("rb", workload="w00", actor="ops@contoso.com", actor_reason="first")]
    [notice] = notices_for(before, Decision(after, entries))
    assert (notice.workload, notice.reason, notice.actor, notice.actor_reason) == (
        None,
        "rolled-back: 2 workloads (w00, w01)",
        "ops@contoso.com",
        "first",
    )
    entries = [
        entry("rb", workload="w00", actor="a@contoso.com", actor_reason="one"),
        entry("rb", workload="w01", actor="b@contoso.com", actor_reason="two"),
    ]
    [notice] = notices_for(before, Decision(after, entries))
    assert (notice.actor, notice.actor_reason) == ("a@contoso.com", "one")


def test_a_release_level_deadline_beside_workload_deadlines_is_told_apart_with_its_own_reason():
    before = flighting(release(3), "w00", "w01")
    deadline = dict(type="deadline", to_state="flighting", traffic_percent=10)
    entries = [
        entry("the release's deadline", workload=None, **deadline),
        entry("w00 late", workload="w00", **deadline),
        entry("w01 late", workload="w01", **deadline),
    ]
    notices = notices_for(before, Decision(before, entries))
    assert [(n.kind, n.workload, n.reason) for n in notices] == [
        ("deadline", None, "the release's deadline"),
        ("deadline", None, "deadline: 2 workloads (w00, w01)"),
    ]
