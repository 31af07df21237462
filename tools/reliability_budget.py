"""The reliability run's budget block (issue 23): a staged release whose routing goes through the local Resource
Manager that enforces Azure's write bucket (tests/routing/fake_arm.py, over HTTPS), under random bursts of 429s
and a host SIGKILLed while the release-level move's writes are in flight.

On an Azurite of its own, with host processes of its own (tools/faults.py with no fault of its own: the real
router factory, which coalesces a route table's routes into one PUT, and the real progress store):
- the release's workloads are route tables' routes (a table written once for all its routes), load balancers
  and Traffic Manager profiles of a workload each (tests/routing/batch_world.py); its plan's budget is the
  stand-in's bucket, so promote paces itself to it;
- every workload's asset and tests are reported (each message delivered 1-3 times); the last one ready moves the
  whole release as one batch; with --long, a release-wide rollback then moves it back as another;
- while a move's writes go on, bursts of 429 (SubscriptionRequestsThrottled, Retry-After 1 s) are injected at
  random, and once a third of the move's writes are made every host is SIGKILLed; the message comes back when
  its lock expires and another host finishes the move (every unit reads first and writes only what differs);
- all along, a sampler reads the release as status does, then each workload's routing from the stand-in's own
  state, and notes any workload recorded at a share its routing does not have (promote moves routing first and
  commits after: during a move 0 -> 100 a workload may be recorded at 0 while its routing is at 100, never the
  other way round).
Then every message is accounted for (an outcome in history, or a dead letter with its reason), every
workload's recorded state and share are compared with the stand-in's routing, and the last move's progress
record must be a finished move of every workload. A kill counts as mid-batch only if the move's writes were not
all made by then. The block has a deadline (300 s short, 1800 s long), and a wait stops at once, with the reason,
when what it waits for can no longer come (a dead letter, a workload given up, a decision deferred by promote's
retry: a 429 must be waited out, never fail a move); before, such a run waited 600 s per step and then raised.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
CRASH_AT = 1 / 3  # the share of a move's writes after which every host is killed
CHECK_EVERY = 3.0  # seconds between two looks for what no waiting can mend (dead letters, a move given up)


class Stuck(RuntimeError):
    """The run cannot get where it waits for: its deadline passed, or what it waits for can no longer happen."""


@dataclass
class BudgetFigures:
    workloads: int = 0
    mix: str = ""
    deliveries: int = 0
    ids: int = 0
    moves: int = 0  # release-level moves carried out (the promotion; with --long the rollback too)
    writes: int = 0  # successful Azure writes, all moves (a crashed move's redelivery writes only what is left)
    writes_minimum: int = 0  # the coalesced minimum of the moves (shared/domain/budget.move_calls)
    bursts: int = 0  # bursts of 429 injected
    injected_429: int = 0  # 429s of those bursts the hosts met
    bucket_429: int = 0  # 429s of the stand-in's own bucket (a restarted host's bucket is full, Azure's is not)
    crashes_mid_batch: int = 0  # every host SIGKILLed while some of a move's writes were still to be made
    crashes_after_batch: int = 0  # ... the kill came once every write of the move was made (not mid-batch)
    took: list = field(default_factory=list)  # seconds each move took, as its last progress record says
    samples: int = 0  # reads of the release and its routing during the moves
    misreported: list = field(default_factory=list)  # a workload recorded at a share its routing did not have
    outcomes: Counter = field(default_factory=Counter)
    lost: list = field(default_factory=list)
    divergences: list = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("budget: staged release over the throttling Resource Manager (workloads)", self.workloads),
            ("budget:   its mix", self.mix),
            ("budget: messages injected (deliveries)", self.deliveries),
            ("budget: distinct message ids", self.ids),
            ("budget: release-level moves", self.moves),
            ("budget: Azure writes made (coalesced minimum of the moves)", f"{self.writes} ({self.writes_minimum})"),
            ("budget: fault: bursts of 429 injected", self.bursts),
            ("budget:   429s of the bursts met by the hosts", self.injected_429),
            ("budget:   429s of the stand-in's own bucket", self.bucket_429),
            ("budget: fault: every host SIGKILLed with writes in flight", self.crashes_mid_batch),
            ("budget:   killed only after the move's last write (not mid-batch)", self.crashes_after_batch),
            ("budget: each move took (s, from its progress record)", ", ".join(f"{t:.1f}" for t in self.took)),
            ("budget: reads of share vs. routing during the moves", self.samples),
            ("**budget: workloads recorded at a share their routing did not have**", len(self.misreported)),
            ("**budget: messages lost**", len(self.lost)),
            ("**budget: divergences**", len(self.divergences)),
            ("budget: run time (s)", round(self.seconds, 1)),
        ]


def share_of(arm: Any, routing: Any, tables: dict[str, dict[str, str]]) -> int | None:
    """A workload's share as the stand-in's own state has it: 0, 100, or None between the two (a Traffic
    Manager profile with both endpoints on, between its two PATCHes). `tables`: route tables read so far."""
    from tests.routing import arm_resources as res
    from tests.routing import batch_world as bw

    r = routing
    if r.provider == "route-table":
        if r.route_table not in tables:
            tables[r.route_table] = bw.hops(arm, r.route_table)
        hop = tables[r.route_table][r.route]
        return 100 if hop == r.target_next_hop else 0 if hop == r.source_next_hop else None
    if r.provider == "load-balancer":
        pool = arm.get(f"{res.NET}/loadBalancers/{r.load_balancer}/backendAddressPools/{r.backend_pool}")
        held = [a["properties"]["ipAddress"] for a in pool["properties"]["loadBalancerBackendAddresses"]]
        return 100 if held == list(r.target_addresses) else 0 if held == list(r.source_addresses) else None
    profile = arm.get(f"{res.NET}/trafficManagerProfiles/{r.profile}")
    on = {e["name"] for e in profile["properties"]["endpoints"] if e["properties"]["endpointStatus"] == "Enabled"}
    return 100 if on == {r.target_endpoint} else 0 if on == {r.source_endpoint} else None


def counting_arm():
    """The local Resource Manager, serving, that counts successful writes and calls `on_write(n)` after each."""
    import tempfile

    from tests.routing.fake_arm import FakeArm, self_signed_certificate

    @dataclass
    class CountingArm(FakeArm):
        made: int = 0
        injected: int = 0
        on_write: Any = None

        def handle(self, method, target, headers, body):
            status, out_headers, out_body = super().handle(method, target, headers, body)
            if status == 429 and "injected" in json.dumps(out_body or {}):
                self.injected += 1
            if method in ("PUT", "PATCH", "DELETE") and status < 300:
                with self.lock:
                    self.made += 1
                    made = self.made
                if self.on_write is not None:
                    self.on_write(made)
            return status, out_headers, out_body

    cert, key = self_signed_certificate(Path(tempfile.mkdtemp(prefix="reliability-budget-arm-")))
    arm = CountingArm()
    return arm, arm.serve(cert, key), cert


class BudgetBlock:
    def __init__(
        self,
        *,
        tables: int,
        routes: int,
        pools: int,
        profiles: int,
        rollback: bool,
        lock: int,
        per_s: int,
        seed,
        deadline: float,
        burst: int | None = None,
    ):
        self.rng = random.Random(seed)
        # the whole block's time: past it, the run stops with what it waited for (a hung run fails, with a reason)
        self.deadline_s, self.deadline = deadline, float("inf")
        self.burst_size = burst or 2 * per_s  # the write bucket's size
        self.size = (tables, routes, pools, profiles)
        self.rollback, self.lock, self.per_s = rollback, lock, per_s  # per_s: the write bucket's refill a second
        self.figures = BudgetFigures(
            mix=f"{tables} route tables x {routes} routes, {pools} LBs, {profiles} TM profiles"
        )
        self.injected: Counter = Counter()
        self.name = f"budget-{datetime.now(UTC).strftime('%H%M%S')}"
        self.move: tuple[int, int] | None = None  # the move under way (from %, to %), for the sampler
        self.crash_after: int | None = None  # the write count at which every host is killed (once a move)
        self.move_ends: int = 0  # the write count at which the move under way has made its coalesced minimum
        self.crash = threading.Event()
        self.stop = threading.Event()

    def run(self) -> BudgetFigures:
        from shared.local.azurite import start

        started = time.monotonic()
        self.deadline = started + self.deadline_s
        azurite = start()
        arm, server, cert = counting_arm()
        try:
            self._run(azurite, arm, cert)
        finally:
            self.stop.set()
            server.stop()
            azurite.stop()
        self.figures.seconds = time.monotonic() - started
        return self.figures

    def _run(self, azurite, arm, cert) -> None:
        import dataclasses
        import os

        from shared.application.bootstrap import Stack
        from shared.application.config import LOCAL_QUEUE, load_settings
        from tests.routing import batch_world as bw
        from tests.routing.fake_arm import ArmBudget
        from tools.reliability_dns import CREDENTIAL_FLAG, arm_settings

        f = self.figures
        # the plan's budget is the stand-in's bucket: promote paces itself to it, and what 429s there are come
        # from the bursts and from a restarted host, whose bucket is full while Azure's is not
        arm.budget = ArmBudget(writes_per_s=self.per_s, write_burst=self.burst_size)
        tables, routes, pools, profiles = self.size
        workloads = bw.seed_world(arm, tables=tables, routes_per_table=routes, pools=pools, profiles=profiles)
        self.plan = bw.staged_plan(
            workloads,
            release=self.name,
            approval="auto",
            operators=[OPERATOR],
            budgets={"arm_writes_per_s": self.per_s, "arm_write_burst": self.burst_size},
        )
        f.workloads = len(workloads)
        settings = arm_settings(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}))
        settings = dataclasses.replace(settings, arm_endpoint=arm.url)
        self.stack = Stack(settings)
        self.queue = self.stack.queue(LOCAL_QUEUE)
        self.stack.service.apply(self.plan)
        arm.on_write = self._on_write
        self.arm = arm
        env = {
            **os.environ,
            "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "PROMOTE_ARM_ENDPOINT": arm.url,
            "REQUESTS_CA_BUNDLE": str(cert),
            CREDENTIAL_FLAG: "1",
        }
        hosts = plain_hosts(env, 2, self.rng, self.lock)
        threads = [
            threading.Thread(target=self._killer, args=(hosts,), daemon=True),
            threading.Thread(target=self._bursts, daemon=True),
            threading.Thread(target=self._sampler, args=(settings,), daemon=True),
        ]
        hosts.start()
        for t in threads:
            t.start()
        try:
            self.drive()
        except Stuck as exc:  # counted, and the rest accounted for: the run fails with its reason, never hangs
            print(f"budget: STOPPED: {exc}", flush=True)
            f.divergences.append(f"run stopped: {exc}")
        finally:
            self.stop.set()
            hosts.shutdown()
            for t in threads:
                t.join(timeout=10)
        f.injected_429, f.bucket_429 = arm.injected, arm.throttled
        self.account()

    # -- faults ----------------------------------------------------------------------------------------------
    def _on_write(self, made: int) -> None:
        if self.crash_after is not None and made >= self.crash_after:
            self.crash_after = None
            self.crash.set()

    def _killer(self, hosts) -> None:
        while not self.stop.is_set():
            if self.crash.wait(0.2):
                self.crash.clear()
                hosts.kill_all()
                made = self.arm.made  # the writes made by the kill: a batch cut short has some still to make
                if made < self.move_ends:
                    self.figures.crashes_mid_batch += 1
                else:
                    self.figures.crashes_after_batch += 1
                print(f"budget: every host SIGKILLed after {made} writes (the move's minimum ends at "
                      f"{self.move_ends})", flush=True)  # fmt: skip

    def _bursts(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.5, 2.0)):
            if self.move is None:
                continue
            self.burst(self.rng.choice(("PUT", "PUT", "PATCH", "GET")), self.rng.randint(1, 3))

    def burst(self, method: str, times: int) -> None:
        """The next `times` requests of `method` answered 429 with Retry-After 1 s, as a bucket shared with callers
        promote cannot see answers."""
        with self.arm.lock:
            self.arm.fail(
                method, "/subscriptions/", 429, times=times, retry_after="1", code="SubscriptionRequestsThrottled"
            )
        self.figures.bursts += 1

    def _sampler(self, settings) -> None:
        """Reads the release as status does, then each workload's routing; a workload recorded at the share a
        move goes to before its routing has it is misreported (routing first, commit after)."""
        from shared.application.bootstrap import Stack

        store = Stack(settings).store  # a client of its own
        routing = {w.name: w.routing for w in self.plan.workloads}
        while not self.stop.wait(0.2):
            move = self.move
            if move is None:
                continue
            try:
                recorded = {n: w.traffic_percent for n, w in store.get_release(self.name).release.workloads.items()}
            except Exception:  # storage busy for a moment: read again
                continue
            tables: dict[str, dict[str, str]] = {}
            live = {n: share_of(self.arm, routing[n], tables) for n in recorded}
            self.figures.samples += 1
            for name, share in recorded.items():
                if share != live[name] and share != move[0]:
                    self.figures.misreported.append(f"{name}: recorded at {share}%, its routing at {live[name]}%")

    # -- driving -----------------------------------------------------------------------------------------------
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

    def event(self, type_: str, workload: str | None, id_: str, **data) -> dict:
        return {
            "specversion": "1.0",
            "id": id_,
            "source": "reliability-budget",
            "type": type_,
            "data": {"release": self.name, **({"workload": workload} if workload else {}), **data},
        }

    def wait(self, what: str, test) -> None:
        """Until every workload passes `test`; Stuck at the block's deadline, or at once when what it waits for
        can no longer come: a message dead-lettered, a move given up (attention) or deferred by promote's retry
        (a 429 is never a failure of a move: it waits)."""
        from tools.faults import retry

        began = looked = time.monotonic()
        while True:
            workloads = retry(lambda: self.stack.store.get_release(self.name).release.workloads, attempts=60)
            behind = [n for n, w in workloads.items() if not test(w)]
            if not behind:
                print(f"budget: {what} in {time.monotonic() - began:.0f}s", flush=True)
                return
            if time.monotonic() >= self.deadline:
                raise Stuck(
                    f"{what}: past the block's deadline ({self.deadline_s:.0f} s), {len(behind)} workload(s) not "
                    f"there, e.g. {behind[:3]}"
                )
            if time.monotonic() - looked >= CHECK_EVERY:
                looked = time.monotonic()
                why = self.cannot_come(workloads)
                if why:
                    raise Stuck(f"{what}: {why}")
            time.sleep(0.3)

    def cannot_come(self, workloads: dict) -> str | None:
        """What makes waiting pointless, if anything: a dead letter, a workload stuck, a deferred decision."""
        from shared.application.config import POISON_QUEUE
        from tools.faults import retry

        stuck = [f"{n}: {w.stuck}" for n, w in workloads.items() if w.stuck]
        if stuck:
            return f"{len(stuck)} workload(s) given up (attention), e.g. {stuck[0][:300]}"
        letters = retry(lambda: self.stack.queue(POISON_QUEUE).peek_messages(max_messages=1), attempts=60)
        if letters:
            return f"a message was dead-lettered: {str(json.loads(letters[0].content).get('reason', ''))[:300]}"
        history = retry(lambda: self.stack.store.list_history(self.name), attempts=60)
        deferred = next((e for e in history if "not carried out" in e.reason), None)
        if deferred is not None:
            return f"a decision was not carried out (retried later): {deferred.reason[:300]}"
        return None

    def moved(self, what: str, shares: tuple[int, int], messages: list[dict], state: str) -> None:
        """Publish the messages that make a release-level move, with its faults, until every workload is there."""
        from shared.domain.budget import move_calls

        ahead = [(w.name, w.routing, shares[0], shares[1]) for w in self.plan.workloads]
        writes = move_calls(ahead, batched=True)[0]
        self.figures.writes_minimum += writes
        self.crash_after = self.arm.made + max(1, int(writes * CRASH_AT))
        self.move_ends = self.arm.made + writes
        self.move = shares
        self.burst("PUT", 2)  # one burst the move meets for certain; the others at random while it goes on
        self.publish(messages)
        self.wait(what, lambda w: w.state == state and w.traffic_percent == shares[1])
        self.move = None
        self.figures.moves += 1
        done = self.stack.routing_progress.read(self.name)
        if done is not None and done.took_s is not None:
            self.figures.took.append(done.took_s)

    def drive(self) -> None:
        names = [w.name for w in self.plan.workloads]
        self.publish([self.event("asset-replicated", n, f"{n}-a", asset=n) for n in names])
        self.wait("assets", lambda w: w.state == "testing")
        last, rest = names[-1], names[:-1]
        self.publish([self.event("tests-passed", n, f"{n}-t") for n in rest])
        self.wait("tests", lambda w: w.name == last or w.state == "ready")
        self.moved("promotion", (0, 100), [self.event("tests-passed", last, f"{last}-t")], "promoted")
        if self.rollback:
            rollback = self.event("override", None, "rollback", action="rollback", actor=OPERATOR, reason="CAB")
            self.moved("rollback", (100, 0), [rollback], "rolled-back")
        self.drain()

    def drain(self, timeout: float = 60) -> None:
        from tools.faults import retry

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if retry(lambda: self.queue.get_queue_properties().approximate_message_count, attempts=60) == 0:
                return
            time.sleep(0.3)

    # -- accounting --------------------------------------------------------------------------------------------
    def account(self) -> None:
        from shared.application.config import POISON_QUEUE

        f = self.figures
        f.writes = self.arm.made
        seen: dict[str, Counter] = {}
        decided: dict[str, set] = {}  # id -> the instants it was decided at (a release-wide decision: one)
        for entry in self.stack.store.list_history(self.name):
            seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
            if entry.outcome != "duplicate":
                decided.setdefault(entry.event_id, set()).add(entry.at)
        dead = [json.loads(m.content) for m in self.stack.queue(POISON_QUEUE).peek_messages(max_messages=32)]
        for letter in dead:
            f.divergences.append(f"dead-lettered: {str(letter.get('reason', ''))[:200]}")
        for event_id in self.injected:
            outcomes = seen.get(event_id)
            if not outcomes:
                f.lost.append(event_id)
                continue
            f.outcomes.update({k: 1 if k != "duplicate" else v for k, v in outcomes.items()})
            if not set(outcomes) <= {"applied", "duplicate"} or len(decided.get(event_id, ())) != 1:
                f.divergences.append(f"{event_id}: {dict(outcomes)}, decided {len(decided.get(event_id, ()))} times")
        f.ids = len(self.injected)
        end = ("rolled-back", 0) if self.rollback else ("promoted", 100)
        progress = self.stack.routing_progress.read(self.name)  # status' routing line once the hosts are gone
        if progress is None or not progress.finished or progress.failed or progress.total != f.workloads:
            f.divergences.append(
                f"the last move's progress record is not a finished move of every workload: {progress}"
            )
        tables: dict[str, dict[str, str]] = {}
        for name, w in self.stack.store.get_release(self.name).release.workloads.items():
            live = share_of(self.arm, self.plan.workload(name).routing, tables)  # type: ignore[union-attr]
            if (w.state, w.traffic_percent, live) != (*end, end[1]):
                f.divergences.append(f"{name}: recorded {w.state} at {w.traffic_percent}%, its routing at {live}%")
        f.divergences += [f"misreported during a move: {m}" for m in f.misreported]  # the run's one count


def plain_hosts(env: dict, count: int, rng: random.Random, lock: int):
    """`count` host processes under the run's supervisor (tools/reliability.Hosts, no random kills), each a plain
    tools/faults.py host: the real stack, which coalesces a route table's writes and records progress (a host
    with faults of its own wraps the router factory, which then cannot coalesce). `kill_all` SIGKILLs every one
    and starts new ones."""
    from tools.reliability import Figures, Hosts

    class Plain(Hosts):
        def _spawn(self):
            args = [sys.executable, str(REPO / "tools" / "faults.py"), "--forever", "--lock", str(self.lock_seconds)]
            proc = subprocess.Popen(args, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            threading.Thread(target=self._read, args=(proc,), daemon=True).start()
            return proc, None

        def kill_all(self) -> None:
            with self.lock:
                for i, (proc, _) in enumerate(self.procs):
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    self.procs[i] = self._spawn()

    return Plain(env, count, rng, Figures(), 1e9, lock=lock)


def budget_block(args) -> BudgetFigures:
    """The budget block at the run's size: --long 300 workloads (route tables of 20 routes, load balancers and
    Traffic Manager profiles), a promotion and a rollback, each cut short by a crash; the short form (make
    test) 16 workloads and the promotion alone, the same code and the same faults."""
    if args.long:
        block = BudgetBlock(
            tables=5,
            routes=20,
            pools=100,
            profiles=100,
            rollback=True,
            lock=45,
            per_s=10,
            seed=args.seed,
            deadline=1800,
        )
    else:  # a bucket of 5 for its 14 writes: the move lasts about 2 s, and the kill lands before its last write
        block = BudgetBlock(
            tables=2, routes=4, pools=4, profiles=4, rollback=False, lock=3, per_s=5, burst=5, seed=args.seed,
            deadline=300,
        )  # fmt: skip
    return block.run()
