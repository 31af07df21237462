"""make bench, the judge at scale (issue 23): 5,000 flighting workloads (10 releases of 500) judged from Azure
Monitor by the real SDK clients against the local Monitor, which enforces Azure's budgets (200 Log Analytics
queries per caller in any 30 s, 5 running at once, 50 resources per metrics batch) on the simulated clock.

    .venv/bin/python bench/judge_scale.py                           # 10 x 500 workloads, 12 simulated minutes
    .venv/bin/python bench/judge_scale.py --releases 2 --workloads 100 --minutes 6     # a short run

Every workload has two checks: an error rate from Log Analytics (one KQL per release, `summarize ... by
workload`) and its VM's CPU from platform metrics. Rounds run every 10 s of simulated time, as the `judge`
timer does on Azure; the workspace and the metrics say every workload is healthy, so every workload should be
judged through both flights and promoted, with no throttle ever counted as no data. It reports Monitor calls
per interval and per minute (the busiest 30 s and 60 s windows, as Azure counts them) against the budget, and
what one query per workload and check (the judge before issue 23) would have needed. Prints a table and, last,
one JSON line; exits 1 when the budget was exceeded (a 429 for the rate, more than 5 queries in flight, a batch
over 50), when a workload failed or was not judged, or when a release made more than one query per check and
interval.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from statistics import median as _median

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WS = "11111111-2222-3333-4444-555555555555"
SUB = "00000000-0000-0000-0000-000000000000"
INTERVAL, ROUND_S = 60, 10


def vm(release: str, workload: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{release}/providers/Microsoft.Compute/virtualMachines/{workload}"


def plan(release: str, workloads: list[str]) -> dict:
    query = (
        f"requests | where release == '{release}' | summarize value = 100.0 * countif(success == false) / count(),"
        " samples = count() by workload = cloud_RoleName"
    )

    def checks(name: str) -> list[dict]:
        return [
            {"name": "errors", "provider": "azure-monitor-logs", "workspace": WS, "query": query, "max": 1.0},
            {
                "name": "cpu",
                "provider": "azure-monitor-metrics",
                "resource": vm(release, name),
                "metric": "Percentage CPU",
                "max": 80,
                "region": "westeurope",
            },
        ]

    health = {"interval": f"{INTERVAL}s", "failure_limit": 2, "inconclusive_limit": 5}
    return {
        "release": release,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "2m"}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": n, "assets": ["vm-1"], "health": {**health, "checks": checks(n)}} for n in workloads],
    }


class Verdicts:
    """The verdicts, applied to the releases after each round as the service would: healthy moves a workload
    to its next flight (from now) or promotes it, unhealthy rolls it back. Handing 10,000 verdict messages to
    the in-memory service costs ~1 s each at 500 workloads a release here, and is not what this measures
    (bench/judge.py measures a verdict's cost to its lifecycle event)."""

    def __init__(self, w):
        self.w, self.published, self.pending = w, [], []

    def publish(self, event: dict) -> None:
        self.published.append(event)
        self.pending.append(event)

    def apply(self) -> None:
        store, now = self.w.store, self.w.clock.now()
        by_release: dict[str, list[dict]] = {}
        for event in self.pending:
            by_release.setdefault(event["data"]["release"], []).append(event)
        self.pending = []
        for name, events in by_release.items():
            release, version = store.releases[name]
            workloads = dict(release.workloads)
            for event in events:
                x = workloads[event["data"]["workload"]]
                if event["type"] == "flight-unhealthy":
                    workloads[x.name] = x.evolve(state="rolled-back", traffic_percent=0, flight_started_at=None)
                elif x.flight < len(release.plan.flights):
                    percent = release.plan.flights[x.flight].percent
                    workloads[x.name] = x.evolve(flight=x.flight + 1, traffic_percent=percent, flight_started_at=now)
                else:
                    workloads[x.name] = x.evolve(state="promoted", flight_started_at=None)
            store.releases[name] = (release.evolve(workloads=workloads), version + 1)


def median(values) -> float:
    values = list(values)
    return _median(values) if values else 0


def busiest(times: list[float], span: float) -> int:
    """The most calls in any `span` seconds."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - span:
            first += 1
        most = max(most, last - first + 1)
    return most


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=10)
    parser.add_argument("--workloads", type=int, default=500, help="per release")
    parser.add_argument("--minutes", type=int, default=14, help="simulated minutes of judge rounds")
    parser.add_argument(
        "--spread", type=float, default=180, help="seconds over which each release's first flights began"
    )
    args = parser.parse_args(argv)

    from shared.adapters.metrics import metrics_sources
    from shared.application.judge import Judge
    from shared.domain.query_budget import LOGS_CONCURRENT, LOGS_PERIOD_S, METRICS_BATCH
    from shared.domain.times import iso
    from tests.fakes import world
    from tests.judge_fakes import MemoryJudgeStore, flighting_release
    from tests.monitor.conftest import monitor_settings
    from tests.monitor.fake_monitor import FakeMonitor
    from tests.routing.fake_arm import self_signed_certificate
    from tests.tokens import TokenCredential

    tls = self_signed_certificate(Path(tempfile.mkdtemp(prefix="bench-monitor-")))
    os.environ["REQUESTS_CA_BUNDLE"] = str(tls[0])
    w = world()
    monitor = FakeMonitor(clock=lambda: w.clock.now().timestamp())
    server = monitor.serve(*tls)
    sent_at: list[tuple[str, float]] = []  # (api, simulated time) of every call Monitor answered
    answer = monitor.handle

    def handle(method, target, headers, body):
        status, out, payload = answer(method, target, headers, body)
        sent_at.append(("metrics" if "metrics:getBatch" in target else "logs", w.clock.now().timestamp(), status))
        return status, out, payload

    monitor.handle = handle  # type: ignore[method-assign]

    def errors(query: str, timespan) -> tuple[list, list]:
        release = re.search(r"release == '([^']+)'", query).group(1)  # type: ignore[union-attr]
        return [("workload", "string"), ("value", "real"), ("samples", "long")], [
            [f"w{j:04d}", 0.2, 400] for j in range(args.workloads)
        ] if release else []

    monitor.workspace(WS, errors)
    start = w.clock.now()
    minutes = args.minutes + 2
    cpu = [
        {"timeStamp": iso(start + timedelta(minutes=i)), "average": 35.0, "minimum": 30.0, "count": 4}
        for i in range(minutes)
    ]
    releases = [f"scale-{i:02d}" for i in range(args.releases)]
    for release in releases:
        names = [f"w{j:04d}" for j in range(args.workloads)]
        for name in names:
            monitor.resource(vm(release, name), "westeurope", {"Percentage CPU": cpu})
        flighting_release(w.store, plan(release, names), start, args.spread)
    publisher = Verdicts(w)
    sources = metrics_sources(monitor_settings(monitor, TokenCredential()), lambda: None)
    judge = Judge(store=w.store, records=MemoryJudgeStore(), source=sources, publisher=publisher, clock=w.clock)

    rounds, evaluated, throttled, round_s = 0, 0, 0, []
    began = time.perf_counter()
    try:
        for _ in range(args.minutes * 60 // ROUND_S):
            w.clock.advance(ROUND_S)
            t0 = time.perf_counter()
            run = judge.round()
            round_s.append(time.perf_counter() - t0)
            publisher.apply()
            rounds, evaluated, throttled = rounds + 1, evaluated + run.evaluated, throttled + run.throttled
    finally:
        server.stop()
    wall = time.perf_counter() - began

    workloads = args.releases * args.workloads
    logs = [t for api, t, _ in sent_at if api == "logs"]
    metrics = [t for api, t, _ in sent_at if api == "metrics"]
    per_interval = Counter(int((t - start.timestamp()) // INTERVAL) for t in logs)
    metrics_interval = Counter(int((t - start.timestamp()) // INTERVAL) for t in metrics)
    batches = sources.source("azure-monitor-metrics").batch_sizes
    states = Counter(x.state for r in releases for x in w.store.get_release(r).release.workloads.values())
    unhealthy = sum(e["type"] == "flight-unhealthy" for e in publisher.published)
    limit = 200
    rows = [
        ("workloads judged (releases x workloads)", f"{workloads} ({args.releases} x {args.workloads})"),
        ("checks per workload (logs + metrics)", 2),
        ("simulated minutes (rounds every 10 s)", f"{args.minutes} ({rounds})"),
        ("seconds over which each release's flights began", args.spread),
        ("evaluations made", evaluated),
        ("evaluations held back by the budget (made later)", throttled),
        ("Log Analytics queries in all", len(logs)),
        ("Log Analytics queries per interval (60 s): max", max(per_interval.values(), default=0)),
        ("Log Analytics queries per interval: median of the intervals with reads", median(per_interval.values())),
        ("Log Analytics queries in the busiest 30 s (budget 200)", busiest(logs, LOGS_PERIOD_S)),
        ("Log Analytics queries in the busiest minute (budget 400)", busiest(logs, 60)),
        ("Log Analytics queries in flight at once: max (budget 5)", max(monitor.max_in_flight.values(), default=0)),
        ("metrics batch calls in all", len(metrics)),
        ("metrics batch calls per interval: max", max(metrics_interval.values(), default=0)),
        ("metrics batch calls in the busiest minute", busiest(metrics, 60)),
        ("resources per metrics call: max (limit 50)", max(batches, default=0)),
        ("Monitor 429s (rate, queue)", sum(monitor.throttled.values())),
        ("one query per workload and check (before): queries per minute", workloads * 60 // INTERVAL),
        ("one query per workload and check (before): per 30 s vs budget 200", workloads * 30 // INTERVAL),
        ("verdicts published", len(publisher.published)),
        ("unhealthy verdicts (the data is healthy: must be 0)", unhealthy),
        ("workloads promoted", states["promoted"]),
        ("judge round time: max / mean (s)", f"{max(round_s):.2f} / {sum(round_s) / len(round_s):.2f}"),
        ("wall time (s)", round(wall, 1)),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'judge at scale'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    problems = []
    if monitor.throttled:
        problems.append(f"Monitor refused {dict(monitor.throttled)}: the judge went over the budget")
    if busiest(logs, LOGS_PERIOD_S) > limit:
        problems.append(f"{busiest(logs, LOGS_PERIOD_S)} queries in 30 s, budget {limit}")
    if max(monitor.max_in_flight.values(), default=0) > LOGS_CONCURRENT or max(batches, default=0) > METRICS_BATCH:
        problems.append("more than 5 queries in flight, or a metrics batch over 50")
    # one query per release, check and window per interval: flights that began within one interval share their
    # window; those begun `spread` seconds apart have up to 1 + spread / interval while their window is young,
    # and a release's first and second flights may both be due
    windows = 1 + math.ceil(min(args.spread, 300) / INTERVAL)
    if max(per_interval.values(), default=0) > 2 * windows * args.releases:
        problems.append(f"{max(per_interval.values())} logs queries in one interval for {args.releases} releases")
    if unhealthy or states["promoted"] != workloads:
        problems.append(f"{unhealthy} unhealthy verdicts, {states['promoted']} of {workloads} promoted")
    for problem in problems:
        print("PROBLEM:", problem)
    print(
        json.dumps(
            {
                "judge_scale_workloads": workloads,
                "judge_scale_logs_queries_per_interval_max": max(per_interval.values(), default=0),
                "judge_scale_logs_queries_busiest_30s": busiest(logs, LOGS_PERIOD_S),
                "judge_scale_logs_queries_busiest_minute": busiest(logs, 60),
                "judge_scale_metrics_calls_per_interval_max": max(metrics_interval.values(), default=0),
                "judge_scale_metrics_batch_max": max(batches, default=0),
                "judge_scale_429s": sum(monitor.throttled.values()),
                "judge_scale_promoted": states["promoted"],
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
