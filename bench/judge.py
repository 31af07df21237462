"""The health judge's figures (issue 11), part of `make bench`: one evaluation round over 500 flighting workloads
on the local provider, timed; metrics-source calls per evaluation (one per release since issue 23); and the
storage requests each resulting verdict costs its lifecycle event (the judge must add none to the 2).

    .venv/bin/python bench/judge.py [--workloads 500] [--checks 2]

It starts its own in-memory Azurite, registers releases of 49 workloads whose workloads are already flighting
(written directly: setting them up through messages is not what is measured), puts one local value per check,
runs ONE judge round at the first evaluation, then hands each verdict to the service. Requests are counted on
the wire. Prints a table and, last, one JSON line; exits 1 if a verdict costs more than 2 storage requests or a
release's evaluations take more than one metrics-source call.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

# workloads per release: the plan's limit when this bench was written; kept so its figures stay comparable (a
# release of hundreds is kept in shards, and a verdict then costs its lifecycle event 3 requests, not 2)
PER_RELEASE = 49
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


class Wire:
    """Counts table requests by table (an SDK pipeline hook; a batch is counted as `$batch`)."""

    def __init__(self):
        self.by_table: Counter = Counter()

    def __call__(self, request) -> None:
        path = request.http_request.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        self.by_table[path.split("(")[0]] += 1

    def take(self) -> Counter:
        taken, self.by_table = self.by_table, Counter()
        return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--checks", type=int, default=2, help="local checks per workload")
    args = parser.parse_args(argv)

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import JUDGE_TABLE, METRICS_TABLE, RELEASES_TABLE, load_settings
    from shared.domain.model import new_release
    from shared.domain.plan import validate_plan
    from shared.local.azurite import start
    from tests.fakes import FakeClock

    azurite = start()
    wire, clock = Wire(), FakeClock()
    try:
        stack = Stack(
            load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}),
            clock=clock,
            request_hook=wire,
        )
        use_stack(stack)
        checks = [
            {"name": f"check-{i}", "provider": "local", "max": 1.0, "min_samples": 10} for i in range(args.checks)
        ]
        names: list[str] = []
        left, started = args.workloads, clock.now()
        while left > 0:
            count, release = min(left, PER_RELEASE), f"bench-judge-{len(names):03d}"
            plan = validate_plan(
                {
                    "release": release,
                    "model": "flight",
                    "flights": [{"percent": 10, "bake": "0s"}, {"percent": 100}],
                    "health": {"interval": "30s", "checks": checks},
                    "workloads": [{"name": f"w{j:02d}", "assets": ["vm-1"]} for j in range(count)],
                }
            )
            fresh = new_release(plan)
            flighting = {
                n: w.evolve(
                    state="flighting",
                    flight=1,
                    traffic_percent=10,
                    flight_started_at=started,
                    tests_passed=True,
                    assets={a: True for a in w.assets},
                )
                for n, w in fresh.workloads.items()
            }
            stack.store.create_release(fresh.evolve(workloads=flighting))
            for j in range(count):
                for check in checks:
                    stack.local_metrics.put(release, f"w{j:02d}", check["name"], 0.2, 100, started)
            names.append(release)
            left -= count
        stack.table(JUDGE_TABLE)
        published: list[dict] = []
        stack.judge.publisher = type("Keep", (), {"publish": lambda self, e: published.append(e)})()
        clock.advance(30)
        wire.take()
        calls_before = stack.metrics_source.calls
        t0 = time.perf_counter()
        run = stack.judge.round()
        round_s = time.perf_counter() - t0
        round_requests = wire.take()
        monitor_calls = stack.metrics_source.calls - calls_before
        verdict_requests: list[int] = []
        for event in published:
            stack.service.handle(json.dumps(event))
            taken = wire.take()
            verdict_requests.append(taken[RELEASES_TABLE] + taken["$batch"])
        promoted = sum(
            w.state == "promoted" or w.flight == 2
            for r in names
            for w in stack.store.get_release(r).release.workloads.values()
        )
    finally:
        azurite.stop()

    per_verdict = max(verdict_requests) if verdict_requests else 0
    rows = [
        ("flighting workloads judged", run.judged),
        ("releases", len(names)),
        ("checks per workload", args.checks),
        ("evaluations in the round", run.evaluated),
        ("round time (s)", round(round_s, 2)),
        ("evaluations per second", round(run.evaluated / round_s, 1) if round_s else 0),
        ("metrics source calls in the round", monitor_calls),
        ("metrics source calls per evaluation", round(monitor_calls / max(run.evaluated, 1), 2)),
        ("storage requests of the round: releases table (list + 1 read per release)", round_requests[RELEASES_TABLE]),
        (
            "storage requests of the round: judge records "
            "(1 read per release, 1 write per evaluation, 1 more per verdict)",
            round_requests[JUDGE_TABLE],
        ),
        ("storage requests of the round: local metrics (1 read per release)", round_requests[METRICS_TABLE]),
        ("verdicts published", len(published)),
        ("storage requests per verdict's lifecycle event (max)", per_verdict),
        ("workloads moved on by the verdicts", promoted),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'judge figure'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")
    problems = []
    if per_verdict != 2:
        problems.append(f"a verdict cost its lifecycle event {per_verdict} storage requests, not 2")
    if monitor_calls > len(names):  # the release's due evaluations are read together (issue 23)
        problems.append(f"{monitor_calls} metrics-source calls for {len(names)} releases")
    if run.evaluated != args.workloads or len(published) != args.workloads:
        problems.append(f"{run.evaluated} evaluations and {len(published)} verdicts for {args.workloads} workloads")
    for problem in problems:
        print("PROBLEM:", problem)
    print(
        json.dumps(
            {
                "judge_workloads": run.judged,
                "judge_round_s": round(round_s, 2),
                "judge_monitor_calls_per_evaluation": round(monitor_calls / max(run.evaluated, 1), 2),
                "judge_checks_per_workload": args.checks,
                "judge_storage_requests_per_verdict": per_verdict,
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
