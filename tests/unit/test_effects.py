"""The service's effects against strict fakes: a router that achieves another share than asked, a revoker whose
calls are counted, an attempt that loses its commit, and providers that only know 0% and 100%."""

from __future__ import annotations

import pytest

from shared.application.service import PromotionService
from shared.domain.machine import SetTraffic, decide
from shared.domain.messages import parse_message
from shared.domain.model import new_release
from shared.domain.plan import validate_plan
from shared.domain.shares import realisable_share
from tests.fakes import T0, event, world

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
ROUTE_TABLE = {
    "provider": "route-table",
    "subscription": "00000000-0000-0000-0000-000000000000",
    "resource_group": "rg",
    "route_table": "rt",
    "route": "to-app",
    "source_next_hop": "10.0.0.4",
    "target_next_hop": "10.1.0.4",
}
REVOKE = {
    "subscription": "00000000-0000-0000-0000-000000000000",
    "resource_group": "rg",
    "network_security_group": "nsg",
    "rule": "deny-migration-team",
    "priority": 100,
    "source_prefixes": ["10.50.0.0/24"],
}


def plan(model: str = "single-step", **extra) -> dict:
    doc = {
        "release": "r1",
        "model": model,
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": "w1", "assets": ["a"]}],
    }
    if model == "flight":
        doc["flights"] = [{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}]
    doc.update(extra)
    return doc


def ready_to_move(w, **extra) -> None:
    w.service.apply(validate_plan(plan(**extra)))
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))


def test_a_router_that_achieves_another_share_leaves_nothing_moved_and_says_why():
    w = world()
    ready_to_move(w)
    w.network.achieves["w1"] = lambda asked: min(asked, 50)  # e.g. a pool that cannot take every address
    result = w.service.handle(event("tests-passed", "r1", "w1", "t1"))
    # a refusal that waiting will not change: recorded, not retried, not dead-lettered (contract §18)
    assert result.outcome == "rejected" and "asked for 100%, the router achieved 50%" in result.reason
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.traffic_percent, workload.tests_passed) == ("testing", 0, False)
    assert "not carried out" in (workload.stuck or "")
    assert w.network.writes == [("r1", "w1", 50), ("r1", "w1", 0)], "the partial move was put back"
    assert w.network.shares[("r1", "w1")] == 0 and w.dead.letters == []

    del w.network.achieves["w1"]  # the network is mended: the pipeline's next result promotes
    assert w.service.handle(event("tests-passed", "r1", "w1", "t2")).outcome == "applied"
    assert w.network.shares[("r1", "w1")] == 100


def test_access_is_revoked_once_per_promotion_and_never_again_on_redelivery():
    w = world()
    w.service.apply(validate_plan(plan("staged", approval="auto", revoke_access=REVOKE)))
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    assert w.network.revocations == []
    last = event("tests-passed", "r1", "w1", "t1")
    result = w.service.handle(last)
    assert result.outcome == "applied" and w.store.get_release("r1").release.access_revoked
    assert [release for release, _ in w.network.revocations] == ["r1"]
    assert w.network.revocations[0][1].rule == "deny-migration-team"
    assert "fake access r1: deny-migration-team allowed -> denied" in result.entries[-1].reason, (
        "the change made is in the history"
    )
    assert w.service.handle(last).outcome == "duplicate"
    w.service.handle(event("alert", "r1", "w1", "late-alert"))
    assert len(w.network.revocations) == 1


def test_a_revocation_whose_commit_is_lost_is_repeated_by_the_re_decision():
    w = world()
    w.service.apply(validate_plan(plan("staged", approval="auto", revoke_access=REVOKE)))
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    w.store.fail_next_commits = 1  # another writer commits first: the attempt re-reads and re-decides
    assert w.service.handle(event("tests-passed", "r1", "w1", "t1")).outcome == "applied"
    assert len(w.network.revocations) == 2, "revoked by the lost attempt and again by the one that committed"
    assert w.store.get_release("r1").release.access_revoked


