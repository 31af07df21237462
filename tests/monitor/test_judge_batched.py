"""Batched health (issue 23): the judge reads a release's due evaluations together through the real SDK clients
against the local Monitor, which enforces Azure's budgets. One Log Analytics query per release, check and
interval (`summarize ... by workload`), metrics in batches of at most 50 resources, a workload without data
gets no verdict (that workload only), and a throttled read (the judge's own pacing, or a 429 from Monitor) is
waited out in a later round, never counted as no data."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from shared.adapters.metrics import metrics_sources
from shared.application.judge import Judge
from shared.domain.times import iso
from tests.fakes import world
from tests.judge_fakes import MemoryJudgeStore, ServicePublisher, flighting_release
from tests.monitor.test_monitor_sources import SUB, WS

QUERY = (
    "requests | summarize value = 100.0 * countif(success == false) / count(), samples = count()"
    " by workload = cloud_RoleName"
)


def vm(name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{name}"


def doc(release: str, names: list[str], *, metrics: bool = False, budget: int | None = None, **health) -> dict:
    def checks(name: str) -> list[dict]:
        own = [{"name": "errors", "provider": "azure-monitor-logs", "workspace": WS, "query": QUERY, "max": 1.0}]
        if metrics:
            own.append(
                {
                    "name": "cpu",
                    "provider": "azure-monitor-metrics",
                    "resource": vm(name),
                    "metric": "Percentage CPU",
                    "max": 80,
                    "region": "westeurope",
                }
            )
        return own

    spec = {"interval": "1m", "ingestion_delay": "0s", "failure_limit": 1, "inconclusive_limit": 1, **health}
    return {
        "release": release,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
        **({"budgets": {"logs_queries_per_30s": budget}} if budget else {}),
        "workloads": [{"name": n, "assets": ["vm-1"], "health": {**spec, "checks": checks(n)}} for n in names],
    }


class Errors:
    """The workspace: each workload's error rate, one row per workload (those without data have none)."""

    def __init__(self, rates: dict[str, float]):
        self.rates, self.queries = rates, []

    def __call__(self, query, timespan):
        self.queries.append((query, timespan))
        return [("workload", "string"), ("value", "real"), ("samples", "long")], [
            [w, rate, 500] for w, rate in self.rates.items()
        ]


@pytest.fixture
def judged(monitor, settings_monitor):
    w = world()
    monitor.clock = lambda: w.clock.now().timestamp()  # the 30-second window on the test's clock
    publisher = ServicePublisher(w.service)
    judge = Judge(
        store=w.store,
        records=MemoryJudgeStore(),
        source=metrics_sources(settings_monitor, lambda: None),
        publisher=publisher,
        clock=w.clock,
    )
    return w, judge, publisher


def _workloads(w, release):
    return list(w.store.get_release(release).release.workloads.values())


def states(w, release):
    return {n: (x.state, x.flight) for n, x in w.store.get_release(release).release.workloads.items()}


def test_one_logs_query_per_release_and_check_and_metrics_in_batches_of_50(monitor, judged):
    w, judge, publisher = judged
    names = [f"w{i:03d}" for i in range(120)]
    errors = Errors({n: 0.1 for n in names[:-1]} | {"w007": 5.0})  # w119 has no row: no data
    monitor.workspace(WS, errors)
    for n in names:
        monitor.resource(vm(n), "westeurope", {"Percentage CPU": _cpu(w, 40)})
    flighting_release(w.store, doc("wave-1", names, metrics=True, inconclusive_limit=2), w.clock.now())
    w.clock.advance(60)
    run = judge.round()
    logs = [c for c in monitor.calls if c.api == "logs"]
    batches = [len(c.body["resourceids"]) for c in monitor.calls if c.api == "metrics"]
    assert len(logs) == 1 and "by workload" in logs[0].body["query"]
    assert sorted(batches) == [20, 50, 50] and math.ceil(len(names) / 50) == len(batches)
    assert run.evaluated == 120 and run.throttled == 0
    after = states(w, "wave-1")
    assert after["w007"] == ("rolled-back", 1)  # its own row failed
    assert after["w119"] == ("flighting", 1)  # no row: no verdict, for this workload only
    [silent] = judge.records.load("wave-1")["w119"].results[:1]
    assert (silent.name, silent.outcome) == ("errors", "inconclusive")
    assert sum(s == ("flighting", 2) for s in after.values()) == 118  # every other workload healthy
    assert monitor.throttled == {} and sum(monitor.max_running.values()) <= 5


