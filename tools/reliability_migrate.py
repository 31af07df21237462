"""The reliability run's Azure Migrate part (issue 24, `--part migrate`): a release of workloads with
`source.provider: azure-migrate` and `rehearsal: {required: true}` taken from replication through rehearsal
(test migration, verdict, clean-up), cutover (migrate, the source shut down) and routing to complete migration,
on the strict stand-in vault (tests/migrate/fake_vault.py over HTTPS, the real Site Recovery client), while
hosts are SIGKILLed at random and at chosen steps: right after the vault accepted a job and before the
decision's commit (the job is then in flight and the message comes back), before a commit and after one.
The orchestrator plays Azure (each job ends a moment after it started) and the timer function (the vault
watcher's rounds); every message it sends is delivered 1-3 times.

Checked at the end:
- the stand-in saw each job started exactly once per machine and step (test migration, clean-up, migrate,
  complete migration): a redelivery finds the job under way and starts nothing;
- every message sent has its outcome (0 lost), applied once (duplicates say so);
- the store and the vault agree (0 divergences): every workload finalized with its four operations succeeded
  and the vault's job names, every migration item completed (gone), no job left running.

    python tools/reliability_migrate.py --short    # the short form (make test: tests/faults/test_reliability.py)
    python tools/reliability.py --short --part migrate   # the same, through the reliability run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-migrate/providers/Microsoft.RecoveryServices/vaults/vault-reliability"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-isolated"
POINTS = ("after-start", "after-migrate", "before-commit", "after-commit")
# after-start:   the vault accepted the job(s) of an Azure Migrate effect; nothing was committed (in flight)
# after-migrate: the same, of the cutover's migrate (the source shut down)
# before-commit: every effect carried out, nothing committed; after-commit: committed, the message not completed
SCENARIOS = ("TestMigrate", "TestMigrateCleanup", "Migrate", "DisableMigration")
JOB_SECONDS = 0.4  # how long a job of the stand-in runs before Azure (the orchestrator) ends it


@dataclass
class MigrateFigures:
    workloads: int = 0
    machines: int = 0
    deliveries: int = 0
    unique_ids: int = 0
    random_kills: int = 0
    crash_points: Counter = field(default_factory=Counter)
    jobs: Counter = field(default_factory=Counter)  # scenario -> jobs the stand-in started
    started_twice: list = field(default_factory=list)
    lost: list = field(default_factory=list)
    divergences: list = field(default_factory=list)
    doubled_applies: list = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def rows(self) -> list[tuple[str, object]]:
        return [
            ("migrate: workloads (azure-migrate, rehearsal required)", self.workloads),
            ("migrate: machines (migration items)", self.machines),
            ("migrate: messages delivered (1-3 copies each)", self.deliveries),
            ("migrate: jobs started: test migration", self.jobs["TestMigrate"]),
            ("migrate: jobs started: clean-up", self.jobs["TestMigrateCleanup"]),
            ("migrate: jobs started: migrate (source shut down)", self.jobs["Migrate"]),
            ("migrate: jobs started: complete migration", self.jobs["DisableMigration"]),
            (
                "migrate: fault: SIGKILL after the vault accepted a job, before the commit",
                self.crash_points["after-start"],
            ),
            (
                "migrate: fault: SIGKILL after the vault accepted a migrate (cutover)",
                self.crash_points["after-migrate"],
            ),
            ("migrate: fault: SIGKILL before the commit", self.crash_points["before-commit"]),
            ("migrate: fault: SIGKILL after the commit", self.crash_points["after-commit"]),
            ("migrate: fault: host SIGKILLed at a random moment", self.random_kills),
            ("migrate: **jobs started twice**", len(self.started_twice)),
            ("migrate: **messages lost**", len(self.lost)),
            ("migrate: **store/vault divergences**", len(self.divergences) + len(self.doubled_applies)),
            ("migrate: seconds", round(self.seconds, 1)),
        ]

    def problems(self) -> list[str]:
        return self.started_twice[:10] + self.lost[:10] + self.divergences[:10] + self.doubled_applies[:10]


# -- a host: the local Functions host, dying at a chosen step -------------------------------------------------
class DyingMigrator:
    """The service's Azure Migrate client, dying once the vault accepted the nth effect's job(s)."""

    def __init__(self, inner, countdown, op: str | None = None):
        self.inner, self.countdown, self.op = inner, countdown, op

    def start(self, effect):
        from tools.faults import die

        jobs = self.inner.start(effect)
        if jobs and self.op in (None, effect.op) and self.countdown.tick():
            die()  # the jobs run in the vault; the decision that started them is not committed
        return jobs

    def __getattr__(self, name):
        return getattr(self.inner, name)


def host(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="a host of the migrate part")
    parser.add_argument("--crash", choices=POINTS)
    parser.add_argument("--nth", type=int, default=1)
    parser.add_argument("--lock", type=int, default=2)
    args = parser.parse_args(argv)
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.common import local_host
    from tools.faults import Countdown, CrashingStore
    from tools.reliability_dns import host_settings

    stack = Stack(host_settings(load_settings()))
    service, countdown = stack.service, Countdown(args.nth)
    if args.crash in ("before-commit", "after-commit"):
        service.store = CrashingStore(service.store, args.crash, countdown)
    elif args.crash in ("after-start", "after-migrate"):
        service.migrator = DyingMigrator(
            service.migrator, countdown, "migrate" if args.crash == "after-migrate" else None
        )
    use_stack(stack)
    stats = local_host(stack, lock_seconds=args.lock).run(poll=0.2, outage_limit=120)
    print(f"handled {stats.completed} retried {stats.retried} poisoned {stats.poisoned}", flush=True)
    return 0


class Supervisor:
    """K hosts on the queue; one that dies is replaced; some are SIGKILLed at random. The first hosts die at
    the chosen steps for sure (after-start first), the rest at a random step or none."""

    def __init__(
        self,
        env: dict,
        count: int,
        rng: random.Random,
        figures: MigrateFigures,
        kill_every: float,
        lock: int,
        logs: Path,
        max_kills: int,
    ):
        self.env, self.count, self.rng, self.figures = env, count, rng, figures
        self.kill_every, self.lock, self.logs, self.max_kills = kill_every, lock, logs, max_kills
        # the first host dies once the vault accepted its first job, the second once it accepted a migrate, their
        # replacements before and after a commit; then (with max_kills beyond the short form's) hosts die at
        # random steps too
        self.first = [("after-start", 1), ("after-migrate", 1), ("before-commit", 2), ("after-commit", 3)]
        self.random_points = max_kills > 2
        self.procs: list[tuple[subprocess.Popen, str | None]] = []
        self.killed: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        self.n = 0

    def _spawn(self) -> tuple[subprocess.Popen, str | None]:
        point: str | None
        if self.first:
            point, nth = self.first.pop(0)
        elif self.random_points:
            point, nth = self.rng.choice((*POINTS, None, None)), self.rng.randint(1, 6)
        else:
            point, nth = None, 0
        args = [sys.executable, str(Path(__file__)), "host", "--lock", str(self.lock)]
        if point:
            args += ["--crash", point, "--nth", str(nth)]
        self.n += 1
        out = open(self.logs / f"host-{self.n}.log", "w")  # noqa: SIM115  (the child writes it)
        return subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT), point

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.count)]
        self.thread.start()

    def _supervise(self) -> None:
        next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
        while not self.stop.is_set():
            for i, (proc, point) in enumerate(self.procs):
                code = proc.poll()
                if code is None:
                    continue
                if code == -signal.SIGKILL and proc.pid not in self.killed and point:
                    self.figures.crash_points[point] += 1
                self.procs[i] = self._spawn()
            if time.monotonic() >= next_kill and self.figures.random_kills < self.max_kills:
                # at random among hosts without a chosen step (those are to die at theirs)
                idle = [proc for proc, point in self.procs if point is None] or [None]
                proc = self.rng.choice(idle)
                if proc is not None and proc.poll() is None:
                    self.killed.add(proc.pid)
                    proc.send_signal(signal.SIGKILL)
                    self.figures.random_kills += 1
                next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
            time.sleep(0.05)

    def shutdown(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for proc, _ in self.procs:
            if proc.poll() is None:
                self.killed.add(proc.pid)
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)


# -- the orchestrator: Azure's side, the timer, the people ----------------------------------------------------
class MigrateBlock:
    def __init__(self, *, workloads: int, hosts: int, kill_every: float, max_kills: int, lock: int, seed: int):
        self.rng = random.Random(seed)
        self.figures = MigrateFigures(workloads=workloads)
        self.hosts_count, self.kill_every, self.max_kills, self.lock = hosts, kill_every, max_kills, lock
        self.release = f"migrate-{datetime.now(UTC).strftime('%H%M%S')}"
        # the first workload has two machines (an effect over several items), the others one
        self.machines = {f"w{i}": [f"vm-{i}-a", f"vm-{i}-b"] if i == 0 else [f"vm-{i}-a"] for i in range(workloads)}
        self.figures.machines = sum(len(m) for m in self.machines.values())
        self.expect: dict[str, str] = {}  # event id -> workload
        self.stop = threading.Event()

    def plan(self) -> dict:
        return {
            "release": self.release,
            "model": "single-step",
            "approvers": [APPROVER],
            "operators": [OPERATOR],
            "source": {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": True},
            "rehearsal": {"network": VNET, "required": True, "max_age": "14d", "cleanup_after": "1h"},
            "workloads": [{"name": w, "assets": machines} for w, machines in self.machines.items()],
        }

    def run(self) -> MigrateFigures:
        from shared.local.azurite import start

        began = time.monotonic()
        azurite = start()
        try:
            self._run(azurite)
        finally:
            azurite.stop()
        self.figures.seconds = time.monotonic() - began
        return self.figures

    def _run(self, azurite) -> None:
        from shared.application.bootstrap import Stack
        from shared.application.config import LOCAL_QUEUE, load_settings
        from shared.domain.plan import validate_plan
        from tests.migrate.fake_vault import FakeVault
        from tests.routing.fake_arm import self_signed_certificate
        from tools.reliability_dns import CREDENTIAL_FLAG, arm_settings

        tmp = Path(tempfile.mkdtemp(prefix="reliability-migrate-"))
        cert, key = self_signed_certificate(tmp)
        self.vault = FakeVault()
        self.vault.add_vault(VAULT)
        for machines in self.machines.values():
            for machine in machines:
                self.vault.add_machine(VAULT, machine)
        server = self.vault.serve(cert, key)
        os.environ["REQUESTS_CA_BUNDLE"] = str(cert)  # this process reads the vault too (the timer's rounds)
        connection = azurite.connection_string
        env = {
            **os.environ,
            "PROMOTE_STORAGE_CONNECTION_STRING": connection,
            "PROMOTE_ARM_ENDPOINT": self.vault.url,
            CREDENTIAL_FLAG: "1",
        }
        stack = Stack(
            arm_settings(
                load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": connection, "PROMOTE_ARM_ENDPOINT": self.vault.url})
            )
        )
        self.stack, self.queue = stack, stack.queue(LOCAL_QUEUE)
        stack.service.apply(validate_plan(self.plan()))
        hosts = Supervisor(
            env, self.hosts_count, self.rng, self.figures, self.kill_every, self.lock, tmp, self.max_kills
        )
        helpers = [threading.Thread(target=self._azure, daemon=True), threading.Thread(target=self._timer, daemon=True)]
        hosts.start()
        for t in helpers:
            t.start()
        try:
            self.drive()
        except TimeoutError as exc:
            self.figures.divergences.append(f"{exc} (host logs in {tmp})")
        finally:
            self.stop.set()
            for t in helpers:
                t.join(timeout=10)
            hosts.shutdown()
            server.stop()
        self.account()
        if not self.figures.problems():
            shutil.rmtree(tmp, ignore_errors=True)  # the hosts' logs: kept only to inspect a failure

    def _azure(self) -> None:
        """Azure's side: each job of the stand-in ends (succeeds) a moment after it started."""
        seen: dict[str, float] = {}
        while not self.stop.is_set():
            now = time.monotonic()
            with self.vault.lock:
                for name, job in list(self.vault.jobs.items()):
                    if job["properties"]["state"] == "InProgress" and now - seen.setdefault(name, now) >= JOB_SECONDS:
                        self.vault.end_job(name, "Succeeded")
            time.sleep(0.05)

    def _timer(self) -> None:
        """The `migrate` timer function: a vault watcher round every 0.5 s (the hosts run theirs every 2 s)."""
        from shared.application.migrate_watch import poll

        while not self.stop.is_set():
            try:
                poll(self.stack.store, self.stack.migrator, self.stack.publisher.publish, self.stack.clock.now())
            except Exception as exc:  # storage or the vault answering late: the next round tries again
                print(f"migrate: timer round failed: {exc}", flush=True)
            time.sleep(0.5)

    def send(self, type_: str, workload: str, key: str, **data) -> None:
        from tools.faults import retry

        event_id = f"{self.release}-{workload}-{key}"
        body = json.dumps(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "reliability-migrate",
                "type": type_,
                "data": {"release": self.release, "workload": workload, **data},
            }
        )
        copies = self.rng.choice((1, 2, 3))
        for _ in range(copies):
            retry(lambda: self.queue.send_message(body), attempts=60)
        self.figures.deliveries += copies
        self.expect[event_id] = workload

    def each(self, type_: str, key: str, **data) -> None:
        for w in self.rng.sample(list(self.machines), len(self.machines)):
            self.send(type_, w, key, **data)

    def wait(self, what: str, done, timeout: float = 120) -> None:
        from tools.faults import retry

        began = time.monotonic()
        deadline = began + timeout
        while time.monotonic() < deadline:
            release = retry(lambda: self.stack.store.get_release(self.release).release, attempts=60)
            behind = [w.name for w in release.workloads.values() if not done(w)]
            if not behind:
                print(f"migrate: {what} in {time.monotonic() - began:.1f}s", file=sys.stderr, flush=True)
                return
            time.sleep(0.2)
        raise TimeoutError(f"migrate: {what}: {behind} did not get there")

    def drive(self) -> None:
        self.wait("replicated (the vault says so, nobody sends it)", lambda w: all(w.assets.values()))
        self.each("tests-passed", "t", suite="smoke")
        self.wait("ready, held by the rehearsal", lambda w: w.state == "ready")
        self.each("override", "rehearse", action="rehearse", actor=OPERATOR, reason="dress rehearsal")
        self.wait("test VMs up", lambda w: w.test_migration == "succeeded")
        self.each("rehearsal-passed", "passed", suite="smoke")
        self.wait("cleaned up, migrated, routed", lambda w: w.state == "promoted")
        self.each("override", "finalize", action="finalize", actor=APPROVER, reason="cut over")
        self.wait("finalized, migration completed", lambda w: w.completion == "succeeded")

    # -- accounting ----------------------------------------------------------------------------------------
    def account(self) -> None:
        f, vault = self.figures, self.vault
        started = Counter(vault.started())
        f.jobs.update(op for _, op in vault.started())
        for machines in self.machines.values():
            for machine in machines:
                for scenario in SCENARIOS:
                    n = started[(machine, scenario)]
                    if n > 1:
                        f.started_twice.append(f"{machine}: {scenario} started {n} times")
                    elif n == 0:
                        f.divergences.append(f"{machine}: {scenario} never started")
        release = self.stack.store.get_release(self.release).release
        jobs: dict[tuple[str, str], str] = {}
        for name, job in vault.jobs.items():
            p = job["properties"]
            jobs[(p["targetObjectName"], p["scenarioName"])] = name
            if p["state"] != "Succeeded":
                f.divergences.append(
                    f"vault job {name} ({p['scenarioName']} of {p['targetObjectName']}) is {p['state']}"
                )
        left = [i["properties"]["machineName"] for i in vault.items.values()]
        if left:
            f.divergences.append(f"vault: migration items not completed: {left}")
        for name, machines in self.machines.items():
            w = release.workloads[name]
            ops = (w.state, w.test_migration, w.cleanup, w.migration, w.completion, w.rehearsal_verdict)
            if ops != ("finalized", "succeeded", "succeeded", "succeeded", "succeeded", "passed"):
                f.divergences.append(f"{name}: store says {ops}")
            for recorded, scenario in (
                (w.test_job, "TestMigrate"),
                (w.cleanup_job, "TestMigrateCleanup"),
                (w.migration_job, "Migrate"),
            ):
                expected = {jobs.get((m, scenario)) for m in machines}
                if set((recorded or "").split(",")) != expected:
                    kinds = {n: j["properties"]["scenarioName"] for n, j in vault.jobs.items()}
                    recorded = f"{recorded} ({', '.join(kinds.get(j, '?') for j in (recorded or '').split(','))})"
                    f.divergences.append(
                        f"{name}: store's {scenario} job(s) {recorded}, the vault's {sorted(map(str, expected))}"
                    )
        seen: dict[str, Counter] = {}
        for entry in self.stack.store.list_history(self.release):
            seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
        for event_id in self.expect:
            outcomes = seen.get(event_id)
            if not outcomes:
                f.lost.append(event_id)
                continue
            if not set(outcomes) <= {"applied", "duplicate"}:
                f.divergences.append(f"{event_id}: {dict(outcomes)}")
            if outcomes["applied"] != 1:
                f.doubled_applies.append(f"{event_id}: applied {outcomes['applied']} times")
            f.outcomes.update(outcomes)
        f.unique_ids = len(self.expect)


