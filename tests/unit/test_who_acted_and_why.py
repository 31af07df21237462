"""Who acted and why (actor_reason, actors in any case, groups, pauses explained), and what a duplicate, an
aborted workload, a failed test or an alert while paused do to routing, access, approval and attention."""

from __future__ import annotations

import json

import pytest

from shared.application.views import history_json, history_text, status_json, status_text
from shared.domain.actors import ACTOR_REASON_LIMIT, Principal, clip_actor_reason
from shared.domain.errors import PlanError
from shared.domain.machine import decide
from shared.domain.messages import parse_message
from shared.domain.plan import validate_plan
from tests.fakes import T0, event
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan, staged_plan, to_first_flight

GROUP = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"


def override(d: Driver, action: str, *, reason: str, actor: str = OPERATOR, workload: str | None = "w1"):
    return d.send("override", workload, action=action, actor=actor, reason=reason)


# -- actor_reason -------------------------------------------------------------------------------
def test_actor_reason_is_kept_verbatim_for_applied_ignored_and_rejected_overrides():
    d = Driver(make_plan("flight"))
    words = 'CAB freeze — "ticket" CHG-0042 ✓ ünïcode'
    assert override(d, "pause", reason=words).outcome == "applied"
    assert override(d, "pause", reason="again, to be sure").outcome == "ignored"
    assert override(d, "approve", reason="I am not an approver", actor="eve@contoso.com").outcome == "rejected"
    entries = d.w.store.list_history("r1")
    assert [(e.outcome, e.actor, e.actor_reason) for e in entries] == [
        ("applied", OPERATOR, words),
        ("ignored", OPERATOR, "again, to be sure"),
        ("rejected", "eve@contoso.com", "I am not an approver"),
    ]
    assert all(e.reason != e.actor_reason for e in entries)  # `reason` stays promote's own explanation
    doc = history_json(entries)
    assert doc[0]["actor_reason"] == words and doc[0]["actor"] == OPERATOR
    assert f'"{words}"' in history_text(entries)
    # events other than overrides carry no actor reason
    d.send("asset-replicated", asset="a")
    assert d.w.store.list_history("r1")[-1].actor_reason is None


def test_an_invalid_override_is_rejected_with_its_reason_but_without_an_actor():
    d = Driver(make_plan("flight"))
    r = d.w.service.handle(event("override", "r1", "w1", "bad", action="explode", actor=OPERATOR, reason="why not"))
    assert r.outcome == "rejected"
    [entry] = d.w.store.list_history("r1")
    assert (entry.outcome, entry.actor, entry.actor_reason) == ("rejected", None, "why not")


def test_actor_reason_is_clipped_to_its_documented_length():
    d = Driver(make_plan("flight"))
    long = "x" * 600 + "END"
    override(d, "pause", reason=long)
    kept = d.w.store.list_history("r1")[-1].actor_reason
    assert len(kept) == ACTOR_REASON_LIMIT and kept.endswith("…") and long.startswith(kept[:-1])
    assert clip_actor_reason("y" * ACTOR_REASON_LIMIT) == "y" * ACTOR_REASON_LIMIT  # at the limit: verbatim


def test_status_says_who_paused_when_and_why_and_resume_clears_it():
    d = Driver(make_plan("flight"))
    override(d, "pause", reason="CAB freeze until Monday")
    w = status_json(d.release)["workloads"][0]
    assert (w["paused"], w["paused_by"], w["paused_at"], w["paused_reason"]) == (
        True,
        OPERATOR,
        "2026-11-26T22:00:00Z",
        "CAB freeze until Monday",
    )
    assert f"paused by {OPERATOR} since 2026-11-26 22:00:00Z: CAB freeze until Monday" in status_text(d.release)
    r = override(d, "resume", reason="freeze lifted")
    assert f"by {OPERATOR} since 2026-11-26 22:00:00Z: CAB freeze until Monday" in r.reason
    w = status_json(d.release)["workloads"][0]
    assert (w["paused"], w["paused_by"], w["paused_at"], w["paused_reason"]) == (False, None, None, None)


def test_history_text_shows_full_utc_dates():
    d = Driver(make_plan("flight"))
    override(d, "pause", reason="r")
    text = history_text(d.w.store.list_history("r1"))
    assert "2026-11-26 22:00:00Z" in text


# -- actors: any case, groups -------------------------------------------------------------------
def test_actor_names_compare_case_insensitively():
    d = Driver(make_plan("single-step", approval="manual", approvers=["Ana@Contoso.com"]))
    d.replicate()
    d.send("tests-passed")
    assert override(d, "approve", reason="go", actor="ANA@contoso.COM").outcome == "applied"
    assert d.wl().state == "promoted"