def _releases(w, monitor, count: int, budget: int | None = None) -> list[str]:
    names = [f"w{i}" for i in range(10)]
    monitor.workspace(WS, Errors({n: 0.1 for n in names}))
    releases = [f"r{i}" for i in range(count)]
    for r in releases:
        flighting_release(w.store, doc(r, names, budget=budget), w.clock.now())
    return releases


def test_the_judge_paces_its_queries_within_the_plans_budget(monitor, judged):
    """5 releases, a budget of 3 queries per 30 s (the plan states it, Monitor enforces it): the judge sends 2
    (95% of 3) per 30 s, holds the rest back without counting them as no data, and Monitor never has to say 429."""
    w, judge, publisher = judged
    monitor.logs_per_30s = 3
    releases = _releases(w, monitor, 5, budget=3)
    w.clock.advance(60)
    sent, held = [], []
    for _ in range(3):
        before = len(monitor.calls)
        held.append(judge.round().throttled)
        sent.append(len(monitor.calls) - before)
        w.clock.advance(30)
    # r0 r1, then r2 r3 (held first), then r4 and r0's second flight: never more than 2 in 30 s
    assert sent == [2, 2, 2] and monitor.throttled == {}
    assert held == [30, 10, 10]  # evaluations left to a later round: 3 releases, then r4, then r1's flight 2
    assert all(x.flight == 2 and x.state != "rolled-back" for r in releases for x in _workloads(w, r))
    assert not [e for e in publisher.published if e["type"] == "flight-unhealthy"]


def test_a_429_is_waited_out_for_its_retry_after_and_never_becomes_a_verdict(monitor, judged):
    """Monitor's budget is smaller than the plan says (another caller uses the identity): its 429 stops the
    judge's queries until the Retry-After has passed; the evaluations it held back are made then. With
    inconclusive_limit 1, one throttle counted as no data would roll a workload back."""
    w, judge, publisher = judged
    monitor.logs_per_30s = 2
    releases = _releases(w, monitor, 5)
    w.clock.advance(60)
    run = judge.round()
    statuses = [c.status for c in monitor.calls]
    assert statuses == [200, 200, 429]  # after the 429, nothing more was sent in this round
    assert run.evaluated == 20 and run.throttled == 30
    assert run.next_due == w.clock.now() + timedelta(seconds=30)  # Retry-After: the oldest query leaves at +30s
    w.clock.advance(10)
    assert judge.round().evaluated == 0 and len(monitor.calls) == 3  # still within the Retry-After: not sent
    for _ in range(4):
        w.clock.advance(20)
        judge.round()
    assert all(x.flight == 2 and x.state != "rolled-back" for r in releases for x in _workloads(w, r))
    assert not [e for e in publisher.published if e["type"] == "flight-unhealthy"]
    assert monitor.throttled["rate"] == len([c for c in monitor.calls if c.status == 429])


def _cpu(w, value: float) -> list[dict]:
    start = w.clock.now()
    return [{"timeStamp": iso(start.replace(second=0, microsecond=0)), "average": value, "count": 4, "minimum": value}]


def test_flights_begun_within_one_interval_are_evaluated_together_from_its_next_multiple():
    """Evaluations are counted from the flight's start rounded up to the interval: flights begun 5 s and 40 s into
    a minute are both anchored at its end and evaluated a minute after that, read in one call (before, at 65 s
    and 100 s, in two), and again a minute later, never in between; the window starts at the anchor."""
    from tests.judge_fakes import ScriptedSource

    w = world()
    source = ScriptedSource()
    judge = Judge(
        store=w.store, records=MemoryJudgeStore(), source=source, publisher=ServicePublisher(w.service), clock=w.clock
    )
    local = {"interval": "1m", "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 1}]}
    release = {
        "release": "wave-1",
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "10m"}, {"percent": 100, "bake": "0s"}],
        "health": local,
        "workloads": [{"name": n, "assets": ["vm-1"]} for n in ("early", "late")],
    }
    flighting_release(w.store, release, w.clock.now() + timedelta(seconds=5), spread=70)  # at +5 s and +40 s
    for name in ("early", "late"):
        source.set(name, "errors", 0.1, 10)
    began, rounds = w.clock.now(), []
    for _ in range(18):  # every 10 s for 3 minutes
        w.clock.advance(10)
        rounds.append(judge.round().evaluated)
    assert rounds == [0] * 11 + [2] + [0] * 5 + [2]
    assert source.batches == [["early", "late"], ["early", "late"]]
    anchor = began + timedelta(seconds=60)
    assert (
        source.windows
        == [(anchor, anchor + timedelta(seconds=60))] * 2 + [(anchor, anchor + timedelta(seconds=120))] * 2
    )
