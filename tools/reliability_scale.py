"""The reliability run's scale block (issue 22): a staged release and a flight release kept in shards, moved
release-wide while host processes are SIGKILLed at random and at the points of a move (before its commit point,
right after it, in the middle of the shards' catch-up), and while a reader keeps reading them.

On an Azurite of its own, with hosts of its own (a message lock long enough for a move of 1,000 workloads):
- the staged release: every workload's asset, a release-wide pause, a release-wide resume, every workload's
  tests (the last one moves the release at once), then a release-wide rollback;
- the flight release: assets, a release-wide pause and resume, tests (flight 1), two verdicts (100%, promoted).
Every message is delivered 1-3 times. A reader thread reads both releases all along, whole, through the shards'
summaries (what status and the board read) and one shard at a time (what a workload's message reads), and
checks that no read shows a release-wide decision on some workloads and not on others, and that no read goes
back to before a decision an earlier read showed. Then every id is accounted for, and every workload's end
state, its traffic trail and its live routing are compared with what they must be.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
STAGED, FLIGHT = "scale-staged", "scale-flight"
# The release-wide stages a reader may see, in the order they are decided (a redelivered decision is a duplicate
# and changes nothing, so a read never goes back in this order)
STAGED_ORDER = ("open", "paused", "open", "promoted", "rolled-back")
FLIGHT_ORDER = ("open", "paused", "open")
MOVED = {STAGED: ("rolled-back", "promoted"), FLIGHT: ()}  # a flight release's workloads move one by one


@dataclass(frozen=True)
class Item:
    """A workload as its shard's summary tells it."""

    state: str
    paused: bool
    flight: int


