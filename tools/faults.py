"""Fault injection for the reliability suite: hosts that die (SIGKILL) at a chosen step of handling a
message, built from the same ports as the real thing (wrappers, not patches).

Run a crashing host:  python tools/faults.py --crash before-commit --nth 3 --lock 1
(the storage account comes from PROMOTE_STORAGE_CONNECTION_STRING, like the promote command).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CRASH_POINTS = ("after-routing", "before-commit", "after-commit", "after-decommission")
# after-routing: a routing change was made, the rest of the effects and the commit were not
# before-commit:  every effect was carried out, nothing was committed
# after-commit:   committed, but the message was not completed (it will be redelivered)
# after-decommission: a source was turned off (v2 §8 finalize), nothing was committed
MOVE_POINTS = ("before-commit-point", "after-commit-point", "mid-catch-up")
# (issue 22) a release-level move of a release kept in shards, at the storage client:
# before-commit-point: every routing change made, the commit point (release record + heads) not submitted
# after-commit-point:  the commit point committed, no shard caught up (every reader must see the move already)
# mid-catch-up:        the commit point and the nth shard's catch-up committed, the other shards still lagging
LOSE_ANSWERS = "PROMOTE_FAULT_LOSE_CATCH_UP_ANSWERS"  # every nth catch-up's answer lost (hosts at a MOVE_POINT),
# and every other write of a release's routing shares record


def retry(action, attempts: int = 20, pause: float = 0.5):
    """Call `action` until it succeeds (storage may be restarting), at most `attempts` times."""
    for i in range(attempts):
        try:
            return action()
        except Exception:
            if i == attempts - 1:
                raise
            time.sleep(pause)


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


class Countdown:
    def __init__(self, nth: int):
        self.left = nth

    def tick(self) -> bool:
        self.left -= 1
        return self.left == 0


class CrashingStore:
    """A ReleaseStore that dies before or after the nth commit."""

    def __init__(self, inner, point: str, countdown: Countdown):
        self.inner, self.point, self.countdown = inner, point, countdown

    def commit(self, snapshot, decision, event_id, now=None):
        fire = self.point in ("before-commit", "after-commit") and self.countdown.tick()
        if fire and self.point == "before-commit":
            die()
        self.inner.commit(snapshot, decision, event_id, now)
        if fire:
            die()

    def __getattr__(self, name):
        return getattr(self.inner, name)


_HEAD = re.compile(r"w\.\d{4}")


def transaction_kind(ops: list) -> str | None:
    """A transaction of the table store by what it does to a release kept in shards: a commit point (the
    release record and heads holding a release-wide decision's pending changes), a shard's catch-up (a head
    brought to its pending epoch, with its rows), or None (anything else)."""
    keys = [op[1].get("RowKey", "") for op in ops]
    heads = [op[1] for op in ops if _HEAD.fullmatch(op[1].get("RowKey", ""))]
    if "s" in keys and any("pending_epoch" in h and "epoch" not in h for h in heads):
        return "commit-point"
    if "s" not in keys and heads and "epoch" in heads[0] and "pending_epoch" in heads[0]:
        return "catch-up"
    return None


DELIVERY = {"count": 1}  # the delivery number of the message this host is handling (set by `tracked`)


def tracked(function):
    """The registered function, noting each message's delivery number first."""

    def handle(message):
        DELIVERY["count"] = message.delivery_count or 1
        return function(message)

    return handle


class CrashingTable:
    """The release table's client, dying at a release-level move (MOVE_POINTS): around the nth commit point, or
    after the nth shard's catch-up, of a message's first delivery (so that every move is cut short once, and its
    redelivery, on any host, finishes it). Everything else goes to the real client."""

    def __init__(self, inner, point: str, countdown: Countdown, lose_every: int = 0):
        self.inner, self.point, self.countdown = inner, point, countdown
        # every `lose_every`th catch-up's answer is lost after the service applied it (a kept-alive connection
        # reset under it): the host must read its shard again, not fail the message
        self.lose_every, self.lost = lose_every, Countdown(lose_every) if lose_every else None
        self.lock = threading.Lock()  # catch-ups run several at a time

    def submit_transaction(self, operations, **kwargs):
        ops = list(operations)
        kind = transaction_kind(ops)
        wanted = "catch-up" if self.point == "mid-catch-up" else "commit-point"
        with self.lock:
            fire = kind == wanted and DELIVERY["count"] == 1 and self.countdown.tick()
            lose = kind == "catch-up" and self.lost is not None and self.lost.tick()
            if lose and self.lost is not None:
                self.lost.left = self.lose_every  # and again after as many
        if fire and self.point == "before-commit-point":
            die()
        result = self.inner.submit_transaction(ops, **kwargs)
        if fire:
            die()
        if lose:
            from azure.core.exceptions import ServiceResponseError

            sys.stdout.write("answer lost catch-up\n")  # one write: lines from pool threads do not merge
            sys.stdout.flush()
            raise ServiceResponseError("Connection aborted: Connection reset by peer (injected)")
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)


