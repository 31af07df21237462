"""The reliability run's judge faults (contract §10): flights judged by promote's own judge while Monitor
reads fail and time out, judge processes are SIGKILLed at random and mid-evaluation (during a Monitor read,
after claiming a verdict and before publishing it, after publishing it and before marking it), and two or
more judges run at once. Then every message and verdict is accounted for:

- lost: an injected message with no recorded outcome, or a claimed verdict that never reached history;
- divergences: a workload whose end state is not what its metrics say (a failing workload promoted, a
  healthy one rolled back for anything but no data), whose live routing differs from its state, or whose
  traffic moved twice for one flight;
- judged twice: more than one verdict applied for one flight instance (or one id applied twice).

    python tools/judge_faults.py --short      # used by tools/reliability.py
    python tools/judge_faults.py --judge      # one judge process (internal)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

JUDGE_CRASH_POINTS = ("mid-read", "after-claim", "after-publish")
GOOD, BAD = 0.2, 5.0  # error rates put for healthy and failing workloads (the check's max is 1.0)


@dataclass
class JudgeFigures:
    workloads: int = 0
    judges: int = 0
    monitor_errors: int = 0
    monitor_timeouts: int = 0
    random_kills: int = 0
    crash_points: Counter = field(default_factory=Counter)
    verdicts_applied: int = 0
    verdict_duplicates: int = 0
    claims_lost_to_another_judge: int = 0
    promoted: int = 0
    rolled_back_failed: int = 0
    rolled_back_no_data: int = 0
    lost: list = field(default_factory=list)
    divergences: list = field(default_factory=list)
    judged_twice: list = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, int | float]]:
        return [
            ("judge: flighting workloads judged", self.workloads),
            ("judge: judge processes at once", self.judges),
            ("judge fault: Monitor read failed", self.monitor_errors),
            ("judge fault: Monitor read timed out", self.monitor_timeouts),
            ("judge fault: judge SIGKILLed at a random moment", self.random_kills),
            ("judge fault: SIGKILL mid-read", self.crash_points["mid-read"]),
            ("judge fault: SIGKILL after claim, before publish", self.crash_points["after-claim"]),
            ("judge fault: SIGKILL after publish, before mark", self.crash_points["after-publish"]),
            ("judge: evaluations claimed first by another judge", self.claims_lost_to_another_judge),
            ("judge: verdicts applied", self.verdicts_applied),
            ("judge: verdicts recorded as duplicate", self.verdict_duplicates),
            ("judge: promoted (healthy metrics)", self.promoted),
            ("judge: rolled back by a failing check", self.rolled_back_failed),
            ("judge: rolled back for no data", self.rolled_back_no_data),
            ("**judge: verdicts or messages lost**", len(self.lost)),
            ("**judge: divergences**", len(self.divergences)),
            ("**judge: flights judged twice**", len(self.judged_twice)),
            ("judge run time (s)", round(self.seconds, 1)),
        ]


# -- inside a judge process: wrappers around the real ports ------------------------------------------
def _die(point: str) -> None:
    print(f"CRASH {point}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


class FaultySource:
    """The real MetricsSource, whose reads fail or hang now and then (an outage is no data, never health)."""

    def __init__(self, inner, rng: random.Random, crash_on: int | None):
        self.inner, self.rng, self.crash_on, self.reads = inner, rng, crash_on, 0

    def read_many(self, release, requests, budget=None):
        """The release's reads in one call, as the judge makes them; each workload's read fails or hangs on its
        own roll (a Monitor outage, a timeout), the rest are read together."""
        from shared.domain.health import Reading

        out, asking = {}, []
        for workload, checks, start, end in requests:
            self.reads += 1
            if self.crash_on is not None and self.reads == self.crash_on:
                _die("mid-read")
            roll = self.rng.random()
            if roll < 0.15:
                print("FAULT error", flush=True)
                out[workload] = {c.name: Reading(error="ConnectionError: Monitor answered 503") for c in checks}
            elif roll < 0.25:
                print("FAULT timeout", flush=True)
                time.sleep(0.3)
                out[workload] = {c.name: Reading(error="TimeoutError: Monitor did not answer in time") for c in checks}
            else:
                asking.append((workload, checks, start, end))
        if asking:
            out.update(self.inner.read_many(release, asking, budget))
        return out


class CrashingRecords:
    """The judge's record store; may die right after claiming an evaluation that carries a verdict."""

    def __init__(self, inner, crash_on: int | None):
        self.inner, self.crash_on, self.claims = inner, crash_on, 0

    def load(self, release):
        return self.inner.load(release)

    def save(self, release, record):
        saved = self.inner.save(release, record)
        if record.verdict is not None and not record.published:
            self.claims += 1
            if self.crash_on is not None and self.claims == self.crash_on:
                _die("after-claim")
        return saved