@dataclass
class ScaleFigures:
    staged: int = 0
    flight: int = 0
    shard_size: int = 0
    deliveries: int = 0
    ids: int = 0
    moves: int = 0  # release-wide decisions committed (one history entry each, holding every workload's)
    random_kills: int = 0
    crash_points: Counter = field(default_factory=Counter)
    answers_lost: int = 0  # catch-ups whose answer was lost after the service applied them
    shares_lost: int = 0  # writes of a release's routing shares record whose answer was lost likewise
    reads: Counter = field(default_factory=Counter)
    half_moved: list = field(default_factory=list)  # reads that showed a release half moved, or going back
    lost: list = field(default_factory=list)
    divergences: list = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, object]]:
        shards = -(-self.staged // self.shard_size) if self.shard_size else 0
        return [
            ("scale: staged release (workloads; shards)", f"{self.staged}; {shards} of {self.shard_size}"),
            ("scale: flight release (workloads)", self.flight),
            ("scale: messages injected (deliveries)", self.deliveries),
            ("scale: distinct message ids", self.ids),
            ("scale: release-wide decisions committed", self.moves),
            ("scale: fault: host SIGKILLed at a random moment", self.random_kills),
            ("scale: fault: SIGKILL after routing, before the commit point", self.crash_points["before-commit-point"]),
            ("scale: fault: SIGKILL after the commit point, before catch-up", self.crash_points["after-commit-point"]),
            ("scale: fault: SIGKILL in the middle of the shards' catch-up", self.crash_points["mid-catch-up"]),
            ("scale: fault: a catch-up's answer lost (connection reset)", self.answers_lost),
            ("scale: fault: a routing shares record's answer lost (connection reset)", self.shares_lost),
            ("scale: reads during the run: whole", self.reads["whole"]),
            ("scale: reads during the run: summaries", self.reads["summaries"]),
            ("scale: reads during the run: one shard", self.reads["shard"]),
            ("scale: accounted: applied", self.outcomes["applied"]),
            ("scale: accounted: duplicate", self.outcomes["duplicate"]),
            ("**scale: reads that saw a release half moved**", len(self.half_moved)),
            ("**scale: messages lost**", len(self.lost)),
            ("**scale: divergences**", len(self.divergences)),
            ("scale: run time (s)", round(self.seconds, 1)),
        ]


# -- the reader -------------------------------------------------------------------------------------------------
def stage(items: list[tuple[str, bool]], moved_states: tuple[str, ...]) -> str:
    """The release-wide stage a read shows, from each workload's (state, paused); `half` if it shows one
    decision on some workloads and not on others. `moved_states`: states only a release-wide decision gives."""
    states = Counter(s for s, _ in items)
    paused = sum(1 for _, p in items if p)
    n = len(items)
    for moved in moved_states:
        if states[moved] == n:
            return moved
        if states[moved]:
            return "half"
    if paused == n:
        return "paused"
    return "half" if paused else "open"


class Order:
    """The stages one reader saw of one release, checked against the order they are decided in."""

    def __init__(self, order: tuple[str, ...]):
        self.order, self.at = order, 0

    def see(self, seen: str) -> bool:
        if seen == self.order[self.at]:
            return True
        later = [i for i in range(self.at + 1, len(self.order)) if self.order[i] == seen]
        if not later:
            return False
        self.at = later[0]
        return True


class Reader(threading.Thread):
    """Reads both releases over and over, in the three ways readers read them; records every bad read."""

    def __init__(self, connection_string: str, figures: ScaleFigures, rng: random.Random, pause: float = 0.02):
        super().__init__(name="scale-reader", daemon=True)
        from shared.application.bootstrap import Stack
        from shared.application.config import load_settings

        settings = load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": connection_string})
        self.store = Stack(settings).store  # its own client and its own cache of layouts
        self.figures, self.rng, self.stop, self.pause = figures, rng, threading.Event(), pause
        self.orders = {STAGED: Order(STAGED_ORDER), FLIGHT: Order(FLIGHT_ORDER)}
        self.sizes = {STAGED: figures.staged, FLIGHT: figures.flight}
        self.errors: Counter = Counter()
        self.known: set[str] = set()  # releases whose layout this reader's store has learnt

    def run(self) -> None:
        while not self.stop.is_set():
            for release in (STAGED, FLIGHT):
                how = self.rng.choice(("whole", "summaries", "shard"))
                try:
                    items = self.read(release, how)
                except Exception as exc:  # storage away for a moment, a host mid-commit: read again
                    self.errors[type(exc).__name__] += 1
                    continue
                self.figures.reads[how] += 1
                self.check(release, how, items)
            time.sleep(self.pause)

    def read(self, release: str, how: str) -> list[tuple[str, bool]]:
        if how == "summaries":
            _, summaries = self.store.summaries(release)
            return [(item[1], bool(item[2])) for k in sorted(summaries) for item in summaries[k].items]
        if how == "whole":
            workloads = self.store.get_release(release).release.workloads
        else:
            name = f"w{self.rng.randrange(self.sizes[release]):04d}"
            if release not in self.known:  # a shard is read alone once the store knows the release's layout
                self.store.get_release(release)
                self.known.add(release)
            workloads = self.store.get_release(release, name, whole=False).release.workloads
        return [(w.state.value, w.paused) for w in workloads.values()]

    def check(self, release: str, how: str, items: list[tuple[str, bool]]) -> None:
        expected = self.sizes[release]
        if how != "shard" and len(items) != expected:
            self.figures.half_moved.append(f"{release}: a {how} read showed {len(items)} of {expected} workloads")
            return
        seen = stage(items, MOVED[release])
        if seen == "half":
            self.figures.half_moved.append(f"{release}: a {how} read showed a release half moved: {Counter(items)}")
        elif not self.orders[release].see(seen):
            order = self.orders[release]
            self.figures.half_moved.append(
                f"{release}: a {how} read showed {seen!r} after a read had shown {order.order[order.at]!r}"
            )


# -- the block ------------------------------------------------------------------------------------------------------
class ScaleBlock:
    def __init__(self, *, staged: int, flight: int, shard_size: int, hosts: int, kill_every: float, lock: int, seed):
        self.rng = random.Random(seed)
        self.figures = ScaleFigures(staged=staged, flight=flight, shard_size=shard_size)
        self.hosts_count, self.kill_every, self.lock = hosts, kill_every, lock
        self.injected: Counter = Counter()
        self.names = {STAGED: [f"w{i:04d}" for i in range(staged)], FLIGHT: [f"w{i:04d}" for i in range(flight)]}

    def event(self, type_: str, release: str, workload: str | None, id_: str, **data) -> dict:
        return {
            "specversion": "1.0",
            "id": id_,
            "source": "reliability-scale",
            "type": type_,
            "data": {"release": release, **({"workload": workload} if workload else {}), **data},
        }

    def publish(self, docs: list[dict]) -> None:
        from tools.faults import retry

        self.rng.shuffle(docs)
        for doc in docs:
            copies = self.rng.choice((1, 1, 2, 2, 3))
            body = json.dumps(doc)
            for _ in range(copies):
                retry(lambda body=body: self.queue.send_message(body), attempts=60)
            self.injected[doc["id"]] += copies
            self.figures.deliveries += copies

    def override(self, release: str, action: str) -> dict:
        return self.event("override", release, None, f"{release}-{action}", action=action, actor=OPERATOR, reason="CAB")

    def wait(self, what: str, done: dict[str, Any], timeout: float = 1800) -> None:
        """Until every workload of each release in `done` satisfies its test, as the shards' summaries tell
        (one small read; the workloads' (state, paused, flight))."""
        from tools.faults import retry

        began = time.monotonic()
        deadline, said = began + timeout, began
        while time.monotonic() < deadline:
            behind = []
            for release, test in done.items():
                _, summaries = retry(lambda r=release: self.store.summaries(r), attempts=60)
                items = [item for k in sorted(summaries) for item in summaries[k].items]
                behind += [f"{release}/{i[0]}" for i in items if not test(Item(i[1], bool(i[2]), i[4]))]
            if not behind:
                print(f"scale: {what} done in {time.monotonic() - began:.0f}s", flush=True)
                return
            if time.monotonic() - said > 30:
                said = time.monotonic()
                print(f"scale: {what}: {len(behind)} workload(s) to go, e.g. {behind[:2]}", flush=True)
            time.sleep(0.5)
        raise TimeoutError(f"scale: {what}: {len(behind)} workload(s) did not get there, e.g. {behind[:3]}")

    def run(self) -> ScaleFigures:
        from shared.local.azurite import start

        started = time.monotonic()
        azurite = start()
        try:
            return self._run(azurite, started)
        finally:
            azurite.stop()

    def _run(self, azurite, started: float) -> ScaleFigures:
        import dataclasses
        import os

        from shared.application.bootstrap import Stack
        from shared.application.config import LOCAL_QUEUE, load_settings
        from shared.domain.plan import validate_plan
        from tools.faults import LOSE_ANSWERS, MOVE_POINTS
        from tools.reliability import Figures, Hosts

        f = self.figures
        settings = dataclasses.replace(
            load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}), shard_size=f.shard_size
        )
        stack = Stack(settings)
        self.store, self.queue = stack.store, stack.queue(LOCAL_QUEUE)
        common = {"approval": "auto", "approvers": [APPROVER], "operators": [OPERATOR]}
        stack.service.apply(
            validate_plan(
                {
                    "release": STAGED,
                    "model": "staged",
                    **common,
                    "workloads": [{"name": n, "assets": [f"vm-{n}"]} for n in self.names[STAGED]],
                }
            )
        )
        stack.service.apply(
            validate_plan(
                {
                    "release": FLIGHT,
                    "model": "flight",
                    **common,
                    "flights": [{"percent": 50}, {"percent": 100}],
                    "workloads": [{"name": n, "assets": [f"vm-{n}"]} for n in self.names[FLIGHT]],
                }
            )
        )
        host_figures = Figures()
        env = {**os.environ, "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string, LOSE_ANSWERS: "3"}
        # most hosts die at a point of the first move whose first delivery they handle (its redelivery finishes
        # it), some never; and any at random
        points = (*MOVE_POINTS, *MOVE_POINTS, *MOVE_POINTS)
        hosts = Hosts(
            env, self.hosts_count, self.rng, host_figures, self.kill_every, lock=self.lock, points=points, nth=(1, 1)
        )
        # the reader takes a breath between reads of a large release: the hosts need the CPU more
        pause = 0.02 if f.staged <= 100 else 0.5
        reader = Reader(azurite.connection_string, f, random.Random(self.rng.random()), pause)
        hosts.start()
        reader.start()
        try:
            self.drive()
        finally:
            reader.stop.set()
            reader.join(timeout=30)
            hosts.shutdown()
            f.random_kills, f.crash_points = host_figures.random_kills, host_figures.crash_points
            f.answers_lost = host_figures.answers_lost["catch-up"]
            f.shares_lost = host_figures.answers_lost["shares"]
        self.account(stack)
        f.seconds = time.monotonic() - started
        return f

    def drive(self) -> None:
        staged, flight = self.names[STAGED], self.names[FLIGHT]
        each = {STAGED: staged, FLIGHT: flight}
        self.publish(
            [
                self.event("asset-replicated", r, n, f"{r}-{n}-a", asset=f"vm-{n}")
                for r, names in each.items()
                for n in names
            ]
        )
        self.wait("assets", {STAGED: lambda w: w.state == "testing", FLIGHT: lambda w: w.state == "testing"})
        self.publish([self.override(STAGED, "pause"), self.override(FLIGHT, "pause")])
        self.wait("pause", {STAGED: lambda w: w.paused, FLIGHT: lambda w: w.paused})
        self.publish([self.override(STAGED, "resume"), self.override(FLIGHT, "resume")])
        self.wait("resume", {STAGED: lambda w: not w.paused, FLIGHT: lambda w: not w.paused})
        self.publish([self.event("tests-passed", r, n, f"{r}-{n}-t") for r, names in each.items() for n in names])
        self.wait(
            "tests",
            {STAGED: lambda w: w.state == "promoted", FLIGHT: lambda w: w.state == "flighting" and w.flight == 1},
        )
        self.publish(
            [self.override(STAGED, "rollback")]
            + [self.event("flight-healthy", FLIGHT, n, f"{FLIGHT}-{n}-h1", flight=1) for n in flight]
        )
        self.wait(
            "rollback and flight 1",
            {STAGED: lambda w: w.state == "rolled-back", FLIGHT: lambda w: w.flight == 2},
        )
        self.publish([self.event("flight-healthy", FLIGHT, n, f"{FLIGHT}-{n}-h2", flight=2) for n in flight])
        self.wait("flight 2", {FLIGHT: lambda w: w.state == "promoted"})
        self.drain()

    def drain(self, timeout: float = 120) -> None:
        """Until the redeliveries still queued have been handled (each is a duplicate by now)."""
        from tools.faults import retry

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if retry(lambda: self.queue.get_queue_properties().approximate_message_count, attempts=60) == 0:
                return
            time.sleep(0.5)

    def account(self, stack) -> None:
        from shared.adapters.routing.local import LocalRouter
        from shared.application.config import POISON_QUEUE, ROUTING_TABLE

        f = self.figures
        seen: dict[str, Counter] = {}
        decided: dict[str, set] = {}  # id -> the instants it was decided at (one decision: one instant)
        trails = {STAGED: [0, 100, 0], FLIGHT: [0, 50, 100]}
        ends = {STAGED: ("rolled-back", 0), FLIGHT: ("promoted", 100)}
        for release in (STAGED, FLIGHT):
            shares: dict[str, list[int]] = {}
            moves = set()
            for entry in self.store.list_history(release):
                seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
                if entry.outcome != "duplicate":
                    decided.setdefault(entry.event_id, set()).add(entry.at)
                    if entry.workload is not None and entry.event_id.endswith(("-pause", "-resume", "-rollback")):
                        moves.add(entry.event_id)
                trail = shares.setdefault(str(entry.workload), [0])
                if entry.traffic_percent is not None and entry.traffic_percent != trail[-1]:
                    trail.append(entry.traffic_percent)
            f.moves += len(moves) + (release == STAGED)  # and the staged release's promotion
            routing = stack.table(ROUTING_TABLE)
            for name, w in self.store.get_release(release).release.workloads.items():
                trail = shares.get(name, [0])
                if trail != trails[release]:
                    f.divergences.append(f"{release}/{name}: traffic moved {trail}")
                live = LocalRouter(routing, release, name).read()
                if (w.state, w.traffic_percent, live) != (*ends[release], ends[release][1]):
                    f.divergences.append(f"{release}/{name}: {w.state} {w.traffic_percent}% live {live}%")
        poisoned = list(stack.queue(POISON_QUEUE).peek_messages(max_messages=32))
        for message in poisoned:
            f.divergences.append(f"dead-lettered: {json.loads(message.content).get('reason', '')[:200]}")
        for event_id in self.injected:
            outcomes = seen.get(event_id)
            if not outcomes:
                f.lost.append(event_id)
                continue
            f.outcomes.update({k: 1 if k != "duplicate" else v for k, v in outcomes.items()})
            if not set(outcomes) <= {"applied", "duplicate"}:
                f.divergences.append(f"{event_id}: {dict(outcomes)}")
            if len(decided.get(event_id, ())) != 1:
                f.divergences.append(f"{event_id}: decided {len(decided.get(event_id, ()))} times")
        f.ids = len(self.injected)


def scale_block(args) -> ScaleFigures:
    """The scale block at the run's size: --long 1,000 staged and 500 flight workloads in shards of 97; the short
    form (make test) 30 and 16 in shards of 4, the same code and the same faults."""
    if args.long:
        block = ScaleBlock(staged=1000, flight=500, shard_size=97, hosts=3, kill_every=6.0, lock=30, seed=args.seed)
    else:
        block = ScaleBlock(staged=30, flight=16, shard_size=4, hosts=3, kill_every=5.0, lock=5, seed=args.seed)
    return block.run()
