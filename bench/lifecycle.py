"""Plans and the messages of a whole workload life cycle, driven through the registered `events` function.

Every message goes the way the Functions host would send it: a real azure.functions.ServiceBusMessage handed to
the user function that function_app.py registers (shared.local.localhost.registered_function), which calls
stack().service.handle. One worker thread owns whole releases, as one Service Bus session per release does.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.meter import READS, BenchCounter, CpuClock, Latencies, MemoryProbe
from shared.application.config import RELEASES_TABLE, ROUTING_TABLE
from shared.local.localhost import service_bus_message

FLIGHTS = [{"percent": 10, "bake": "0s"}, {"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}]
ROLES = ("web", "db", "app", "cache", "batch")
_IDS = uuid.UUID("6f1d3c1e-6a51-4c59-9a0e-2b1f7d0c4e11")


@dataclass(frozen=True)
class Shape:
    workloads: int = 5
    assets: int = 2  # per workload

    def names(self) -> list[str]:
        return [f"w{i:02d}" for i in range(self.workloads)]

    def assets_of(self, workload: str) -> list[str]:
        return [f"vm-{workload}-{ROLES[j % len(ROLES)]}-{j + 1:02d}" for j in range(self.assets)]

    def steps(self) -> list[tuple[str, dict]]:
        """One workload's life cycle: every asset replicated, replication lag reported (v2 §8: the first report
        opens the data-sync gate, the second changes nothing and must cost no more), tests passed, a healthy
        verdict per flight."""
        return (
            [("asset-replicated", {"asset": j}) for j in range(self.assets)]
            + [("replication-lag", {"lag_seconds": 1.5}), ("replication-lag", {"lag_seconds": 2})]
            + [("tests-passed", {"suite": "smoke", "run": "118"})]
            + [("flight-healthy", {"flight": k + 1}) for k in range(len(FLIGHTS))]
        )

    def traffic_after(self) -> list[int | None]:
        """The share each step moves the workload to (None: no routing change), as the flight model does."""
        out: list[int | None] = []
        for kind, data in self.steps():
            if kind == "tests-passed":
                out.append(FLIGHTS[0]["percent"])
            elif kind == "flight-healthy" and data["flight"] < len(FLIGHTS):
                out.append(FLIGHTS[data["flight"]]["percent"])
            else:
                out.append(None)
        return out

    @property
    def events_per_release(self) -> int:
        return self.workloads * len(self.steps())


def plan_doc(release: str, shape: Shape) -> dict:
    return {
        "release": release,
        "model": "flight",
        "approval": "auto",
        "approvers": ["ana@contoso.com"],
        "operators": ["ops@contoso.com"],
        "flights": FLIGHTS,
        "on_alert": "rollback",
        "workloads": [
            {
                "name": w,
                "assets": shape.assets_of(w),
                "routing": {"provider": "local"},
                "data_sync": {"max_lag": "5s", "max_age": "7d"},
            }
            for w in shape.names()
        ],
    }


def apply_all(service, releases: list[str], shape: Shape, counter: BenchCounter, threads: int = 4) -> None:
    """`promote apply` for every release (through PromotionService.apply, as the CLI does), in parallel."""
    from shared.domain.plan import validate_plan

    errors: list[BaseException] = []

    def run(names: list[str]) -> None:
        counter.category("apply")
        try:
            for name in names:
                service.apply(validate_plan(plan_doc(name, shape)))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(releases[i::threads],)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]


def event_id(release: str, workload: str, step: int) -> str:
    return str(uuid.uuid5(_IDS, f"{release}/{workload}/{step}"))


def body(kind: str, release: str, workload: str, data: dict, *, id: str) -> bytes:
    source = {
        "asset-replicated": "azure-migrate",
        "tests-passed": "azure-pipelines",
        "replication-lag": "azure-site-recovery",
    }.get(kind, "azure-monitor")
    return json.dumps(
        {
            "specversion": "1.0",
            "id": id,
            "source": source,
            "type": kind,
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "data": {"release": release, "workload": workload, **data},
        }
    ).encode()


def lifecycle(release: str, shape: Shape) -> Iterator[tuple[str, str, str, dict, int]]:
    """(id, type, workload, data, step) for a release, step by step across its workloads (as migrations,
    pipelines and monitors of several workloads report in parallel)."""
    for s, (kind, data) in enumerate(shape.steps()):
        for w in shape.names():
            d = {"asset": shape.assets_of(w)[data["asset"]]} if kind == "asset-replicated" else dict(data)
            yield event_id(release, w, s), kind, w, d, s


@dataclass
class RunStats:
    """What a set of workers did: messages, wall time, latencies, requests per message, outcomes."""

    label: str
    workers: int
    messages: int = 0
    wall_s: float = 0.0
    latency: Latencies = field(default_factory=Latencies)
    storage_per_message: Counter = field(default_factory=Counter)  # requests to the state table -> messages
    reads_per_message: Counter = field(default_factory=Counter)
    transactions_per_message: Counter = field(default_factory=Counter)
    routing_per_message: Counter = field(default_factory=Counter)
    other_per_message: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    cpu_python_s: float = 0.0  # this process, all threads, during the run
    cpu_storage_s: float = 0.0  # the Azurite process during the run

    @property
    def per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s else 0.0

    def merge(self, other: RunStats) -> None:
        self.messages += other.messages
        self.latency.extend(other.latency)
        for name in (
            "storage_per_message",
            "reads_per_message",
            "transactions_per_message",
            "routing_per_message",
            "other_per_message",
            "outcomes",
        ):
            getattr(self, name).update(getattr(other, name))

    def mean(self, name: str) -> float:
        hist: Counter = getattr(self, name)
        n = sum(hist.values())
        return sum(k * v for k, v in hist.items()) / n if n else float("nan")

    def summary(self) -> dict:
        return {
            "label": self.label,
            "workers": self.workers,
            "messages": self.messages,
            "wall_s": round(self.wall_s, 3),
            "per_s": round(self.per_s, 1),
            **{k: round(v, 2) for k, v in self.latency.summary().items() if k != "n"},
            "storage_requests_per_message": round(self.mean("storage_per_message"), 3),
            "storage_requests_histogram": dict(sorted(self.storage_per_message.items())),
            "reads_histogram": dict(sorted(self.reads_per_message.items())),
            "transactions_histogram": dict(sorted(self.transactions_per_message.items())),
            "routing_requests_per_message": round(self.mean("routing_per_message"), 3),
            "other_requests_per_message": round(self.mean("other_per_message"), 3),
            "cpu_python_ms_per_message": round(self.cpu_ms("python"), 3),
            "cpu_storage_ms_per_message": round(self.cpu_ms("storage"), 3),
            "outcomes": dict(self.outcomes),
        }

    def cpu_ms(self, who: str) -> float:
        spent = self.cpu_python_s if who == "python" else self.cpu_storage_s
        return spent * 1000 / self.messages if self.messages else float("nan")


class Driver:
    """Sends messages to the registered function and records latency, requests and outcome of each."""

    def __init__(self, function: Callable, counter: BenchCounter, memory: MemoryProbe, service):
        self.function, self.counter, self.memory = function, counter, memory
        self._outcome = threading.local()
        # PromotionService.observers: called with each message's Result on the handling thread.
        service.observers.append(lambda result: setattr(self._outcome, "value", result.outcome))

    def send(self, payload: bytes, message_id: str, stats: RunStats, *, delivery: int = 1) -> None:
        message = service_bus_message(
            payload, message_id=message_id, delivery_count=delivery, enqueued=datetime.now(UTC)
        )
        self._outcome.value = "none"
        self.counter.begin()
        t0 = time.perf_counter()
        self.function(message)
        elapsed = time.perf_counter() - t0
        requests = self.counter.end()
        self.memory.tick()
        stats.messages += 1
        stats.latency.add(elapsed * 1000)
        stats.storage_per_message[sum(n for (t, _), n in requests.items() if t == RELEASES_TABLE)] += 1
        stats.reads_per_message[sum(requests[(RELEASES_TABLE, k)] for k in READS)] += 1
        stats.transactions_per_message[requests[(RELEASES_TABLE, "transaction")]] += 1
        stats.routing_per_message[sum(n for (t, _), n in requests.items() if t == ROUTING_TABLE)] += 1
        stats.other_per_message[
            sum(n for (t, _), n in requests.items() if t not in (RELEASES_TABLE, ROUTING_TABLE))
        ] += 1
        stats.outcomes[self._outcome.value] += 1


def combine(label: str, workers: int, parts: list[RunStats]) -> RunStats:
    """Rounds of the same measurement as one: messages and wall time add up."""
    total = RunStats(
        label,
        workers,
        wall_s=sum(p.wall_s for p in parts),
        cpu_python_s=sum(p.cpu_python_s for p in parts),
        cpu_storage_s=sum(p.cpu_storage_s for p in parts),
    )
    for p in parts:
        total.merge(p)
    return total


def chunks(items: list, n: int) -> list[list]:
    return [items[i * len(items) // n : (i + 1) * len(items) // n] for i in range(n)]


CPU = CpuClock()  # run.py points it at the Azurite process


class Workers:
    """Long-lived worker threads, as the Functions Python worker keeps a fixed thread pool: a run hands work
    to the first N of them, so no run pays for (or leaves memory behind from) creating threads."""

    def __init__(self, size: int):
        self.queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(size)]
        for i, q in enumerate(self.queues):
            threading.Thread(target=self._loop, args=(q,), name=f"worker-{i}", daemon=True).start()

    @staticmethod
    def _loop(q: queue.SimpleQueue) -> None:
        while (task := q.get()) is not None:
            task()

    def close(self) -> None:
        for q in self.queues:
            q.put(None)

    def run(self, label: str, workers: int, jobs: list, work: Callable[[list, RunStats], None]) -> RunStats:
        """Split `jobs` (releases) round-robin over `workers` threads, start them together, merge their stats."""
        if workers > len(self.queues):
            raise ValueError(f"{workers} workers asked, the pool has {len(self.queues)}")
        shares = [jobs[i::workers] for i in range(workers)]
        per_thread = [RunStats(label, workers) for _ in range(workers)]
        errors: list[BaseException] = []
        gate = threading.Barrier(workers + 1)
        done = threading.Semaphore(0)

        def task(i: int) -> Callable[[], None]:
            def run() -> None:
                try:
                    gate.wait()
                    work(shares[i], per_thread[i])
                except BaseException as exc:  # noqa: BLE001 - raised again by the caller
                    errors.append(exc)
                finally:
                    done.release()

            return run

        for i in range(workers):
            self.queues[i].put(task(i))
        cpu0 = CPU.read()
        gate.wait()
        t0 = time.perf_counter()
        for _ in range(workers):
            done.acquire()
        wall = time.perf_counter() - t0
        cpu1 = CPU.read()
        total = RunStats(label, workers, wall_s=wall, cpu_python_s=cpu1[0] - cpu0[0], cpu_storage_s=cpu1[1] - cpu0[1])
        if errors:
            raise errors[0]
        for s in per_thread:
            total.merge(s)
        return total


def drive_releases(driver: Driver, shape: Shape, category: str) -> Callable[[list, RunStats], None]:
    """A worker: the whole life cycle of each of its releases, one message at a time (its sessions)."""

    def work(releases: list[str], stats: RunStats) -> None:
        driver.counter.category(category)
        for release in releases:
            for mid, kind, workload, data, _ in lifecycle(release, shape):
                driver.send(body(kind, release, workload, data, id=mid), mid, stats)

    return work


def drive_duplicates(driver: Driver, shape: Shape, every: int) -> Callable[[list, RunStats], None]:
    """A worker: redelivers every `every`-th message of its (already driven) releases with the same id."""

    def work(releases: list[str], stats: RunStats) -> None:
        driver.counter.category("duplicate")
        for release in releases:
            for i, (mid, kind, workload, data, _) in enumerate(lifecycle(release, shape)):
                if i % every == every - 1:
                    driver.send(body(kind, release, workload, data, id=mid), mid, stats, delivery=2)

    return work


def long_release(driver: Driver, shape: Shape, release: str, window: int) -> dict[str, RunStats]:
    """A release whose message count passes the window of recent ids kept in the release row
    (shared.domain.model.SEEN_WINDOW): replications, then ignored alerts until `window` messages are recorded,
    then the rest of the life cycle (new ids beyond the window), then redeliveries of its first ids."""
    stats = {name: RunStats(name, 1) for name in ("long-fill", "event-beyond-window", "duplicate-beyond-window")}
    steps = list(lifecycle(release, shape))
    first = [s for s in steps if s[1] == "asset-replicated"]
    rest = [s for s in steps if s[1] != "asset-replicated"]
    driver.counter.category("long-fill")
    for mid, kind, workload, data, _ in first:
        driver.send(body(kind, release, workload, data, id=mid), mid, stats["long-fill"])
    for i in range(max(0, window - len(first))):
        mid = str(uuid.uuid5(_IDS, f"{release}/alert/{i}"))
        data = {"severity": "Sev4", "description": "bench filler: an informational alert before any flight"}
        driver.send(body("alert", release, shape.names()[i % shape.workloads], data, id=mid), mid, stats["long-fill"])
    driver.counter.category("event-beyond-window")
    for mid, kind, workload, data, _ in rest:
        driver.send(body(kind, release, workload, data, id=mid), mid, stats["event-beyond-window"])
    driver.counter.category("duplicate-beyond-window")
    for mid, kind, workload, data, _ in first[: shape.workloads]:
        driver.send(body(kind, release, workload, data, id=mid), mid, stats["duplicate-beyond-window"], delivery=2)
    return stats


def check_promoted(store, releases: list[str]) -> list[str]:
    """Every workload of every release promoted at 100%: the life cycle really ran."""
    problems = []
    for name in releases:
        release = store.get_release(name).release
        for w in release.workloads.values():
            if w.state != "promoted" or w.traffic_percent != 100:
                problems.append(f"{name}/{w.name}: {w.state} at {w.traffic_percent}%")
    return problems