class CrashingPublisher:
    def __init__(self, inner, crash_on: int | None):
        self.inner, self.crash_on, self.sent = inner, crash_on, 0

    def publish(self, event):
        self.inner.publish(event)
        self.sent += 1
        if self.crash_on is not None and self.sent == self.crash_on:
            _die("after-publish")


def judge_process(seed: int, point: str | None) -> int:
    from azure.core.exceptions import AzureError

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.application.judge import Judge

    rng = random.Random(seed)
    stack = Stack(load_settings())
    use_stack(stack)
    nth = 1  # soon: a short run must see every crash point
    base = stack.judge
    judge = Judge(
        store=stack.store,
        records=CrashingRecords(base.records, nth if point == "after-claim" else None),
        source=FaultySource(stack.metrics_source, rng, nth if point == "mid-read" else None),
        publisher=CrashingPublisher(stack.publisher, nth if point == "after-publish" else None),
        clock=stack.clock,
    )
    while True:
        try:
            run = judge.round()
            if run.conflicts:
                print(f"CONFLICTS {run.conflicts}", flush=True)
        except (AzureError, OSError) as exc:
            print(f"OUTAGE {type(exc).__name__}", flush=True)
        time.sleep(rng.uniform(0.05, 0.25))


def host_process() -> int:
    """A local host that handles messages only: judging is left to the faulty judge processes."""
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.cli import local_host

    stack = Stack(load_settings())
    use_stack(stack)
    local_host(stack, judge=None, lock_seconds=2, retry_delay=lambda n: 1).run(poll=0.05, outage_limit=120)
    return 0


# -- the supervisor --------------------------------------------------------------------------------
class Processes:
    def __init__(
        self, env: dict, judges: int, hosts: int, rng: random.Random, figures: JudgeFigures, kill_every: float
    ):
        self.env, self.rng, self.figures, self.kill_every = env, rng, figures, kill_every
        self.want = {"judge": judges, "host": hosts}
        self.procs: list[tuple[subprocess.Popen, str]] = []
        self.spawned = 0
        self.points: dict[int, str] = {}  # pid -> the crash point a judge waits for ("none")
        self.tails: dict[int, deque] = {}  # pid -> its last lines, shown when it exits by itself
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._supervise, daemon=True)

    def _spawn(self, role: str) -> subprocess.Popen:
        args = [sys.executable, str(Path(__file__).resolve()), f"--{role}"]
        point = "none"
        if role == "judge":  # each crash point in turn until it fired once, then judges that only get killed
            waiting = [p for p in JUDGE_CRASH_POINTS if not self.figures.crash_points[p]]
            point = waiting[self.spawned % len(waiting)] if waiting and self.spawned % 2 == 0 else "none"
            self.spawned += 1
            args += ["--seed", str(self.rng.randrange(1 << 30)), "--crash", point]
        proc = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.points[proc.pid] = point
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        return proc

    def _read(self, proc: subprocess.Popen) -> None:
        tail = self.tails.setdefault(proc.pid, deque(maxlen=6))
        for line in proc.stdout:  # type: ignore[union-attr]
            with self.lock:
                tail.append(line.rstrip())
                if line.startswith("CRASH "):
                    self.figures.crash_points[line.split()[1]] += 1
                elif line.startswith("FAULT error"):
                    self.figures.monitor_errors += 1
                elif line.startswith("FAULT timeout"):
                    self.figures.monitor_timeouts += 1
                elif line.startswith("CONFLICTS "):
                    self.figures.claims_lost_to_another_judge += int(line.split()[1])

    def start(self) -> None:
        for role, count in self.want.items():
            self.procs += [(self._spawn(role), role) for _ in range(count)]
        self.thread.start()

    def _supervise(self) -> None:
        next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
        while not self.stop.is_set():
            for i, (proc, role) in enumerate(self.procs):
                if proc.poll() is not None:
                    if proc.returncode != -signal.SIGKILL:  # only SIGKILL ends a process here: this one crashed
                        time.sleep(0.2)  # its reader's last lines
                        said = " | ".join(self.tails.get(proc.pid, ())) or "no output"
                        print(f"{role} exited by itself ({proc.returncode}): {said}", flush=True)
                        self.figures.divergences.append(f"a {role} process exited by itself: {said[-300:]}")
                    self.procs[i] = (self._spawn(role), role)
            if time.monotonic() >= next_kill:
                # judges still waiting for their crash point are spared, so that every point fires
                judges = [
                    p
                    for p, role in self.procs
                    if role == "judge" and p.poll() is None and self.points.get(p.pid) == "none"
                ]
                if judges:
                    self.rng.choice(judges).kill()
                    self.figures.random_kills += 1
                next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
            time.sleep(0.1)

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join()
        for proc, _ in self.procs:
            proc.kill()
            proc.wait()


