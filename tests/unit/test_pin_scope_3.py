"""Pins of how much of a release a message is decided on (shared/domain/machine/scope.py): which changes of a
shard's facts make the service look at the whole release, when a staged release's shards are ready, and the
text of an advance refused inside denied periods that never end within the search (flight.py's 'never')."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.machine.scope import ShardFacts, needs_look, release_moves
from shared.domain.model import ReleaseState, Tally, WorkloadState
from shared.domain.plan import validate_plan
from tests.fakes import T0
from tests.unit.test_machine import APPROVER, Driver, make_plan
from tests.unit.test_pin_flight_rules import ready, said

S = WorkloadState


def facts(*states: WorkloadState, unapproved: int = 0, ready: bool = False, until=None) -> ShardFacts:
    counts: dict[WorkloadState, int] = {}
    for s in states:
        counts[s] = counts.get(s, 0) + 1
    return ShardFacts(Tally(tuple(sorted(counts.items())), unapproved), ready, until)


def test_a_shard_change_the_release_state_may_turn_on_needs_a_look():
    # each pair differs in one thing a release-level condition reads
    assert needs_look(facts(S.REPLICATING), facts(S.READY), T0)  # every open workload ready now
    assert needs_look(facts(S.REPLICATING), facts(S.ABORTED, S.READY), T0)  # ... beside one that left
    assert needs_look(facts(S.FINALIZED), facts(S.FINALIZED, S.PROMOTED), T0)  # no longer all finalized/aborted
    assert needs_look(facts(S.PROMOTED), facts(S.FINALIZED, S.PROMOTED), T0)  # a first one finalized
    assert needs_look(facts(S.ABORTED, S.FINALIZED), facts(S.ABORTED, S.FINALIZED, S.PROMOTED), T0)  # not finalized
    assert needs_look(facts(S.REPLICATING), facts(S.REPLICATING, S.ROLLED_BACK), T0)  # a first one rolled back
    assert needs_look(facts(S.REPLICATING), facts(S.PROMOTED, S.REPLICATING), T0)  # a first one promoted
    assert needs_look(facts(S.ROLLED_BACK), facts(S.REPLICATING, S.ROLLED_BACK), T0)  # no longer all ended
    assert needs_look(facts(S.REPLICATING), facts(S.READY, S.REPLICATING, unapproved=1), T0)  # one awaits approval


def test_a_shard_change_no_release_level_condition_reads_needs_no_look():
    assert not needs_look(facts(S.ROLLED_BACK), facts(S.ABORTED, S.ROLLED_BACK), T0)  # still all ended, one back
    assert not needs_look(facts(S.REPLICATING), facts(S.TESTING), T0)
    assert not needs_look(facts(S.FINALIZED, S.FINALIZED), facts(S.FINALIZED), T0)
    assert not needs_look(facts(S.READY, unapproved=1), facts(S.READY, S.READY, unapproved=2), T0)


def test_a_shard_is_ready_until_its_end_and_not_after_it_nor_when_not_ready():
    at = T0 + timedelta(minutes=5)
    assert facts(S.READY, ready=True, until=at).ready_at(at)
    assert not facts(S.READY, ready=True, until=at).ready_at(at + timedelta(microseconds=1))
    assert facts(S.READY, ready=True).ready_at(at)
    assert not facts(S.READY, ready=False).ready_at(at)
    assert not facts(S.READY, ready=False, until=at).ready_at(at)


def staged(approval: str = "auto"):
    return validate_plan(
        make_plan(
            "staged", approval=approval, workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]
        )
    )


def test_a_staged_release_moves_at_once_only_when_every_shard_is_ready():
    plan, known = staged(), ReleaseState.IN_PROGRESS
    ready_, waiting = facts(S.READY, ready=True), facts(S.READY, S.TESTING)
    assert release_moves(plan, [ready_, ready_], known, T0)
    assert not release_moves(plan, [ready_, waiting], known, T0)
    assert not release_moves(plan, [waiting], known, T0)
    assert not release_moves(plan, [], ReleaseState.PROMOTED, T0)  # no shard: nothing moves (all() of none)
    expired = facts(S.READY, ready=True, until=T0 - timedelta(seconds=1))  # its data-sync report got too old
    assert not release_moves(plan, [ready_, expired], known, T0)


def test_a_release_of_another_model_moves_only_when_its_state_does():
    plan = validate_plan(make_plan("single-step"))
    ready_ = facts(S.READY, ready=True)  # facts a staged release's shard would have
    assert not release_moves(plan, [ready_], ReleaseState.IN_PROGRESS, T0)
    assert not release_moves(plan, [], ReleaseState.PROMOTED, T0)  # no workload counts as all promoted
    assert release_moves(plan, [facts(S.PROMOTED)], ReleaseState.IN_PROGRESS, T0)


def test_the_state_compared_is_the_one_the_plans_approval_mode_gives():
    manual = validate_plan(make_plan("single-step", approval="manual"))
    awaiting = [facts(S.READY, unapproved=1)]
    assert not release_moves(manual, awaiting, ReleaseState.AWAITING_APPROVAL, T0)
    assert release_moves(manual, awaiting, ReleaseState.IN_PROGRESS, T0)
    auto = validate_plan(make_plan("single-step", approval="auto"))
    assert release_moves(auto, awaiting, ReleaseState.AWAITING_APPROVAL, T0)


def test_advance_inside_denied_periods_that_end_after_any_opening_searched_says_never():
    # back-to-back denied periods (each at most 366 days) past MAX_SEARCH_DAYS: the window opens no more
    deny = [
        {"from": "2026-11-26T22:10:00Z", "to": "2027-11-01T00:00:00Z", "reason": "freeze"},
        {"from": "2027-11-01T00:00:00Z", "to": "2028-10-01T00:00:00Z", "reason": "freeze"},
        {"from": "2028-10-01T00:00:00Z", "to": "2029-09-01T00:00:00Z", "reason": "freeze"},
    ]
    allow = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "22:00", "to": "22:30"}]
    d = ready(Driver(make_plan("flight", windows={"timezone": "UTC", "deny": deny, "allow": allow})))
    d.w.clock.advance(11 * 60)
    assert said(d.override("advance", APPROVER)) == [
        (
            "rejected",
            "advance inside a denied period: freeze (until never); the plan's windows.advance_when_denied is false",
        )
    ]
