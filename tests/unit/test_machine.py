"""The state machine through the service with fakes: every model, override and outcome, table-driven."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.domain.plan import validate_plan
from tests.fakes import T0, event, world

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


def make_plan(model: str, **overrides) -> dict:
    plan = {
        "release": "r1",
        "model": model,
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": "w1", "assets": ["a", "b"]}],
    }
    if model == "flight":
        plan["flights"] = [
            {"percent": 10, "bake": "30s"},
            {"percent": 50, "bake": "10m"},
            {"percent": 100, "bake": "0s"},
        ]
    plan.update(overrides)
    return plan


class Driver:
    """Sends messages through the service; tracks ids; delivers due timers like the transport would."""

    def __init__(self, plan: dict):
        self.w = world()
        self.plan = validate_plan(plan)
        self.w.service.apply(self.plan)
        self.n = 0

    def send(self, type_: str, workload: str | None = "w1", *, id: str | None = None, **data):
        self.n += 1
        return self.w.service.handle(event(type_, "r1", workload, id or f"m{self.n}", **data))

    def override(self, action: str, actor: str = OPERATOR, workload: str | None = "w1", **kw):
        return self.send("override", workload, action=action, actor=actor, reason="test", **kw)

    def finalize(self, actor: str = APPROVER, workload: str | None = "w1"):
        """`override finalize`, then the decommission it sends itself once its request is committed: the
        request's result, and the decommission's (or the request's again when it sent none)."""
        request = self.override("finalize", actor, workload=workload)
        done = self.tick(0)
        return request, (done[-1] if done else request)

    def tick(self, seconds: float) -> list:
        """Advance the clock and deliver every timer now due."""
        self.w.clock.advance(seconds)
        return [self.w.service.handle(json.dumps(e)) for e in self.w.scheduler.due(self.w.clock.now())]

    def replicate(self, workload: str = "w1"):
        for asset in self.plan.workload(workload).assets:
            self.send("asset-replicated", workload, asset=asset)

    @property
    def release(self):
        return self.w.store.get_release("r1").release

    def wl(self, name: str = "w1"):
        return self.release.workloads[name]

    def routed(self, name: str = "w1") -> int:
        return self.w.network.shares.get(("r1", name), 0)


# -- single-step ------------------------------------------------------------------------------
def test_single_step_happy_path_moves_all_traffic_at_once():
    d = Driver(make_plan("single-step"))
    assert d.send("asset-replicated", asset="a").outcome == "applied"
    assert d.wl().state == "replicating"
    assert d.send("asset-replicated", asset="b").outcome == "applied"
    assert d.wl().state == "testing"
    r = d.send("tests-passed")
    assert (r.outcome, d.wl().state, d.wl().traffic_percent, d.routed()) == ("applied", "promoted", 100, 100)
    assert d.w.network.writes == [("r1", "w1", 100)]  # 0 -> 100 in one step
    assert d.release.state == "promoted"


def test_single_step_late_replication_after_promotion_is_ignored_with_warning():
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    r = d.send("asset-replicated", asset="a")
    assert r.outcome == "ignored"
    assert "WARNING" in r.reason and "severed" in r.reason and "lost" in r.reason
    assert d.wl().state == "promoted"


def test_manual_approval_gates_the_first_routing_change():
    d = Driver(make_plan("single-step", approval="manual"))
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().state, d.release.state, d.routed()) == ("ready", "awaiting-approval", 0)
    assert d.override("approve", actor=OPERATOR).outcome == "rejected"  # operators may not approve
    assert d.routed() == 0
    assert d.override("approve", actor=APPROVER).outcome == "applied"
    assert (d.wl().state, d.routed(), d.release.state) == ("promoted", 100, "promoted")


# -- staged ----------------------------------------------------------------------------------
def staged_plan(**kw) -> dict:
    return make_plan(
        "staged",
        workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}],
        revoke_access={"provider": "local", "source_prefixes": ["10.50.0.0/24"]},
        **kw,
    )