def crashing_routers(inner_factory, countdown: Countdown):
    """A RouterFactory whose routers die right after the nth routing change."""

    class _Router:
        def __init__(self, inner):
            self.inner = inner

        def apply(self, percent: int) -> int:
            achieved = self.inner.apply(percent)
            if countdown.tick():
                die()
            return achieved

        def read(self) -> int:
            return self.inner.read()

        def __getattr__(self, name):  # the rest of the router (problems, ...) as it is
            return getattr(self.inner, name)

    class _Batch(_Router):  # a release's local routing records moved together: dies after the batch's writes
        def apply(self, percents):  # type: ignore[override]
            made = self.inner.apply(percents)
            if any(made.values()) and countdown.tick():
                die()
            return made

    return _Factory(inner_factory, _Router, _Batch)


class _Factory:
    """A RouterFactory whose routers (and local batches, when the inner factory has them) are wrapped."""

    def __init__(self, inner, router, batch):
        self.inner, self.router, self.batch = inner, router, batch
        if hasattr(inner, "local_batch"):
            self.local_batch = lambda release: batch(inner.local_batch(release))

    def __call__(self, release, workload, routing):
        return self.router(self.inner(release, workload, routing))


# Outages the reliability run switches on and off for every host at once: a file of this name in the directory
# RELIABILITY_FAULTS names holds while it exists (hosts are processes of their own; a file is what they share).
FAULTS_DIR = "RELIABILITY_FAULTS"
ROUTING_DOWN, DECOMMISSION_DOWN = "routing-down", "decommission-down"


def outage(name: str) -> bool:
    where = os.environ.get(FAULTS_DIR)
    return bool(where) and os.path.exists(os.path.join(where, name))  # type: ignore[arg-type]