class RivalFirst:
    """The store, except that a rival's message is committed between our read and our first commit."""

    def __init__(self, inner, rival):
        self.inner, self.rival = inner, rival

    def commit(self, snapshot, decision, event_id, now=None):
        rival, self.rival = self.rival, None
        if rival:
            rival()
        self.inner.commit(snapshot, decision, event_id, now)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_routing_moved_by_an_attempt_whose_revocation_failed_and_that_lost_its_commit_is_put_back():
    """A failed revocation rewrites the decision's effects to its retry alone (revocation_failed): the attempt's
    routing moves were no longer in the decision the service kept, so when its commit was lost to a rival, the
    re-decision (which moves nobody) did not put them back: users stayed at 100% on a workload recorded at 0%."""
    w = world()
    ready_to_move(w, model="staged", approval="auto", revoke_access=REVOKE)
    pause = event("override", "r1", "w1", "pause", action="pause", actor=OPERATOR, reason="CAB freeze")
    service = PromotionService(
        store=RivalFirst(w.store, lambda: w.service.handle(pause)),
        routers=w.network.router,
        scheduler=w.scheduler,
        revoker=w.network,
        dead_letters=w.dead,
        clock=w.clock,
    )
    w.network.revoke_failures = 1  # the lost attempt's revocation fails
    result = service.handle(event("tests-passed", "r1", "w1", "t1"))
    assert result.outcome == "applied", result.reason
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.paused, workload.traffic_percent) == ("testing", True, 0)
    assert w.network.writes == [("r1", "w1", 100), ("r1", "w1", 0)], "users left where the state says they are not"


def test_routing_moved_by_an_attempt_that_lost_its_commit_is_put_back_when_the_new_decision_moves_nothing():
    w = world()
    ready_to_move(w, model="flight")
    pause = event("override", "r1", "w1", "pause", action="pause", actor=OPERATOR, reason="CAB freeze")
    service = PromotionService(
        store=RivalFirst(w.store, lambda: w.service.handle(pause)),
        routers=w.network.router,
        scheduler=w.scheduler,
        revoker=w.network,
        dead_letters=w.dead,
        clock=w.clock,
    )
    result = service.handle(event("tests-passed", "r1", "w1", "t1"))
    # the first attempt started flight 1 (10%), lost its commit to the pause, and re-decided: paused, so the
    # new decision moves nothing itself; routing must still return to the share it records
    assert result.outcome == "applied"
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.tests_passed, workload.paused, workload.traffic_percent) == (
        "testing",
        True,
        True,
        0,
    )
    assert w.network.writes == [("r1", "w1", 10), ("r1", "w1", 0)]


@pytest.mark.parametrize("percent, share", [(0, 0), (100, 100), (10, None), (99, None), (1, None)])
def test_all_or_nothing_providers_realise_exactly_0_and_100(percent, share):
    routing = validate_plan(plan(workloads=[{"name": "w1", "assets": ["a"], "routing": ROUTE_TABLE}])).routing_of("w1")
    assert realisable_share(routing, percent) == share


def test_a_promotion_on_an_all_or_nothing_provider_can_be_rolled_back():
    release = new_release(validate_plan(plan(workloads=[{"name": "w1", "assets": ["a"], "routing": ROUTE_TABLE}])))
    release = release.evolve(
        workloads={
            "w1": release.workloads["w1"].evolve(
                state="promoted", assets={"a": True}, tests_passed=True, traffic_percent=100
            )
        }
    )
    rollback = parse_message(event("override", "r1", "w1", "rb", action="rollback", actor=OPERATOR, reason="bad"))
    decision = decide(release, rollback, T0)
    assert decision.outcome == "applied"
    assert [(e.workload, e.percent) for e in decision.effects if isinstance(e, SetTraffic)] == [("w1", 0)]
    assert decision.release.workloads["w1"].state == "rolled-back"


def test_an_unknown_provider_is_named():
    class Routing:
        provider = "carrier-pigeon"

    with pytest.raises(ValueError, match="unknown routing provider 'carrier-pigeon'"):
        realisable_share(Routing(), 50)


def test_abort_is_refused_on_a_promoted_workload_and_leaves_users_where_they_are():
    w = world()
    ready_to_move(w)
    w.service.handle(event("tests-passed", "r1", "w1", "t1"))
    result = w.service.handle(event("override", "r1", "w1", "ab", action="abort", actor=OPERATOR, reason="x"))
    assert result.outcome == "rejected" and "use override rollback" in result.reason
    workload = w.store.get_release("r1").release.workloads["w1"]
    assert (workload.state, workload.traffic_percent, w.network.shares[("r1", "w1")]) == ("promoted", 100, 100)