def migrate_block(args) -> MigrateFigures:
    """The part at the run's size: --long 24 workloads, 3 hosts, a random SIGKILL every 4 s or so; the short form
    (make test) 4 workloads, 2 hosts, hosts killed at the three chosen steps once each and one at random (each
    kill costs a host's start and a message's lock)."""
    if getattr(args, "long", False):
        block = MigrateBlock(workloads=24, hosts=3, kill_every=4.0, max_kills=10**6, lock=2, seed=args.seed)
    else:
        block = MigrateBlock(workloads=4, hosts=2, kill_every=4.0, max_kills=1, lock=2, seed=args.seed)
    return block.run()


def migrate_only(args) -> int:
    """`--part migrate`: the table's rows, the problems, then one JSON line; 1 if a job started twice, a message
    was lost or the store and the vault disagree."""
    f = migrate_block(args)
    text = "\n".join(f"| {name} | {value} |" for name, value in f.rows())
    print(text)
    if getattr(args, "write", None):
        from tools.reliability import now_iso, write

        size = "--long" if getattr(args, "long", False) else "--short"
        write(
            args.write,
            "| figure | value |\n|---|---|\n" + text,
            f"Produced by `python tools/reliability.py {size} --part migrate --seed {args.seed}` on {now_iso()[:10]}",
            ("<!-- migrate-figures:begin -->", "<!-- migrate-figures:end -->"),
        )
    for problem in f.problems():
        print("PROBLEM:", problem)
    summary = {
        "lost": len(f.lost),
        "divergences": len(f.divergences) + len(f.doubled_applies),
        "started_twice": len(f.started_twice),
        "deliveries": f.deliveries,
        "seconds": round(f.seconds, 1),
    }
    print(json.dumps(summary))
    return 1 if summary["lost"] or summary["divergences"] or summary["started_twice"] else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["host"]:
        return host(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--short", action="store_true")
    size.add_argument("--long", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    return migrate_only(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