def routing_refusal(n: int) -> Exception:
    """What Azure answers while a routing resource is busy or throttled: 503, 429, or no answer at all."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError

    if n % 3 == 2:
        return ServiceRequestError("connection reset by the Resource Manager (injected outage)")
    status = (503, 429)[n % 2]
    error = HttpResponseError(message=f"({status}) the routing resource refuses changes for now (injected outage)")
    error.status_code = status
    return error


class OutageRouter:
    """A router that refuses every change while the routing outage holds (reads still answer)."""

    refused = 0

    def __init__(self, inner):
        self.inner = inner

    def apply(self, percent: int) -> int:
        if outage(ROUTING_DOWN):
            OutageRouter.refused += 1
            error = routing_refusal(OutageRouter.refused)
            print(f"routing refused {type(error).__name__}", flush=True)
            raise error
        return self.inner.apply(percent)

    def read(self) -> int:
        return self.inner.read()

    def __getattr__(self, name):
        return getattr(self.inner, name)


def outage_routers(inner_factory):
    # a release's local routing records moved together are refused as a whole while the outage holds
    return _Factory(inner_factory, OutageRouter, OutageRouter)


class FlakyDecommissioner:
    """A Decommissioner whose provider is down for some calls (seeded) and all through a decommission outage,
    and whose host may die right after a source was turned off. Prints `decommission powered-off R/W` for every
    power-off actually made, so the reliability run can check that no source is turned off twice."""

    def __init__(self, inner, seed: int | None, countdown: Countdown | None, down: float = 0.1):
        import random

        self.inner, self.rng, self.countdown, self.down = inner, random.Random(seed), countdown, down

    def decommission(self, release: str, request) -> list:
        if self.rng.random() < self.down or outage(DECOMMISSION_DOWN):
            raise ConnectionError("decommission provider unavailable (injected)")
        changes = self.inner.decommission(release, request)
        if changes:
            print(f"decommission powered-off {release}/{request.workload}", flush=True)
        if self.countdown is not None and self.countdown.tick():
            die()
        return changes


class ChaosScheduler:
    """A Scheduler that loses some timers and delivers others twice (seeded, so runs can be replayed).

    Only the timers something else makes good are lost: a bake timer (a later healthy verdict grows the
    flight) and the time block's (re-sent, see tools/reliability_time.py). promote's other own messages (a
    decommission, its retry, a message-retry, ttl-elapsed, hypercare-elapsed) are Service Bus scheduled
    messages on Azure, sent before the commit that needs them (a crash sends them again): durable, never lost,
    so losing them here would test the harness, not promote. Any of them may arrive twice."""

    def __init__(self, inner, seed: int, lose: float = 0.1, twice: float = 0.2):
        import random

        self.inner, self.rng, self.lose, self.twice = inner, random.Random(seed), lose, twice
        self.lost = self.doubled = 0

    def schedule(self, event, due) -> None:
        from shared.domain.messages import SCHEDULED_TYPES

        roll = self.rng.random()
        if roll < self.lose and event.get("type") in SCHEDULED_TYPES:
            self.lost += 1
            print(f"timer lost {event['id']}", flush=True)
            return
        self.inner.schedule(event, due)
        if roll < self.lose + self.twice:
            self.doubled += 1
            print(f"timer doubled {event['id']}", flush=True)
            self.inner.schedule(event, due)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class LosingShares:
    """The routing table's client, losing the answer of every other write of a release's shares record (the
    first included) after the service applied it: the move must read it back, not write it twice or fail."""

    def __init__(self, inner):
        self.inner, self.writes, self.lock = inner, 0, threading.Lock()

    def _write(self, method: str, entity, **kwargs):
        from shared.adapters.routing.local import SHARES_ROW

        result = getattr(self.inner, method)(entity, **kwargs)
        if entity.get("RowKey") == SHARES_ROW:
            with self.lock:
                self.writes += 1
                lose = self.writes % 2 == 1
            if lose:
                from azure.core.exceptions import ServiceResponseError

                sys.stdout.write("answer lost shares\n")
                sys.stdout.flush()
                raise ServiceResponseError("Connection aborted: Connection reset by peer (injected)")
        return result

    def create_entity(self, entity, **kwargs):
        return self._write("create_entity", entity, **kwargs)

    def update_entity(self, entity, **kwargs):
        return self._write("update_entity", entity, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def crashing_stack(settings, point: str | None, nth: int, timer_seed: int | None = None):
    """A Stack whose service dies at `point` on the nth occasion."""
    from shared.adapters.routing import access_revoker, router_factory
    from shared.application.bootstrap import Stack, _Lazy
    from shared.application.config import ROUTING_TABLE
    from shared.application.service import PromotionService

    stack = Stack(settings)
    countdown = Countdown(nth)
    routing_table = lambda: stack.table(ROUTING_TABLE)  # noqa: E731
    if point in MOVE_POINTS and int(os.environ.get(LOSE_ANSWERS, "0") or 0):
        losing = LosingShares(stack.table(ROUTING_TABLE))
        routing_table = lambda: losing  # noqa: E731
    routers = outage_routers(router_factory(routing_table, settings))
    store = stack.store
    if point == "after-routing":
        routers = crashing_routers(routers, countdown)
    elif point in MOVE_POINTS:
        from shared.adapters.table_store import TableReleaseStore
        from shared.application.config import RELEASES_TABLE

        lose_every = int(os.environ.get(LOSE_ANSWERS, "0") or 0)
        table = CrashingTable(stack.table(RELEASES_TABLE), point, countdown, lose_every)
        store = TableReleaseStore(table, settings.shard_size)
    elif point is not None and point != "after-decommission":
        store = CrashingStore(store, point, countdown)
    scheduler = _Lazy(lambda: stack.scheduler)
    if timer_seed is not None:
        scheduler = _Lazy(lambda: ChaosScheduler(stack.local_scheduler, timer_seed))
    decommissioner = FlakyDecommissioner(
        stack.decommissioner, timer_seed, countdown if point == "after-decommission" else None
    )
    stack.__dict__["service"] = PromotionService(
        store=store,
        routers=routers,
        scheduler=scheduler,
        revoker=access_revoker(routing_table, settings),
        dead_letters=_Lazy(lambda: stack.dead_letters),
        clock=stack.clock,
        decommissioner=decommissioner,
    )
    return stack


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crash", choices=CRASH_POINTS + MOVE_POINTS, help="die at this step (default: never)")
    parser.add_argument("--nth", type=int, default=1, help="on the nth occasion")
    parser.add_argument("--lock", type=int, default=2, help="seconds a received message stays invisible")
    parser.add_argument("--wait", type=float, default=1.0, help="until-idle horizon in seconds")
    parser.add_argument("--forever", action="store_true", help="keep polling instead of stopping when idle")
    parser.add_argument(
        "--timer-faults", type=int, metavar="SEED", help="lose 10%% of bake timers and deliver 20%% twice (seeded)"
    )
    args = parser.parse_args(argv)

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.cli import local_host
    from tools.reliability_dns import host_settings

    settings = host_settings(load_settings())
    faulty = args.crash or args.timer_faults is not None
    stack = crashing_stack(settings, args.crash, args.nth, args.timer_faults) if faulty else Stack(settings)
    use_stack(stack)
    from shared.local.localhost import registered_function

    # Redelivery as the Service Bus extension does it: a failed delivery comes back at once (the local host's
    # default), a killed host's message when its lock expires, the 10th failed delivery is dead-lettered.
    host = local_host(stack, lock_seconds=args.lock, function=tracked(registered_function()))
    stats = host.run(until_idle=not args.forever, wait=args.wait, poll=0.05, outage_limit=120)
    print(f"handled {stats.completed} retried {stats.retried} poisoned {stats.poisoned} outages {stats.outages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