def test_groups_authorize_only_authenticated_members():
    plan = validate_plan(make_plan("single-step", approval="manual", approvers=[f"group:{GROUP.upper()}"]))
    from shared.domain.model import new_release

    release = new_release(plan)
    msg = parse_message(event("override", "r1", "w1", "o1", action="approve", actor="bob@contoso.com", reason="go"))
    member = Principal("bob@contoso.com", groups=(GROUP,), authenticated=True)
    decision = decide(release, msg, T0, principal=member)
    assert decision.outcome == "applied" and f"(as a member of group:{GROUP.upper()})" in decision.reason
    assert decision.entries[0].actor == "bob@contoso.com"
    # a name that looks like the group is not a member of it
    named = parse_message(event("override", "r1", "w1", "o2", action="approve", actor=f"group:{GROUP}", reason="x"))
    assert decide(release, named, T0).outcome == "rejected"
    assert decide(release, msg, T0, principal=Principal("bob@contoso.com", authenticated=True)).outcome == "rejected"


def test_plan_refuses_a_group_that_is_not_an_object_id():
    with pytest.raises(PlanError) as exc:
        validate_plan(make_plan("single-step", approvers=["group:payroll-admins"]))
    assert "group:<object-id>" in str(exc.value)


def test_on_azure_settings_a_topic_borne_override_is_rejected_and_audited_without_burning_its_id():
    plan = validate_plan(make_plan("single-step"))
    from shared.domain.model import new_release

    release = new_release(plan)
    forged = parse_message(event("override", "r1", "w1", "f1", action="pause", actor=OPERATOR, reason="forged"))
    decision = decide(release, forged, T0, require_authenticated=True)
    assert decision.outcome == "rejected" and "unauthenticated" in decision.reason and OPERATOR in decision.reason
    [entry] = decision.entries
    assert entry.actor is None and entry.actor_reason == "forged"  # audited, but no one is named as the actor
    assert not decision.remember and not decision.release.workloads["w1"].paused
    # a forged copy of an id already recorded is a duplicate, still without the claimed actor
    dup = decide(release, forged, T0, require_authenticated=True, duplicate=True)
    assert dup.outcome == "duplicate" and dup.entries[0].actor is None
    # the same message with a principal from the endpoint: the principal is the actor, never the body's name
    real = decide(
        release, forged, T0, require_authenticated=True, principal=Principal("ops@CONTOSO.com", authenticated=True)
    )
    assert real.outcome == "applied" and real.entries[0].actor == "ops@CONTOSO.com"


# -- defect 2: redeliveries and routing ---------------------------------------------------------
def test_a_duplicate_never_moves_routing_of_a_paused_workload():
    d = Driver(make_plan("flight", on_drift="reapply"))
    to_first_flight(d)
    d.send("flight-healthy", id="h1", flight=1)
    override(d, "pause", reason="investigating")
    d.w.network.shares[("r1", "w1")] = 0  # the operator moved users back by hand during the pause
    assert d.send("flight-healthy", id="h1", flight=1).outcome == "duplicate"
    assert d.routed() == 0
    override(d, "resume", reason="done")
    assert d.send("flight-healthy", id="h1", flight=1).outcome == "duplicate"
    assert d.routed() == 10  # not paused and on_drift: reapply: the recorded share is asserted again


def test_with_on_drift_report_a_duplicate_leaves_routing_alone():
    d = Driver(make_plan("single-step"))  # on_drift: report (the default)
    d.replicate()
    d.send("tests-passed", id="t1")
    d.w.network.shares[("r1", "w1")] = 0
    r = d.send("tests-passed", id="t1")
    assert r.outcome == "duplicate" and d.routed() == 0


def test_an_attempt_that_lost_its_commit_still_puts_back_what_it_moved_even_when_paused():
    from shared.application.service import PromotionService
    from tests.unit.test_machine import RivalFirst

    d = Driver(make_plan("flight"))
    to_first_flight(d)
    w = d.w

    def rival():
        return w.service.handle(
            event(
                "override",
                "r1",
                "w1",
                "rival",
                action="pause",
                actor=OPERATOR,
                reason="hold",
            )
        )

    host_b = PromotionService(
        store=RivalFirst(w.store, rival),
        routers=w.network.router,
        scheduler=w.scheduler,
        revoker=w.network,
        dead_letters=w.dead,
        clock=w.clock,
    )
    r = host_b.handle(event("override", "r1", "w1", "adv", action="advance", actor=APPROVER, reason="now"))
    assert r.outcome == "rejected" and d.wl().paused
    assert ("r1", "w1", 50) in w.network.writes and d.routed() == 10  # its own move, undone


# -- defect 3: aborted workloads are out of the release for revocation --------------------------
def test_a_release_promoted_with_an_aborted_workload_revokes_access():
    d = Driver(staged_plan())
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    d.override("approve", actor=APPROVER, workload="w1")
    d.override("abort", workload="w2")
    assert d.release.state == "promoted"
    assert d.w.network.revoked == ["r1"] and d.release.access_revoked


def test_a_release_with_every_workload_aborted_revokes_nothing():
    d = Driver(staged_plan())
    d.override("abort", workload=None)
    assert d.release.state == "aborted" and d.w.network.revoked == []