def test_staged_promotes_the_whole_release_at_once_after_approval():
    d = Driver(staged_plan())
    assert d.plan.approval == "manual"  # staged defaults to manual approval
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    assert d.wl("w1").state == "ready" and d.release.state == "in-progress"  # w2 still replicating
    d.send("asset-replicated", "w2", asset="b")
    d.send("tests-passed", "w2")
    assert d.release.state == "awaiting-approval"
    assert d.w.network.writes == [] and d.w.network.revoked == []
    r = d.override("approve", actor=APPROVER, workload=None)
    assert r.outcome == "applied"
    assert {e.workload for e in r.entries} == {"w1", "w2"}
    assert all(e.to_state == "promoted" and e.traffic_percent == 100 for e in r.entries)
    assert (d.routed("w1"), d.routed("w2")) == (100, 100)
    assert d.release.state == "promoted" and d.w.network.revoked == ["r1"]
    assert d.release.access_revoked


def test_staged_auto_approval_promotes_when_the_last_workload_is_ready():
    d = Driver(staged_plan(approval="auto"))
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    d.send("asset-replicated", "w2", asset="b")
    assert d.routed("w1") == 0
    r = d.send("tests-passed", "w2")
    assert [e.workload for e in r.entries] == ["w2", "w1"]  # one entry per workload, the trigger first
    assert d.release.state == "promoted" and d.w.network.revoked == ["r1"]


def test_staged_waits_for_a_paused_workload():
    d = Driver(staged_plan(approval="auto"))
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    d.override("pause", workload="w1")
    d.send("asset-replicated", "w2", asset="b")
    d.send("tests-passed", "w2")
    assert d.release.state == "in-progress" and d.routed("w2") == 0
    d.override("resume", workload="w1")
    assert d.release.state == "promoted"


def test_staged_ready_workload_whose_tests_fail_drops_back_to_testing():
    d = Driver(staged_plan())
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    r = d.send("tests-failed", "w1", suite="business")
    assert r.outcome == "applied" and d.wl("w1").state == "testing"


# -- flight ----------------------------------------------------------------------------------
def to_first_flight(d: Driver) -> None:
    d.replicate()
    d.send("tests-passed")
    assert (d.wl().state, d.wl().flight, d.routed()) == ("flighting", 1, 10)


def test_flight_grows_only_after_bake_and_a_healthy_verdict():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    r = d.send("flight-healthy", flight=1)
    assert r.outcome == "applied" and "bake time left 30s" in r.reason
    assert d.routed() == 10  # healthy, but not baked
    results = d.tick(30)
    assert [x.outcome for x in results] == ["applied"]
    assert (d.wl().flight, d.routed()) == (2, 50)
    d.tick(600)  # baked, but no verdict yet
    assert (d.wl().flight, d.routed()) == (2, 50)
    assert d.send("flight-healthy", flight=2).outcome == "applied"
    assert (d.wl().flight, d.routed()) == (3, 100)
    assert d.wl().state == "flighting"  # the last flight must be healthy too
    d.send("flight-healthy", flight=3)
    assert d.wl().state == "promoted" and d.release.state == "promoted"


def test_a_verdict_for_another_flight_or_issued_before_the_flight_is_ignored():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    assert d.send("flight-healthy", flight=2).outcome == "ignored"
    stale = d.send("flight-healthy", flight=1, time=T0.replace(year=2025))
    assert stale.outcome == "ignored" and "before flight 1 began" in stale.reason
    d.tick(30)
    assert d.routed() == 10


@pytest.mark.parametrize("trouble", [("flight-unhealthy", {"flight": 1}), ("alert", {"severity": "Sev1"})])
def test_on_alert_rollback(trouble):
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    r = d.send(trouble[0], **trouble[1])
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "rolled-back", 0)
    assert d.release.state == "rolled-back"


