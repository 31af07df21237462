"""Carrying out a release-level move's routing within Resource Manager's write budget (architecture §24).

The move's writes are planned as units (shared/adapters/routing.batch_units: one per resource written, a route
table's routes in one PUT), then run by a few threads, each unit spending its writes from the principal's token
bucket first (`Budget.spend`, the same arithmetic as the forecast) so Azure rarely has to refuse. When it does
(429: the bucket is shared with callers promote cannot see) the unit waits the Retry-After and runs again: a
throttled write is never a failure of the move. Every unit reads before it writes and writes only what differs,
so a move cut short (a crash, a timeout) is carried out again from where it stopped by the redelivery.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared.domain.budget import (
    PACE,
    Throttled,
    TokenBucket,
    Unit,
    calls_alone,
    interleaved,
    paced_burst,
    scope_of,
    write_key,
)
from shared.domain.errors import RoutingError
from shared.domain.plan import Budgets, Routing
from shared.domain.plan.budgets import ARM_READ_BURST, ARM_READS_PER_S
from shared.domain.routing import Change

log = logging.getLogger("promote")
T = TypeVar("T")
R = TypeVar("R")

WORKERS = 64  # units in flight at once: a Network write is a long-running operation of seconds on Azure, and
# 10 writes a second of operations lasting ~5 s need ~50 waiting at once (threads that mostly sleep)
THROTTLE_BUDGET = 300.0  # seconds one unit waits out 429s in all before the move fails and is redelivered
THROTTLED_FIRST = 5.0  # the wait after a 429 without a Retry-After


@dataclass
class Budget:
    """One principal's buckets on one subscription (writes: the plan's figures; reads: Resource Manager's),
    shared by every move this process carries out."""

    bucket: TokenBucket
    reads: TokenBucket
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    lock: threading.Lock = field(default_factory=threading.Lock)
    waited: float = 0.0  # seconds spent waiting for tokens (figures for the bench)
    throttles: int = 0  # 429s Azure answered despite the pacing

    @classmethod
    def of(cls, budgets: Budgets, *, now: Callable[[], float] = time.monotonic, sleep=time.sleep) -> Budget:
        at = now()
        writes = TokenBucket.full(budgets.arm_writes_per_s * PACE, paced_burst(budgets.arm_write_burst), at)
        return cls(writes, TokenBucket.full(ARM_READS_PER_S * PACE, paced_burst(ARM_READ_BURST), at), now, sleep)

    def spend(self, writes: int, reads: int = 0) -> None:
        """Claim the tokens of `writes` writes and `reads` reads and wait until the last of them is due."""
        if writes <= 0 and reads <= 0:
            return
        with self.lock:  # both claimed at the one time the unit will send: the later of the two buckets' due
            now = self.now()
            at = max(self.bucket.due(now, writes), self.reads.due(now, reads))
            self.bucket.spend_at(at, writes)
            self.reads.spend_at(at, reads)
            pause = at - now
        if pause > 0:
            self.sleep(pause)
            with self.lock:
                self.waited += pause

    def throttled(self, retry_after: float | None) -> float:
        """Azure said 429: the tokens this process counted on are not there. Returns the wait taken."""
        pause = retry_after if retry_after is not None else THROTTLED_FIRST
        with self.lock:
            at = self.now()
            self.bucket.drain(at)  # which of them Azure found empty, its 429 does not say in a field
            self.reads.drain(at)
            self.throttles += 1
        self.sleep(pause)
        return pause


_budgets: dict[tuple, Budget] = {}
_budgets_lock = threading.Lock()


def budget_for(subscription: str, budgets: Budgets) -> Budget:
    """The process's budget for `subscription` at these figures (Resource Manager's bucket is per principal,
    subscription and region; this process is one principal)."""
    key = (subscription.lower(), budgets.arm_writes_per_s, budgets.arm_write_burst)
    with _budgets_lock:
        if key not in _budgets:
            _budgets[key] = Budget.of(budgets)
        return _budgets[key]


def plan_units(
    routers: object,
    moves: list[tuple[str, Routing, int, int]],
    alone: Callable[[str], object],
    budgets: Budgets | None = None,
) -> list[Unit]:
    """The units of a release-level move (workload, routing, from %, to %): the moves writing one resource in
    one unit when the router factory can coalesce them (its `coalesced`), else one unit per workload through
    its own router (`alone(workload)`); read-heavy and write-heavy units interleaved for `budgets`."""
    coalesce = getattr(routers, "coalesced", None)
    groups: dict[tuple[str, ...], list[tuple[str, Routing, int, int]]] = {}
    for move in moves:
        groups.setdefault(write_key(move[1], move[0]), []).append(move)
    units: list[Unit] = []
    for group in groups.values():
        unit = coalesce([(w, r, after) for w, r, _, after in group]) if coalesce and len(group) > 1 else None
        if unit is not None:
            units.append(unit)
            continue
        for workload, routing, before, after in group:
            writes, reads = calls_alone(routing, before, after)
            units.append(Unit((workload,), writes, _alone(alone(workload), workload, after), scope_of(routing), reads))
    return interleaved(units, budgets or Budgets())


def _alone(router: Any, workload: str, percent: int) -> Callable[[], dict[str, list[Change]]]:
    return lambda: {workload: router.apply(percent)}


def run_unit(unit: Unit, budget: Budget, *, throttle_budget: float = THROTTLE_BUDGET) -> dict[str, list[Change]]:
    """Spend the unit's writes, run it; on a 429 wait and run it again (it reads first: nothing is written twice)."""
    return patiently(unit.run, budget, unit.writes, unit.reads, throttle_budget=throttle_budget)


