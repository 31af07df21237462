"""Notices derived from decisions (contract §11), and the plan's notify targets."""

from __future__ import annotations

import json

import pytest

from shared.domain import messages as m
from shared.domain.errors import PlanError
from shared.domain.machine import decide
from shared.domain.model import new_release
from shared.domain.notices import notices_for
from shared.domain.plan import MAX_WORKLOADS, MAX_WORKLOADS_WITH_NOTIFY, validate_plan
from tests.fakes import T0, event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


def plan(**extra):
    doc = {
        "release": "wave-1",
        "model": "flight",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "flights": [{"percent": 10}, {"percent": 100}],
        "notify": [{"kind": "webhook", "url_setting": "HOOK_URL"}],
        "workloads": [{"name": "web", "assets": ["vm-1"]}, {"name": "db", "assets": ["vm-2"]}],
    }
    doc.update(extra)
    return validate_plan(doc)


def step(release, type_, workload, id_, **data):
    message = m.parse_message(event(type_, release.name, workload, id_, **data))
    decision = decide(release, message, T0)
    return decision.release, notices_for(release, decision)


def to_flighting(release, workload="web"):
    release, _ = step(
        release,
        "asset-replicated",
        workload,
        f"{workload}-a",
        asset=release.workloads[workload].assets and next(iter(release.workloads[workload].assets)),
    )
    return step(release, "tests-passed", workload, f"{workload}-t")


def test_flight_started_rolled_back_and_promoted_each_give_one_notice_with_a_stable_id():
    release = new_release(plan())
    release, notices = to_flighting(release)
    assert [(n.kind, n.workload, n.traffic_percent, n.flight) for n in notices] == [("flight-started", "web", 10, 1)]
    first_id = notices[0].id
    _, again = to_flighting(new_release(plan()))
    assert again[0].id == first_id  # the same transition re-decided (after a lost commit) has the same id
    rolled, notices = step(release, "alert", "web", "al-1", description="5xx")
    assert [(n.kind, n.state, n.traffic_percent) for n in notices] == [("rolled-back", "rolled-back", 0)]
    release, _ = step(release, "flight-healthy", "web", "h-1", flight=1)
    release, notices = step(release, "override", "web", "adv", action="advance", actor=APPROVER, reason="go")
    assert [n.kind for n in notices] == ["promoted"]
    assert notices[0].actor == APPROVER and notices[0].actor_reason == "go"


def test_a_refused_override_notifies_with_who_and_why():
    release = new_release(plan())
    _, notices = step(release, "override", None, "x", action="abort", actor="mallory@evil.example", reason="because")
    assert [(n.kind, n.workload, n.actor, n.actor_reason) for n in notices] == [
        ("override-rejected", None, "mallory@evil.example", "because")
    ]
    assert "may not abort" in notices[0].reason


def test_awaiting_approval_is_said_once_for_the_release():
    release = new_release(plan(approval="manual"))
    release, notices = to_flighting(release)
    assert [(n.kind, n.workload) for n in notices] == [("awaiting-approval", None)]
    release, notices = to_flighting(release, "db")
    assert notices == []  # still awaiting approval: no new notice


def test_only_the_kinds_a_target_listens_for_and_none_without_notify():
    release = new_release(plan(notify=[{"kind": "teams", "url_setting": "T", "on": ["promoted"]}]))
    _, notices = to_flighting(release)
    assert notices == []
    release = new_release(plan(notify=None))
    _, notices = step(release, "override", None, "x", action="abort", actor="mallory@evil.example", reason="r")
    assert notices == []


def test_a_duplicate_gives_no_notice():
    release, _ = to_flighting(new_release(plan()))
    message = m.parse_message(event("tests-passed", "wave-1", "web", "web-t"))
    assert notices_for(release, decide(release, message, T0, duplicate=True)) == []


@pytest.mark.parametrize(
    "target, where",
    [
        ({"kind": "webhook", "url_setting": "https://hooks.example.com/x"}, "notify[0].url_setting"),
        ({"kind": "slack", "url_setting": "X"}, "notify[0].kind"),
        ({"kind": "teams", "url_setting": "X", "on": ["everything"]}, "notify[0].on[0]"),
        ({"kind": "teams", "url_setting": "X", "on": []}, "notify[0].on"),
        ({"kind": "teams", "url": "https://x", "url_setting": "X"}, "notify[0].url"),
        ({"kind": "webhook", "url_setting": "PROMOTE_STORAGE_CONNECTION_STRING"}, "notify[0].url_setting"),
        ({"kind": "webhook", "url_setting": "AzureWebJobsStorage"}, "notify[0].url_setting"),
    ],
)
def test_notify_targets_are_checked_and_a_url_is_never_accepted_in_the_plan(target, where):
    with pytest.raises(PlanError) as caught:
        plan(notify=[target])
    assert where in [path for path, _ in caught.value.problems]


def test_notify_takes_no_room_from_the_workloads():
    """The outbox row no longer competes with workload rows (shards): a plan with notify holds as many."""
    workloads = [{"name": f"w{i}", "assets": ["vm"]} for i in range(MAX_WORKLOADS_WITH_NOTIFY)]
    assert MAX_WORKLOADS_WITH_NOTIFY == MAX_WORKLOADS
    assert len(plan(workloads=workloads).workloads) == MAX_WORKLOADS


def test_notices_serialise_to_json():
    _, notices = to_flighting(new_release(plan()))
    doc = json.loads(json.dumps(notices[0].to_json()))
    assert doc["id"].startswith("ntf-") and doc["at"].endswith("Z") and doc["kind"] == "flight-started"


def test_a_deadline_notice_and_mark_only_for_a_deadline_actually_missed():
    """A deadline timer that arrives after its waiting period ended is recorded `ignored`: no page, no mark."""
    from datetime import timedelta

    from shared.application.board.timeline import timeline

    release = new_release(
        plan(deadlines={"testing": "1m"}, notify=[{"kind": "webhook", "url_setting": "HOOK_URL", "on": ["deadline"]}]),
        T0,
    )
    period = f"testing:{int(T0.timestamp() * 1000)}"
    late = T0 + timedelta(minutes=2)

    def at(release, when, type_, workload, id_, **data):
        decision = decide(release, m.parse_message(event(type_, release.name, workload, id_, **data)), when)
        return decision, notices_for(release, decision)

    decision, _ = at(release, T0, "asset-replicated", "web", "a", asset="vm-1")
    testing = decision.release
    decision, _ = at(testing, T0, "tests-passed", "web", "t")  # the waiting period ends in time
    stale, notices = at(decision.release, late, "deadline", "web", "d1", period=period)
    assert stale.outcome == "ignored" and notices == []
    assert timeline("web", stale.entries, 10, late).marks == []
    missed, notices = at(testing, late, "deadline", "web", "d2", period=period)  # no tests: really missed
    assert missed.outcome == "applied" and [n.kind for n in notices] == ["deadline"]
    assert [mark["kind"] for mark in timeline("web", missed.entries, 0, late).marks] == ["deadline"]