# -- defect 6: a failed test drops the approval ---------------------------------------------------
def test_an_approval_does_not_survive_tests_failed():
    d = Driver(
        make_plan(
            "staged", approval="manual", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]
        )
    )
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    d.override("approve", actor=APPROVER, workload="w1")
    assert d.wl("w1").approved
    r = d.send("tests-failed", "w1")
    assert "approval withdrawn" in r.reason and (d.wl("w1").state, d.wl("w1").approved) == ("testing", False)
    d.send("tests-passed", "w1")
    d.send("asset-replicated", "w2", asset="b")
    d.send("tests-passed", "w2")
    d.override("approve", actor=APPROVER, workload="w2")
    assert d.release.state == "awaiting-approval" and d.routed("w1") == 0  # w1 needs approving again


# -- defect 7: the attention list ----------------------------------------------------------------
def test_a_release_with_one_workload_rolled_back_and_one_at_100_says_so():
    d = Driver(staged_plan())
    for name, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", name, asset=asset)
        d.send("tests-passed", name)
    d.override("approve", actor=APPROVER, workload=None)
    d.override("rollback", workload="w1")
    doc = status_json(d.release)
    assert doc["state"] == "rolled-back"
    assert [(a["workload"], a["state"], a["traffic_percent"]) for a in doc["attention"]] == [("w2", "promoted", 100)]
    assert "100% of its users are on the migrated system" in doc["attention"][0]["why"]
    assert "attention:" in status_text(d.release)
    d.override("retry", workload="w1")
    doc = status_json(d.release)
    assert doc["state"] == "in-progress"
    assert {a["workload"] for a in doc["attention"]} == {"w2"}  # promoted while the staged release is not


def test_a_quiet_release_needs_no_attention():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    assert status_json(d.release)["attention"] == []


# -- defect 8: an alert recorded while paused (on_alert: pause) -----------------------------------
def test_an_alert_while_paused_shows_in_status_and_the_resume_acknowledges_it():
    d = Driver(make_plan("flight", on_alert="pause"))
    to_first_flight(d)
    override(d, "pause", reason="change window")
    d.w.clock.advance(60)
    d.send("alert", severity="Sev1", description="error rate 7%")
    w = status_json(d.release)["workloads"][0]
    assert w["alert_while_paused"] == "alert (Sev1): error rate 7% at 2026-11-26 22:01:00Z"
    [item] = status_json(d.release)["attention"]
    assert "error rate 7%" in item["why"] and "change window" in item["why"]
    r = override(d, "resume", reason="alert understood")
    assert "acknowledges the alert recorded while paused (alert (Sev1): error rate 7%" in r.reason
    assert (d.wl().paused, d.wl().unhealthy, d.wl().alert_while_paused, d.routed()) == (False, False, None, 10)
    assert status_json(d.release)["attention"] == []


def test_on_alert_pause_records_who_paused_and_why():
    d = Driver(make_plan("flight", on_alert="pause"))
    to_first_flight(d)
    d.send("alert", description="latency")
    w = d.wl()
    assert (w.paused, w.paused_by, w.paused_reason) == (True, "promote", "alert: latency (on_alert: pause)")


# -- defect 5: a plan names every problem at once --------------------------------------------------
def test_cross_field_problems_are_named_alongside_field_errors():
    lb = {
        "provider": "load-balancer",
        "subscription": "00000000-0000-0000-0000-000000000000",
        "resource_group": "rg",
        "load_balancer": "lb",
        "backend_pool": "be",
        "source_addresses": ["10.0.0.1"],
        "target_addresses": ["10.1.0.1"],
    }
    raw = make_plan(
        "flight",
        release="Bad Name!",
        flights=[{"percent": 50, "bake": "nonsense"}, {"percent": 10}, {"percent": 90}],
        workloads=[{"name": "w1", "assets": ["a", "a", "bad\x01"], "routing": lb}, {"name": "w1", "assets": ["b"]}],
    )
    with pytest.raises(PlanError) as exc:
        validate_plan(raw)
    paths = {path: why for path, why in exc.value.problems}
    text = str(exc.value)
    assert "release" in paths  # the field error
    assert "strictly increasing" in text and "last flight must be 100%" in text  # flight order, last flight
    assert "duplicate assets: a" in text and "duplicate workload names: w1" in text
    assert "workloads[0].routing" in paths  # provider shares: 1+1 addresses cannot realise 10%


def test_duplicate_yaml_keys_are_an_error():
    from shared.domain.plan import load_plan_text

    with pytest.raises(PlanError) as exc:
        load_plan_text("release: r1\nmodel: flight\nmodel: staged\nworkloads: [{name: w1, assets: [a]}]\n")
    assert "duplicate key 'model'" in str(exc.value) and "line 3" in str(exc.value)


def test_overrides_of_a_release_are_json_round_trippable():
    d = Driver(make_plan("flight"))
    override(d, "pause", reason="x")
    assert json.loads(json.dumps(history_json(d.w.store.list_history("r1"))))[0]["actor_reason"] == "x"