def patiently(
    run: Callable[[], R], budget: Budget, writes: int, reads: int, *, throttle_budget: float = THROTTLE_BUDGET
) -> R:
    """`run()` after spending its calls from `budget`; a 429 it meets is waited out (Retry-After) and `run()`
    called again, for `throttle_budget` seconds of waiting in all."""
    waited = 0.0
    while True:
        budget.spend(writes, reads)
        try:
            return run()
        except Throttled as exc:
            if waited >= throttle_budget:
                raise RoutingError(f"{exc} (still throttled after {waited:.0f}s; the redelivery goes on)") from exc
            waited += budget.throttled(exc.retry_after)


def carry_out_units(
    units: list[Unit],
    budget: Callable[[str], Budget],
    *,
    workers: int = WORKERS,
    progress: Callable[[Unit, bool], None] | None = None,
) -> dict[str, list[Change]]:
    """Run every unit within the budget, `workers` at once; the changes made, per workload. `progress(unit,
    changed)` after each unit is carried out (`changed`: it changed routing), outside the batch's lock (it may
    write to storage). The first unit that fails (not a 429) stops the rest from starting and is raised; units
    already running finish."""
    made: dict[str, list[Change]] = {}
    lock = threading.Lock()

    def one(unit: Unit) -> None:
        changed = run_unit(unit, budget(unit.scope))
        with lock:
            made.update(changed)
        if progress is not None:
            progress(unit, any(changed.values()))

    if not units:
        return made
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(units))), thread_name_prefix="routing") as pool:
        futures = [pool.submit(one, u) for u in units]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in finished if f.exception() is not None), None)
        if failed is not None:
            for f in futures:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]
    return made


def checked_all(
    moves: list[T], check: Callable[[T], list[str]], reads: Callable[[T], bool] = lambda move: True
) -> list[list[str]]:
    """`check` of every move, in order: those that `reads` (a live check is a read of a few hundred ms on Azure)
    `WORKERS` at once, the others here (a thread pool's hand-off costs more than a check that reads nothing)."""
    found: list[list[str]] = [[] for _ in moves]
    pooled = []
    for i, move in enumerate(moves):
        if reads(move):
            pooled.append(i)
        else:
            found[i] = check(move)
    if len(pooled) < 2:
        for i in pooled:
            found[i] = check(moves[i])
        return found
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(pooled)), thread_name_prefix="routing-check") as pool:
        for i, problems in zip(pooled, pool.map(check, [moves[i] for i in pooled]), strict=True):
            found[i] = problems
    return found