def test_on_alert_pause_holds_the_current_share():
    d = Driver(make_plan("flight", on_alert="pause"))
    to_first_flight(d)
    d.send("alert")
    assert (d.wl().state, d.wl().paused, d.routed()) == ("flighting", True, 10)
    d.send("flight-healthy", flight=1)
    d.tick(60)
    assert d.routed() == 10  # paused: nothing advances
    d.override("resume")
    assert (d.wl().flight, d.routed()) == (2, 50)  # resume re-evaluates: baked and healthy


def test_pause_records_facts_and_resume_advances_on_them():
    d = Driver(make_plan("flight"))
    d.override("pause")
    d.replicate()
    assert d.wl().state == "replicating" and d.wl().all_replicated  # fact recorded, no advance
    assert d.send("tests-passed").outcome == "applied"
    assert d.wl().tests_passed and d.routed() == 0
    d.override("resume")
    assert (d.wl().state, d.routed()) == ("flighting", 10)


def test_alert_while_paused_is_recorded_and_rolls_back_at_resume():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.override("pause")
    r = d.send("alert")
    assert r.outcome == "applied" and d.routed() == 10
    d.override("resume")
    assert (d.wl().state, d.routed()) == ("rolled-back", 0)


def test_retry_after_rollback_leads_back_to_testing_and_promotes():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.send("alert")
    assert d.send("tests-passed").outcome == "rejected"  # rolled back: retry first
    assert d.override("retry").outcome == "applied"
    assert (d.wl().state, d.wl().attempt, d.routed()) == ("testing", 1, 0)
    d.send("tests-passed")
    assert (d.wl().flight, d.routed()) == (1, 10)
    # the first attempt's timer is stale now
    old = [e for e, _ in d.w.scheduler.scheduled if e["data"]["attempt"] == 0]
    assert old and all(d.w.service.handle(json.dumps(e)).outcome == "ignored" for e in old)
    d.send("flight-healthy", flight=1)
    d.tick(30)
    d.override("advance", actor=APPROVER)
    d.send("flight-healthy", flight=3)
    assert d.wl().state == "promoted"


def test_advance_grows_now_and_needs_an_approver():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    assert d.override("advance", actor=OPERATOR).outcome == "rejected"
    r = d.override("advance", actor=APPROVER)
    assert r.outcome == "applied" and (d.wl().flight, d.routed()) == (2, 50)


def test_abort_moves_users_back_and_is_terminal():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    assert d.override("abort").outcome == "applied"
    assert (d.wl().state, d.routed(), d.release.state) == ("aborted", 0, "aborted")
    assert d.send("flight-healthy", flight=1).outcome == "ignored"
    assert d.override("retry").outcome == "rejected"


def test_rollback_after_single_step_promotion_warns_that_the_link_was_severed():
    d = Driver(make_plan("single-step"))
    d.replicate()
    d.send("tests-passed")
    r = d.override("rollback")
    assert r.outcome == "applied" and "severed" in r.reason and d.routed() == 0


def test_load_balancer_shares_are_recorded_as_achieved():
    routing = {
        "provider": "load-balancer",
        "subscription": "00000000-0000-0000-0000-000000000000",
        "resource_group": "rg",
        "load_balancer": "lb",
        "backend_pool": "be",
        "source_addresses": ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
        "target_addresses": ["10.1.0.1", "10.1.0.2", "10.1.0.3"],
    }
    plan = make_plan(
        "flight",
        flights=[{"percent": 25}, {"percent": 50}, {"percent": 100}],
        workloads=[{"name": "w1", "assets": ["a"], "routing": routing}],
    )
    d = Driver(plan)
    d.send("asset-replicated", asset="a")
    d.send("tests-passed")
    assert d.wl().traffic_percent == 25  # 1 target of 4 addresses