def run_judge_faults(
    releases: int = 2,
    workloads: int = 4,
    judges: int = 2,
    hosts: int = 2,
    kill_every: float = 5.0,
    seed: int = 2026,
    timeout: float = 300,
) -> JudgeFigures:
    """Judge `releases` x `workloads` flights under faults on a fresh Azurite; account for everything."""
    from datetime import datetime

    from shared.application.bootstrap import Stack
    from shared.application.config import LOCAL_QUEUE, load_settings
    from shared.domain.plan import validate_plan
    from shared.local.azurite import start

    rng, figures, started = random.Random(seed), JudgeFigures(judges=judges), time.monotonic()
    azurite = start()
    try:
        stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}))
        names = [f"judged-{i:03d}" for i in range(releases)]
        bad: set[tuple[str, str]] = set()
        injected: list[tuple[str, str]] = []
        for release in names:
            stack.service.apply(
                validate_plan(
                    {
                        "release": release,
                        "model": "flight",
                        "operators": ["ops@contoso.com"],
                        "flights": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "1s"}, {"percent": 100}],
                        "health": {
                            "interval": "1s",
                            "failure_limit": 2,
                            "inconclusive_limit": 8,
                            "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 10}],
                        },
                        "workloads": [{"name": f"w{j}", "assets": ["vm-1"]} for j in range(workloads)],
                    }
                )
            )
            for j in range(workloads):
                failing = rng.random() < 0.3
                if failing:
                    bad.add((release, f"w{j}"))
                now = datetime.now(UTC)
                stack.local_metrics.put(release, f"w{j}", "errors", BAD if failing else GOOD, 500, now)
        figures.workloads = releases * workloads
        queue = stack.queue(LOCAL_QUEUE)

        def send(type_: str, data: dict) -> None:
            for release in names:
                for j in range(workloads):
                    event_id = f"{release}-w{j}-{type_}"
                    doc = {
                        "specversion": "1.0",
                        "id": event_id,
                        "source": "reliability",
                        "type": type_,
                        "data": {"release": release, "workload": f"w{j}", **data},
                    }
                    for _ in range(rng.choice((1, 1, 2))):
                        queue.send_message(json.dumps(doc))
                    injected.append((release, event_id))

        env = {**os.environ, "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}
        procs = Processes(env, judges, hosts, rng, figures, kill_every)
        procs.start()
        try:
            deadline = time.monotonic() + timeout
            send("asset-replicated", {"asset": "vm-1"})
            # the test pipeline tests what was replicated: its results come after replication (two hosts on one
            # local queue keep no order between messages; a result that overtook replication would be rejected)
            while time.monotonic() < deadline and any(
                w.state == "replicating" for r in names for w in stack.store.get_release(r).release.workloads.values()
            ):
                time.sleep(0.5)
            send("tests-passed", {})
            while time.monotonic() < deadline:
                states = [w.state for r in names for w in stack.store.get_release(r).release.workloads.values()]
                if all(s in ("promoted", "rolled-back") for s in states):
                    break
                time.sleep(0.5)
            time.sleep(2.0)  # verdicts re-published by judges after a crash reach the hosts
            while queue.get_queue_properties().approximate_message_count and time.monotonic() < deadline + 60:
                time.sleep(0.5)  # bounded: judges still publishing must not keep the run from accounting
        finally:
            procs.shutdown()
        _account(stack, names, bad, injected, figures)
    finally:
        azurite.stop()
        figures.seconds = time.monotonic() - started
    return figures


def _account(stack, names: list[str], bad: set, injected: list, figures: JudgeFigures) -> None:
    from shared.adapters.routing.local import LocalRouter
    from shared.application.config import ROUTING_TABLE

    for release in names:
        history = stack.store.list_history(release)
        outcomes: dict[str, Counter] = {}
        for e in history:
            outcomes.setdefault(e.event_id, Counter())[e.outcome] += 1
        for rel, event_id in injected:
            if rel == release and not outcomes.get(event_id):
                figures.lost.append(event_id)
        verdicts = [e for e in history if e.source == "promote/judge"]
        applied_by_instance: Counter = Counter()
        for e in verdicts:
            if e.outcome == "applied":
                figures.verdicts_applied += 1
                instance = ":".join(e.event_id.split(":")[:6])  # judge:<release>:<workload>:<attempt>:<flight>:<start>
                applied_by_instance[instance] += 1
            elif e.outcome == "duplicate":
                figures.verdict_duplicates += 1
        figures.judged_twice += [f"{i}: {n} verdicts applied" for i, n in applied_by_instance.items() if n > 1]
        figures.judged_twice += [
            f"{i}: applied {c['applied']} times"
            for i, c in outcomes.items()
            if i.startswith("judge:") and c["applied"] > 1
        ]
        records = stack.judge.records.load(release)
        for name, w in stack.store.get_release(release).release.workloads.items():
            record = records.get(name)
            if record and record.verdict and record.verdict["id"] not in outcomes:
                figures.lost.append(f"claimed verdict {record.verdict['id']} never reached history")
            live = LocalRouter(stack.table(ROUTING_TABLE), release, name).read()
            if live != w.traffic_percent:
                figures.divergences.append(f"{release}/{name}: state {w.traffic_percent}% live {live}%")
            trail = [0]
            for e in history:
                if e.workload == name and e.traffic_percent is not None and e.traffic_percent != trail[-1]:
                    trail.append(e.traffic_percent)
            cause = next(
                (
                    e.reason
                    for e in reversed(verdicts)
                    if e.workload == name and e.outcome == "applied" and e.type == "flight-unhealthy"
                ),
                "",
            )
            if (release, name) in bad:
                if w.state != "rolled-back" or "FAILED" not in cause:
                    figures.divergences.append(f"{release}/{name} (failing metrics): {w.state}; {cause[:120]}")
                else:
                    figures.rolled_back_failed += 1
                if trail not in ([0, 10, 0], [0, 10, 50, 0], [0, 10, 50, 100, 0]):
                    figures.divergences.append(f"{release}/{name}: traffic moved {trail}")
            elif w.state == "promoted" and trail == [0, 10, 50, 100]:
                figures.promoted += 1
            elif w.state == "rolled-back" and cause.startswith(
                ("flight 1 unhealthy (no data", "flight 2 unhealthy (no data", "flight 3 unhealthy (no data")
            ):
                figures.rolled_back_no_data += 1  # a long Monitor outage: legitimate, and never a promotion
            else:
                figures.divergences.append(
                    f"{release}/{name} (healthy metrics): {w.state}, traffic {trail}; {cause[:120]}"
                )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--host", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--crash", choices=JUDGE_CRASH_POINTS + ("none",), default="none", help=argparse.SUPPRESS)
    parser.add_argument("--long", action="store_true")
    args = parser.parse_args(argv)
    if args.judge:
        return judge_process(args.seed, None if args.crash == "none" else args.crash)
    if args.host:
        return host_process()
    figures = run_judge_faults(*((12, 8, 3, 2, 5.0) if args.long else (2, 4, 2, 2, 5.0)), seed=args.seed)
    for name, value in figures.rows():
        print(f"| {name} | {value} |")
    for problem in figures.lost[:10] + figures.divergences[:10] + figures.judged_twice[:10]:
        print("PROBLEM:", problem)
    return 1 if figures.lost or figures.divergences or figures.judged_twice else 0


if __name__ == "__main__":
    sys.exit(main())
