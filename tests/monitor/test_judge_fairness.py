"""A release whose Log Analytics queries need more than the budget: every workload is judged in turn, none is
starved by the ones listed before it."""

from __future__ import annotations

from collections import Counter

from shared.adapters.metrics import metrics_sources
from shared.application.judge import Judge
from tests.fakes import world
from tests.judge_fakes import MemoryJudgeStore, ServicePublisher, flighting_release
from tests.monitor.test_monitor_sources import WS, logs_check


def per_workload(name: str) -> str:
    """Contract §10's example: a query of one workload's own, without a workload column."""
    return f"requests | where cloud_RoleName == '{name}' | summarize value = 0.1, samples = count()"


def test_a_release_needing_more_queries_than_the_budget_judges_every_workload_in_turn(monitor, settings_monitor):
    """Per-workload query texts (contract §10's example) in a release whose queries need more than the budget:
    4 workloads, one query each every 30 s, a budget of 2 per 30 s. The ones listed first must not take every
    slot round after round while the others are never evaluated (their bake never starts to count)."""
    w = world()
    monitor.clock = lambda: w.clock.now().timestamp()
    monitor.workspace(WS, lambda query, timespan: ([("value", "real"), ("samples", "long")], [[0.1, 500]]))
    names = ["w0", "w1", "w2", "w3"]
    spec = {"interval": "30s", "ingestion_delay": "0s", "failure_limit": 1, "inconclusive_limit": 1}
    doc = {
        "release": "wave-1",
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "1h"}, {"percent": 100, "bake": "0s"}],
        "budgets": {"logs_queries_per_30s": 3},
        "workloads": [
            {
                "name": n,
                "assets": ["vm-1"],
                "health": {**spec, "checks": [{**logs_check(query=per_workload(n)), "min_samples": 1}]},
            }
            for n in names
        ],
    }
    flighting_release(w.store, doc, w.clock.now())
    judge = Judge(
        store=w.store,
        records=MemoryJudgeStore(),
        source=metrics_sources(settings_monitor, lambda: None),
        publisher=ServicePublisher(w.service),
        clock=w.clock,
    )
    evaluated: Counter = Counter()
    for _ in range(8):
        w.clock.advance(30)
        judge.round()
        evaluated.update(n for n, r in judge.records.load("wave-1").items() if r.at == w.clock.now())
    assert monitor.throttled == {} and sum(evaluated.values()) == 16  # 2 a round: the budget, all used
    assert min(evaluated[n] for n in names) >= 3, evaluated  # each in turn, none starved


def _release(name: str, interval: str, bake: str, budget: int | None = None) -> dict:
    spec = {"interval": interval, "ingestion_delay": "0s", "failure_limit": 1, "inconclusive_limit": 1}
    return {
        "release": name,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": bake}, {"percent": 100, "bake": "0s"}],
        **({"budgets": {"logs_queries_per_30s": budget}} if budget else {}),
        "workloads": [
            {
                "name": "w0",
                "assets": ["vm-1"],
                "health": {**spec, "checks": [{**logs_check(query=per_workload("w0")), "min_samples": 1}]},
            }
        ],
    }


def test_a_release_stating_a_smaller_budget_is_not_starved_by_one_stating_the_default(monitor, settings_monitor):
    """Monitor's budget is the identity's, one for every release the judge reads: `b` states 3 queries per 30 s
    (another caller shares the identity), `a` the default 200 and queries every 10 s. Counted in one window, the
    2 `b` may send were always taken by `a`'s queries: `b` was held back round after round, never evaluated."""
    w = world()
    monitor.clock = lambda: w.clock.now().timestamp()
    monitor.workspace(WS, lambda query, timespan: ([("value", "real"), ("samples", "long")], [[0.1, 500]]))
    flighting_release(w.store, _release("a", "10s", "1h"), w.clock.now())
    flighting_release(w.store, _release("b", "1m", "1h", budget=3), w.clock.now())
    judge = Judge(
        store=w.store,
        records=MemoryJudgeStore(),
        source=metrics_sources(settings_monitor, lambda: None),
        publisher=ServicePublisher(w.service),
        clock=w.clock,
    )
    for _ in range(18):  # every 10 s for 3 minutes
        w.clock.advance(10)
        judge.round()
    assert judge.records.load("b")["w0"].evaluation >= 2  # due at 1, 2 and 3 minutes
    assert judge.records.load("a")["w0"].evaluation >= 5
    assert monitor.throttled == {}


def test_a_flights_first_window_reaches_back_to_its_first_minute_not_only_to_its_anchor():
    """Interval 10m: a flight begun 5 s past a 10-minute mark is anchored at the next mark, 9 m 55 s later. Its
    first window must not start there: the minutes right after the traffic moved (where a bad release shows
    first) would never be read by any evaluation. It reads from the flight's first whole minute, never before."""
    from datetime import timedelta

    from tests.judge_fakes import ScriptedSource

    w = world()
    source = ScriptedSource()
    judge = Judge(
        store=w.store, records=MemoryJudgeStore(), source=source, publisher=ServicePublisher(w.service), clock=w.clock
    )
    local = {"interval": "10m", "checks": [{"name": "errors", "provider": "local", "max": 1.0}]}
    release = {
        "release": "wave-1",
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "1h"}, {"percent": 100, "bake": "0s"}],
        "health": local,
        "workloads": [{"name": "w0", "assets": ["vm-1"]}],
    }
    began = w.clock.now() + timedelta(seconds=5)
    assert began.timestamp() % 600 == 5  # the test's clock starts on a 10-minute mark
    flighting_release(w.store, release, began)
    source.set("w0", "errors", 0.1, 10)
    for _ in range(2 * 60 + 1):  # every 10 s for 20 minutes and 10 s
        w.clock.advance(10)
        judge.round()
    first_minute = began + timedelta(seconds=55)
    anchor = began + timedelta(seconds=595)
    assert source.windows == [(first_minute, anchor + timedelta(minutes=10))]