# -- outcomes and authorization -----------------------------------------------------------------
def test_every_outcome_kind():
    d = Driver(make_plan("flight"))
    assert d.send("asset-replicated", asset="a", id="x").outcome == "applied"
    assert d.send("asset-replicated", asset="a", id="x").outcome == "duplicate"
    assert d.send("asset-replicated", asset="a").outcome == "ignored"  # already replicated
    assert d.send("tests-passed").outcome == "rejected"  # while replicating
    assert d.send("asset-replicated", asset="zzz").outcome == "rejected"  # unknown asset
    assert d.send("asset-replicated", "nope", asset="a").outcome == "rejected"  # unknown workload
    hist = d.w.store.list_history("r1")
    assert [e.outcome for e in hist] == ["applied", "duplicate", "ignored", "rejected", "rejected", "rejected"]
    assert all(e.reason for e in hist)


@pytest.mark.parametrize(
    "action,actor,allowed",
    [
        ("approve", APPROVER, True),
        ("approve", OPERATOR, False),
        ("advance", OPERATOR, False),
        ("pause", OPERATOR, True),
        ("pause", APPROVER, True),
        ("pause", "eve@contoso.com", False),
        ("rollback", "eve@contoso.com", False),
        ("abort", "", False),
    ],
)
def test_override_authorization(action, actor, allowed):
    d = Driver(make_plan("single-step", approval="manual"))
    r = d.override(action, actor=actor or "nobody")
    assert (r.outcome != "rejected") == allowed
    if not allowed:
        entry = d.w.store.list_history("r1")[-1]
        assert entry.outcome == "rejected" and entry.actor == (actor or "nobody")  # audited


def test_release_wide_override_applies_to_every_workload():
    d = Driver(staged_plan())
    r = d.override("pause", workload=None)
    assert [e.workload for e in r.entries] == ["w1", "w2"]
    assert all(d.wl(n).paused for n in ("w1", "w2"))


def test_unparseable_messages_and_unknown_releases_are_dead_lettered():
    d = Driver(make_plan("single-step"))
    for body in (b"not json", b"[]", json.dumps({"specversion": "0.3"}).encode()):
        assert d.w.service.handle(body).outcome == "dead-lettered"
    r = d.w.service.handle(event("tests-passed", "never-applied", "w1", "u1"))
    assert r.outcome == "dead-lettered" and "never applied" in r.reason
    assert len(d.w.dead.letters) == 4 and all(reason for _, reason in d.w.dead.letters)


def test_invalid_message_of_a_known_release_is_recorded_as_rejected():
    d = Driver(make_plan("flight"))
    r = d.w.service.handle(event("flight-healthy", "r1", "w1", "bad", flight="three"))
    assert r.outcome == "rejected" and "flight" in r.reason
    assert d.w.store.list_history("r1", "w1")[-1].outcome == "rejected"
    assert not d.w.dead.letters


# -- timers and crash leftovers -------------------------------------------------------------------
def test_a_lost_bake_timer_is_made_good_by_a_later_healthy_verdict():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.send("flight-healthy", flight=1)
    d.w.scheduler.scheduled.clear()  # the timer is lost
    d.w.clock.advance(31)
    assert d.routed() == 10
    r = d.send("flight-healthy", flight=1)
    assert r.outcome == "applied" and (d.wl().flight, d.routed()) == (2, 50)


def test_a_repeated_healthy_verdict_before_the_bake_is_over_changes_nothing():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    d.send("flight-healthy", flight=1)
    assert d.send("flight-healthy", flight=1).outcome == "ignored"


def test_an_early_timer_is_rescheduled_under_a_new_id():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    [(timer, due)] = d.w.scheduler.scheduled
    d.w.scheduler.scheduled.clear()
    d.w.clock.advance(10)  # delivered 20s early (clock skew)
    r = d.w.service.handle(json.dumps(timer))
    assert r.outcome == "ignored" and "early" in r.reason
    [(again, due_again)] = d.w.scheduler.scheduled
    assert again["id"] != timer["id"] and due_again == due  # a new id: the first one is burnt
    d.send("flight-healthy", flight=1)
    d.tick(20)
    assert (d.wl().flight, d.routed()) == (2, 50)


