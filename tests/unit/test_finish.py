"""v2 §8 through the service with fakes: the data-sync gate, hypercare, finalize and decommission failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.errors import PlanError
from shared.domain.finishing import data_sync_hold, finish_holds
from shared.domain.plan import validate_plan
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

SYNC = {"max_lag": "5s", "max_age": "2m"}
VM = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
)


def synced_plan(model: str, *, workloads: int = 1, **overrides) -> dict:
    plan = make_plan(model, **overrides)
    plan["workloads"] = [{"name": f"w{i + 1}", "assets": ["a", "b"], "data_sync": SYNC} for i in range(workloads)]
    return plan


def ready(d: Driver, name: str = "w1") -> None:
    d.replicate(name)
    d.send("tests-passed", name)


def lag(d: Driver, seconds: float, name: str = "w1", **kw):
    return d.send("replication-lag", name, lag_seconds=seconds, **kw)


def history(d: Driver, name: str = "w1"):
    return d.w.store.list_history("r1", name)


# -- the data-sync gate -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "before, reason",
    [
        (None, "no replication-lag reported yet"),
        (9, "latest lag 9s is above max_lag 5s"),
        ("stale", "older than max_age 120s"),
    ],
)
def test_single_step_promotion_is_held_until_a_fresh_report_within_bounds(before, reason):
    d = Driver(synced_plan("single-step"))
    if before == "stale":
        lag(d, 1)
        d.tick(121)
    elif before is not None:
        lag(d, before)
    ready(d)
    assert (d.wl().state, d.routed()) == ("ready", 0)
    assert "held by data-sync" in history(d)[-1].reason and reason in history(d)[-1].reason
    assert data_sync_hold(d.release, d.wl(), d.w.clock.now()).gate == "data-sync"
    r = lag(d, 5)  # at the limit is within bounds: it moves by itself, no other message needed
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "promoted", 100)
    assert "data-sync gate open" in history(d)[-1].reason and history(d)[-1].to_state == "promoted"


def test_flight_one_and_every_later_flight_are_held_but_rollback_never_is():
    d = Driver(synced_plan("flight"))
    ready(d)
    assert d.wl().state == "ready"
    lag(d, 1)
    assert (d.wl().state, d.routed()) == ("flighting", 10)
    d.send("flight-healthy", flight=1)
    lag(d, 30)  # the replica falls behind during the bake
    d.tick(30)  # bake over and healthy: the growth is held
    assert (d.wl().flight, d.routed()) == (1, 10)
    assert "held by data-sync: latest lag 30s" in history(d)[-1].reason
    assert d.override("advance", APPROVER).outcome == "rejected"  # by hand too: moving users loses writes
    lag(d, 2)
    assert (d.wl().flight, d.routed()) == (2, 50)
    lag(d, 60)
    r = d.send("alert", description="errors")  # rollbacks are never held
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "rolled-back", 0)


def test_last_flight_healthy_promotes_at_100_percent_without_a_fresh_report():
    d = Driver(synced_plan("flight", flights=[{"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}]))
    ready(d)
    lag(d, 0)
    d.send("flight-healthy", flight=1)
    assert d.wl().flight == 2
    d.tick(600)  # the report is stale now, but promotion at 100% moves nobody
    d.send("flight-healthy", flight=2)
    assert (d.wl().state, d.routed()) == ("promoted", 100)


def test_staged_release_waits_for_every_workload_in_sync():
    d = Driver(synced_plan("staged", workloads=2))
    for name in ("w1", "w2"):
        ready(d, name)
        lag(d, 1, name)
    lag(d, 40, "w2")
    r = d.override("approve", APPROVER, workload=None)
    assert r.outcome == "applied" and {d.wl(n).state for n in ("w1", "w2")} == {"ready"}
    assert "release held by w2 data-sync: latest lag 40s" in r.reason
    lag(d, 3, "w2")
    assert [d.wl(n).state for n in ("w1", "w2")] == ["promoted", "promoted"]
    assert [d.routed(n) for n in ("w1", "w2")] == [100, 100]


def test_lag_reports_are_recorded_quietly_and_deduplicated():
    d = Driver(synced_plan("single-step"))
    lag(d, 1)  # the first report opens the gate: one entry
    entries = len(history(d))
    for i in range(100):
        d.w.clock.advance(60)
        r = lag(d, 1 + i % 3, id=f"lag-{i}")
        assert r.outcome == "applied"
    assert len(history(d)) == entries  # a report every minute for 100 minutes: no new entry
    assert d.wl().lag_reports == 101 and d.wl().lag_seconds == 1.0
    assert d.w.store.marker_outcomes[("r1", "lag-99")] == "applied"
    assert lag(d, 1, id="lag-99").outcome == "duplicate"
    assert d.wl().lag_reports == 101
    lag(d, 50)  # the gate closes: an entry
    assert len(history(d)) == entries + 2 and "above max_lag" in history(d)[-1].reason


def test_lag_reports_out_of_order_or_for_unknown_assets():
    d = Driver(synced_plan("single-step"))
    newer = d.w.clock.now()
    lag(d, 1, time=newer)
    assert lag(d, 99, time=newer - timedelta(seconds=10)).outcome == "ignored"
    assert d.wl().lag_seconds == 1.0
    assert lag(d, 1, asset="zz").outcome == "rejected"
    assert lag(d, 2, asset="a").outcome == "applied"


def test_invalid_lag_reports_are_rejected_with_the_reason():
    d = Driver(synced_plan("single-step"))
    for bad in (-1, "fast", None, True, "5", float("nan")):
        r = d.send("replication-lag", lag_seconds=bad)
        assert r.outcome == "rejected" and "lag_seconds" in r.reason


# -- hypercare --------------------------------------------------------------------------------
def promoted(plan: dict) -> Driver:
    d = Driver(plan)
    ready(d)
    assert d.wl().state == "promoted"
    return d


def test_an_alert_in_hypercare_rolls_back_and_after_hypercare_it_does_not():
    d = promoted(make_plan("single-step", hypercare="1h"))
    r = d.send("alert", severity="Sev1")
    assert (r.outcome, d.wl().state, d.routed()) == ("applied", "rolled-back", 0)
    assert "during hypercare" in r.reason
    d2 = promoted(make_plan("single-step", hypercare="1h"))
    d2.tick(3600)
    r = d2.send("alert")
    assert (r.outcome, d2.wl().state, d2.routed()) == ("ignored", "promoted", 100)


def test_an_alert_in_hypercare_with_on_alert_pause_holds_the_share():
    d = promoted(make_plan("single-step", hypercare="1h", on_alert="pause"))
    d.send("alert")
    assert (d.wl().state, d.wl().paused, d.routed()) == ("promoted", True, 100)


def test_hypercare_timer_says_when_it_ends_and_finalize_waits_for_it():
    d = promoted(make_plan("single-step", hypercare="2h", decommission={"provider": "local"}))
    r = d.override("finalize", APPROVER)
    assert r.outcome == "rejected" and "in hypercare until" in r.reason
    assert [h.gate for h in finish_holds(d.release, d.wl(), d.w.clock.now())] == ["hypercare"]
    results = d.tick(7200)
    assert [x.outcome for x in results] == ["applied"] and "an approver may finalize" in results[0].reason
    assert [h.gate for h in finish_holds(d.release, d.wl(), d.w.clock.now())] == ["finalize"]
    assert d.override("finalize", OPERATOR).outcome == "rejected"  # approvers only
    request, r = d.finalize(APPROVER)
    assert "finalize requested by" in request.reason and "rollback is refused from now on" in request.reason
    assert (r.outcome, d.wl().state, d.release.state) == ("applied", "finalized", "finalized")
    assert d.w.decommissioner.off == [("r1", "w1")]
    assert "source: source of w1 powered off" in history(d)[-1].reason
    assert d.wl().finalized_by == APPROVER


@pytest.mark.parametrize("action", ["rollback", "retry", "abort"])
def test_after_finalize_rollback_retry_and_abort_are_rejected_naming_who_and_when(action):
    d = promoted(make_plan("single-step"))
    d.finalize(APPROVER)
    r = d.override(action)
    assert r.outcome == "rejected"
    assert f"finalized by {APPROVER} at 2026-11-26T22:00:00Z" in r.reason
    assert (d.wl().state, d.routed()) == ("finalized", 100)


def test_auto_approval_finalizes_by_itself_at_hypercare_end():
    d = promoted(make_plan("single-step", hypercare="30m", decommission={"approval": "auto"}))
    assert d.tick(1799) == [] and d.wl().state == "promoted"
    d.tick(1)
    assert (d.wl().state, d.wl().finalize_requested_by) == ("promoted", "promote")  # the request, committed first
    d.tick(0)
    assert (d.wl().state, d.wl().finalized_by) == ("finalized", "promote")


def test_a_hypercare_longer_than_a_timer_can_wait_hops_and_still_finalizes_on_time():
    d = promoted(make_plan("single-step", hypercare="10d", decommission={"approval": "auto"}))
    assert [due - d.w.clock.now() for _, due in d.w.scheduler.scheduled] == [timedelta(days=7)]
    early = d.tick(7 * 86400)
    assert [r.outcome for r in early] == ["ignored"] and "arrived early" in early[0].reason
    assert d.wl().state == "promoted"
    d.tick(3 * 86400)
    d.tick(0)
    assert (d.wl().state, d.wl().finalized_at) == ("finalized", d.w.clock.now())


def test_auto_approval_while_paused_finalizes_at_resume():
    d = promoted(make_plan("single-step", hypercare="30m", decommission={"approval": "auto"}))
    d.override("pause")
    d.tick(1800)
    assert d.wl().state == "promoted"
    d.override("resume")
    d.tick(0)
    assert d.wl().state == "finalized"


def test_a_failed_decommission_leaves_the_workload_promoted_visible_and_retried():
    d = promoted(make_plan("single-step", decommission={"provider": "local"}))
    d.w.decommissioner.down = True
    _, r = d.finalize(APPROVER)
    w = d.wl()
    assert (r.outcome, w.state, w.decommission_failures) == ("applied", "promoted", 1)
    assert "decommission failed" in r.reason and "unreachable" in w.decommission_error
    assert d.release.state == "promoted"
    assert "decommission failed" in finish_holds(d.release, w, d.w.clock.now())[0].reason
    assert d.override("rollback").outcome == "rejected"  # the source may already be partly off
    d.tick(30)  # first retry: still down
    assert (d.wl().state, d.wl().decommission_failures) == ("promoted", 2)
    d.w.decommissioner.down = False
    d.tick(60)
    assert (d.wl().state, d.wl().finalized_by) == ("finalized", APPROVER)
    assert d.w.decommissioner.off == [("r1", "w1")]


def test_a_crash_between_decommission_and_commit_powers_off_once():
    d = promoted(make_plan("single-step"))
    assert d.override("finalize", APPROVER).outcome == "applied"  # the request is committed: nothing is off yet
    assert d.w.decommissioner.off == [] and d.wl().finalize_requested_by == APPROVER
    [(decommission, _)] = d.w.scheduler.scheduled
    commit = d.w.store.commit

    def crash(*args, **kwargs):
        d.w.store.commit = commit
        raise RuntimeError("host killed")

    d.w.store.commit = crash
    body = json.dumps(decommission)
    with pytest.raises(RuntimeError):
        d.w.service.handle(body)
    assert d.wl().state == "promoted"  # nothing committed
    assert d.override("rollback").outcome == "rejected"  # the source may be off: users are never sent back
    assert d.w.service.handle(body).outcome == "applied"  # the redelivery
    assert d.wl().state == "finalized"
    assert d.w.decommissioner.off == [("r1", "w1")] and len(d.w.decommissioner.requests) == 2
    assert "already off" in history(d)[-1].reason


def test_release_finalized_only_when_every_workload_is_finalized_or_aborted():
    plan = make_plan("single-step")
    plan["workloads"] = [{"name": n, "assets": ["a"]} for n in ("w1", "w2", "w3")]
    d = Driver(plan)
    for n in ("w1", "w2"):
        d.send("asset-replicated", n, asset="a")
        d.send("tests-passed", n)
    d.override("abort", workload="w3")
    d.finalize(APPROVER, workload="w1")
    assert d.release.state == "promoted"
    d.finalize(APPROVER, workload=None)
    assert d.release.state == "finalized"


# -- the plan ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, path",
    [
        ({"hypercare": "forever"}, "hypercare"),
        ({"decommission": {"provider": "azure-vm"}}, "decommission"),
        ({"decommission": {"provider": "webhook", "url_setting": "not a name"}}, "decommission.url_setting"),
        ({"decommission": {"provider": "local", "approval": "sometimes"}}, "decommission.approval"),
        ({"decommission": {"provider": "azure-vm", "source_vms": ["vm-1"]}}, "decommission.source_vms"),
    ],
)
def test_invalid_finish_sections_are_named(change, path):
    with pytest.raises(PlanError) as err:
        validate_plan(make_plan("single-step", **change))
    assert path in str(err.value)


def test_release_wide_source_vms_cannot_serve_two_workloads():
    plan = make_plan("single-step", decommission={"provider": "azure-vm", "source_vms": [VM + "vm-1"]})
    plan["workloads"].append({"name": "w2", "assets": ["c"]})
    with pytest.raises(PlanError) as err:
        validate_plan(plan)
    assert "decommission.source_vms" in str(err.value)
    plan["workloads"][1]["decommission"] = {"provider": "webhook", "url_setting": "RUNBOOK_URL"}
    assert validate_plan(plan).workload("w2").decommission.provider == "webhook"


@pytest.mark.parametrize(
    "sync, problem",
    [
        ({"max_lag": "5s"}, "max_age"),
        ({"max_lag": -1, "max_age": "1m"}, "negative"),
        ({"max_lag": "5s", "max_age": 0}, "at least 1s"),
        ({"max_lag": "5s", "max_age": "1m", "x": 1}, "unknown"),
    ],
)
def test_invalid_data_sync_is_named(sync, problem):
    plan = make_plan("single-step")
    plan["workloads"][0]["data_sync"] = sync
    with pytest.raises(PlanError) as err:
        validate_plan(plan)
    assert "workloads[0].data_sync" in str(err.value) and problem in str(err.value)


# -- properties -------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from shared.domain.finishing import hypercare_until  # noqa: E402

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("lag"), st.sampled_from([0, 3, 5, 6, 40])),
        st.tuples(st.just("tick"), st.sampled_from([1, 30, 121, 3600])),
        st.tuples(st.just("tests-passed"), st.none()),
        st.tuples(st.just("healthy"), st.none()),
        st.tuples(st.just("alert"), st.none()),
        st.tuples(st.sampled_from(["finalize", "rollback", "retry", "advance", "pause", "resume"]), st.none()),
        st.tuples(st.just("provider"), st.booleans()),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=2 * settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS, st.sampled_from(["single-step", "flight"]))
def test_no_move_while_out_of_sync_nothing_finalized_early_and_nothing_moved_back_after(steps, model):
    plan = synced_plan(model, hypercare="1h")
    if model == "flight":
        plan["flights"] = [{"percent": 10, "bake": "30s"}, {"percent": 50, "bake": "0s"}, {"percent": 100}]
    d = Driver(plan)
    d.replicate()
    finalized_at = None
    for kind, arg in steps:
        before, routed_before = d.wl(), d.routed()
        if kind == "lag":
            lag(d, arg)
        elif kind == "tick":
            d.tick(arg)
        elif kind == "tests-passed":
            d.send("tests-passed")
        elif kind == "healthy":
            d.send("flight-healthy", flight=max(1, d.wl().flight))
        elif kind == "alert":
            d.send("alert")
        elif kind == "provider":
            d.w.decommissioner.down = arg
        else:
            d.override(kind, APPROVER)
        w, now = d.wl(), d.w.clock.now()
        if d.routed() > routed_before:  # users moved onto the migrated system: the data was in sync
            assert data_sync_hold(d.release, w, now) is None, (kind, before, w)
            assert w.lag_at is not None and w.lag_seconds <= 5 and (now - w.lag_at).total_seconds() <= 120
        if w.state == "finalized":
            assert ("r1", "w1") in d.w.decommissioner.off  # never before the source is off
            assert w.finalized_at >= hypercare_until(d.release, w)  # never within hypercare
            finalized_at = finalized_at or w.finalized_at
        if finalized_at is not None:  # a finalized workload never gets traffic moved back
            assert (w.state, d.routed(), w.finalized_at) == ("finalized", 100, finalized_at)


def test_a_lag_report_dated_before_1970_is_rejected_and_not_kept():
    """Its time becomes the workload's lag_at; year 1 made the release unreadable from Azurite (and a write Azure
    refuses): tests/integration/test_store_round_trip.py."""
    d = Driver(synced_plan("single-step"))
    for when in (datetime(1, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)):
        r = lag(d, 1, time=when)
        assert r.outcome == "rejected" and "before 1970" in r.reason, r.reason
        assert d.wl().lag_at is None and d.wl().lag_reports == 0
    assert lag(d, 1, time=datetime(1970, 1, 1, tzinfo=UTC)).outcome == "applied"
