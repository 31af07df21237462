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