def test_a_timer_from_an_earlier_instance_of_the_same_flight_is_stale():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    [(old, _)] = d.w.scheduler.scheduled
    d.send("alert")
    d.override("retry")
    d.w.clock.advance(1)
    d.send("tests-passed")  # flight 1 again, a new instance
    old_same_attempt = {**old, "id": "replayed", "data": {**old["data"], "attempt": 1}}
    r = d.w.service.handle(json.dumps(old_same_attempt))
    assert r.outcome == "ignored" and "stale" in r.reason


def test_abort_moves_users_back_even_when_the_state_never_recorded_them():
    d = Driver(make_plan("flight"))
    d.replicate()
    d.w.network.shares[("r1", "w1")] = 10  # a crash after a routing change, before its commit
    d.override("abort")
    assert (d.wl().state, d.routed()) == ("aborted", 0)


# -- duplicates long after the fact ------------------------------------------------------------------
def test_the_id_archive_has_no_false_negatives_and_few_false_positives():
    from shared.domain.machine import digest
    from shared.domain.model import archive_add, archive_may_contain

    archived = [digest(f"old-{i}") for i in range(1000)]
    archive = archive_add(b"", archived)
    assert len(archive) == 4096
    assert all(archive_may_contain(archive, d) for d in archived)
    false_positives = sum(archive_may_contain(archive, digest(f"new-{i}")) for i in range(20_000))
    assert false_positives <= 5  # about 1 in 100,000 expected


def test_past_the_window_new_ids_need_no_marker_read_and_old_duplicates_are_still_found():
    d = Driver(make_plan("single-step"))
    d.replicate()
    reads = d.w.store.marker_reads
    for i in range(700):  # recorded facts that change nothing: tests keep failing
        assert d.send("tests-failed", id=f"fail-{i}").outcome == "applied"
    assert reads == []  # the window plus the archive answered every time
    release = d.w.store.get_release("r1", "w1").release  # the ids of w1's messages are kept in its scope
    assert release.processed == 702 and len(release.seen) == 512 and release.archived == 190
    r = d.send("tests-failed", id="fail-3")  # pushed out of the window long ago
    assert r.outcome == "duplicate" and reads == ["fail-3"]  # the archive says maybe; the marker confirms


# -- routing and state agree after conflicts and failures --------------------------------------------
class RivalFirst:
    """A store whose first commit loses to a rival that handles another message in between."""

    def __init__(self, inner, rival_turn):
        self.inner, self.rival_turn = inner, rival_turn

    def commit(self, snapshot, decision, event_id, now=None):
        if self.rival_turn:
            turn, self.rival_turn = self.rival_turn, None
            turn()
        self.inner.commit(snapshot, decision, event_id, now)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_move_made_by_an_attempt_that_lost_its_commit_is_undone():
    from shared.application.service import PromotionService

    d = Driver(make_plan("flight"))
    to_first_flight(d)
    w = d.w
    store = RivalFirst(w.store, lambda: w.service.handle(event("alert", "r1", "w1", "rival-alert")))
    host_b = PromotionService(
        store=store,
        routers=w.network.router,
        scheduler=w.scheduler,
        revoker=w.network,
        dead_letters=w.dead,
        clock=w.clock,
    )
    r = host_b.handle(event("override", "r1", "w1", "advance", action="advance", actor=APPROVER, reason="now"))
    # B moved users to 50%, lost its commit to the alert's rollback, re-decided: advance no longer applies
    assert r.outcome == "rejected"
    assert (d.wl().state, d.wl().traffic_percent, d.routed()) == ("rolled-back", 0, 0)
    assert ("r1", "w1", 50) in w.network.writes  # the move really happened, and was undone


def test_a_release_wide_promotion_that_fails_halfway_is_put_back_and_redelivery_completes_it():
    d = Driver(staged_plan())
    for name, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", name, asset=asset)
        d.send("tests-passed", name)
    d.w.network.broken.add("w2")
    approve = event("override", "r1", None, "approve-1", action="approve", actor=APPROVER, reason="CAB")
    with pytest.raises(RuntimeError):
        d.w.service.handle(approve)
    assert (d.routed("w1"), d.routed("w2")) == (0, 0)  # w1 was moved, then put back: not half promoted
    assert d.release.state == "awaiting-approval"
    d.w.network.broken.clear()
    assert d.w.service.handle(approve).outcome == "applied"  # the platform's redelivery
    assert (d.routed("w1"), d.routed("w2"), d.release.state) == (100, 100, "promoted")


# -- found in review ------------------------------------------------------------------------------
def test_staged_workload_rolled_back_and_retried_is_promoted_again_after_approval():
    d = Driver(staged_plan())
    for name, asset in (("w1", "a"), ("w2", "b")):
        d.send("asset-replicated", name, asset=asset)
        d.send("tests-passed", name)
    d.override("approve", actor=APPROVER, workload=None)
    d.override("rollback", workload="w1")
    d.override("retry", workload="w1")
    d.send("tests-passed", "w1")
    assert (d.wl("w1").state, d.release.state) == ("ready", "awaiting-approval")  # a retry is approved anew
    assert d.override("approve", actor=APPROVER, workload="w1").outcome == "applied"
    assert (d.wl("w1").state, d.routed("w1"), d.release.state) == ("promoted", 100, "promoted")


def test_staged_abort_of_one_workload_does_not_strand_the_others():
    d = Driver(staged_plan())
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    d.override("approve", actor=APPROVER, workload="w1")
    assert d.wl("w1").state == "ready"
    d.override("abort", workload="w2")
    assert (d.wl("w1").state, d.routed("w1")) == ("promoted", 100)
    assert d.release.state == "promoted"


def test_retry_passes_the_manual_approval_gate_again():
    d = Driver(make_plan("single-step", approval="manual"))
    d.replicate()
    d.send("tests-passed")
    d.override("approve", actor=APPROVER)
    d.override("rollback")
    d.override("retry")
    d.send("tests-passed")
    assert (d.wl().state, d.routed(), d.release.state) == ("ready", 0, "awaiting-approval")


def test_with_on_alert_pause_a_verdict_from_before_the_alert_no_longer_counts():
    d = Driver(make_plan("flight", on_alert="pause"))
    to_first_flight(d)
    d.w.clock.advance(5)
    d.send("flight-healthy", flight=1)
    d.w.clock.advance(5)
    d.send("alert")
    d.tick(30)
    d.override("resume")
    assert (d.wl().flight, d.routed()) == (1, 10)  # needs a fresh healthy verdict
    d.send("flight-healthy", flight=1)
    assert (d.wl().flight, d.routed()) == (2, 50)


def test_an_id_first_seen_on_an_invalid_message_is_not_burnt():
    d = Driver(make_plan("single-step"))
    assert d.send("asset-replicated", id="x1", asset=12).outcome == "rejected"  # invalid: asset not text
    assert d.send("asset-replicated", id="x1", asset="a").outcome == "applied"


def test_a_verdict_stamped_a_little_before_the_flight_began_counts_within_clock_skew():
    d = Driver(make_plan("flight"))
    to_first_flight(d)
    stamped = d.wl().flight_started_at - timedelta(seconds=3)  # the monitor's clock runs 3s behind
    assert d.send("flight-healthy", flight=1, time=stamped).outcome == "applied"


def test_a_redelivered_message_puts_its_workloads_routing_back_to_the_recorded_share():
    d = Driver(make_plan("single-step", on_drift="reapply"))  # with report, see test_who_acted_and_why.py
    d.replicate()
    d.send("tests-passed", id="t1")
    d.w.network.shares[("r1", "w1")] = 0  # e.g. routing undone after a commit whose response was lost
    assert d.send("tests-passed", id="t1").outcome == "duplicate"
    assert d.routed() == 100
