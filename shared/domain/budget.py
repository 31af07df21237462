"""Azure's budgets as token buckets, and the forecast of a move under them (architecture §24).

Pure: time is passed in (seconds on any clock that only goes forward), nothing here reads a clock or sleeps.
The executor (shared/application/batch_routing.py) paces its writes with `TokenBucket.reserve`, the local
Resource Manager refuses with `TokenBucket.take`, and `forecast` computes the same arithmetic ahead of time,
so the forecast, the pacing and the stand-in cannot disagree about what a budget allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.errors import RoutingError
from shared.domain.model import Release, WorkloadState
from shared.domain.plan import (
    FrontDoorRouting,
    LocalRouting,
    Plan,
    RouteTableRouting,
    Routing,
    TrafficManagerRouting,
    realisable_share,
)
from shared.domain.plan.budgets import ARM_READ_BURST, ARM_READS_PER_S, Budgets
from shared.domain.routing import Change, changes, release_steps

_EPSILON = 1e-9  # a token refilled over a float interval may fall a hair short of 1


class Throttled(RoutingError):
    """429 from Resource Manager's own budget (SubscriptionRequestsThrottled, TooManyRequests ...) that the SDK's
    retries did not outlast: the principal's bucket is empty. Waited out (Retry-After), never a failure."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Unit:
    """Writes to one Azure resource in a release-level move: `run()` reads it, writes what differs and returns
    what changed, per workload. `writes`: the tokens it spends."""

    workloads: tuple[str, ...]
    writes: int
    run: Callable[[], dict[str, list[Change]]]
    scope: str = ""
    reads: int = 0  # the subscription whose bucket it spends from ("" for promote's own local routing)


@dataclass
class TokenBucket:
    """`burst` tokens at most, refilled at `rate` a second; one call spends one token. Starts full, as a
    principal's bucket is when it has been idle."""

    rate: float
    burst: float
    tokens: float
    at: float

    @classmethod
    def full(cls, rate: float, burst: float, now: float) -> TokenBucket:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs a positive rate and a burst of at least 1, got {rate}, {burst}")
        return cls(rate, burst, float(burst), now)

    def _refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now

    def take(self, now: float) -> float:
        """Azure's side: spend a token if there is one and answer 0; else spend nothing and answer how long
        until there is one (what a 429's Retry-After says)."""
        self._refill(now)
        if self.tokens >= 1 - _EPSILON:
            self.tokens = max(0.0, self.tokens - 1)
            return 0.0
        return (1 - self.tokens) / self.rate

    def due(self, now: float, n: int = 1) -> float:
        """The caller's side: the earliest time, not before `now`, at which `n` tokens are there (the bucket's
        own time may be ahead of `now`: callers have claimed tokens for later)."""
        start = max(now, self.at)
        tokens = min(self.burst, self.tokens + (start - self.at) * self.rate)
        return start if tokens >= n - _EPSILON else start + (n - tokens) / self.rate

    def spend_at(self, at: float, n: int = 1) -> None:
        """Claim `n` tokens as Azure will count them: at `at` (a time `due` gave), refilled up to then and no
        more. Claiming when the request will really be sent, not when it was planned, matters: a bucket that
        sits full meanwhile loses its refill above the burst on Azure's side, and would not on this one."""
        start = max(at, self.at)
        self.tokens = max(0.0, min(self.burst, self.tokens + (start - self.at) * self.rate) - n)
        self.at = start

    def reserve(self, now: float, n: int = 1) -> float:
        """Claim `n` tokens at the earliest time they are there; answer how long to wait from `now`."""
        at = self.due(now, n)
        self.spend_at(at, n)
        return at - now

    def drain(self, now: float) -> None:
        """Forget the tokens (Resource Manager said 429: the bucket is shared with callers promote cannot see)."""
        self._refill(now)
        self.tokens = 0.0


def interleaved(units: list[Unit], budgets: Budgets) -> list[Unit]:
    """The units in an order that keeps both buckets busy: each unit's writes and reads are claimed for one
    moment, so a run of read-heavy units (a pool's operation is polled) leaves the write bucket idle, and its
    refill above the burst is lost; alternating them with write-heavy ones (Traffic Manager's two PATCHes)
    brings the move close to the slower bucket's bound. Stable within each kind."""
    write_s, read_s = 1 / (budgets.arm_writes_per_s * PACE), 1 / (ARM_READS_PER_S * PACE)
    heavy = [u for u in units if u.writes * write_s >= u.reads * read_s]
    light = [u for u in units if u.writes * write_s < u.reads * read_s]
    out: list[Unit] = []
    writes = reads = 0.0
    i = j = 0
    while i < len(heavy) or j < len(light):
        if j >= len(light) or (i < len(heavy) and writes <= reads):
            unit, i = heavy[i], i + 1
        else:
            unit, j = light[j], j + 1
        out.append(unit)
        writes, reads = writes + unit.writes * write_s, reads + unit.reads * read_s
    return out


def retry_after(wait: float) -> int:
    """A wait as Retry-After states it: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


def bucket_seconds(calls: int, rate: float, burst: float) -> float:
    """The least time `calls` calls take through a full bucket: the burst at once, the rest at the rate."""
    return max(0.0, (calls - burst) / rate)


@dataclass(frozen=True)
class Forecast:
    """The Azure calls a move still needs and the least time they take under the budget."""

    writes: int
    reads: int
    seconds: float

    def to_json(self) -> dict[str, float | int]:
        return {"writes": self.writes, "reads": self.reads, "forecast_s": round(self.seconds, 1)}

    def __str__(self) -> str:
        return f"azure: {{writes: {self.writes}, reads: {self.reads}, forecast_s: {round(self.seconds, 1)}}}"


# The share of each budget promote paces itself to: the bucket is the principal's, shared with whatever else
# calls with it, and a reservation made when a unit starts is spent over the second its operation runs; at the
# full rate the stand-in answered ~1 read in 5 with 429 (a second's wait each), at 95% none.
PACE = 0.95


def paced_burst(burst: float, pace: float = PACE) -> float:
    """The share of a bucket's burst promote counts on: a request sent a little later than planned, while
    Azure's bucket is full, costs a token of refill there; the rest of the burst absorbs such delays."""
    return max(1.0, burst * pace)


def forecast(
    writes: int, reads: int, budgets: Budgets, *, latency_s: float = 0.0, concurrency: int = 1, pace: float = PACE
) -> Forecast:
    """How long `writes` Resource Manager writes and `reads` reads take under `budgets` (buckets full at the
    start) at `pace` of their rates: the slowest of the write bucket, the read bucket and, when each call takes
    `latency_s` and at most `concurrency` run at once, the calls themselves. `pace=1`: the budget's lower bound."""
    seconds = max(
        bucket_seconds(writes, budgets.arm_writes_per_s * pace, paced_burst(budgets.arm_write_burst, pace)),
        bucket_seconds(reads, ARM_READS_PER_S * pace, paced_burst(ARM_READ_BURST, pace)),
        (writes + reads) * latency_s / max(1, concurrency),
    )
    return Forecast(writes, reads, seconds)


# -- what a move writes ----------------------------------------------------------------------------
def write_key(routing: Routing, workload: str) -> tuple[str, ...]:
    """The Azure resource a workload's move writes, as a key: moves of one release-level batch that share a key
    are one write. A route table's routes are PUT with the table (one write for all of them); every other
    provider writes a resource of the workload's own (a pool, a profile's endpoints, a record set)."""
    if isinstance(routing, RouteTableRouting):
        return (
            "route-table",
            routing.subscription.lower(),
            routing.resource_group.lower(),
            routing.route_table.lower(),
        )
    return ("workload", workload)


def scope_of(routing: Routing) -> str:
    """The budget a workload's writes spend from: its subscription's (Resource Manager's bucket is per
    principal, subscription and region; promote's identity is one principal)."""
    return "" if isinstance(routing, LocalRouting) else routing.subscription.lower()


# Reads a write costs beyond the GET before it: a long-running operation's status is polled (at least twice:
# once at once, once after its Retry-After) and a PUT's result read back; Traffic Manager answers at once and
# its profile is read back once; a DNS record set's PUT answers at once.
OPERATION_READS = 3
_SYNCHRONOUS = ("traffic-manager", "dns", "private-dns")


def calls_alone(routing: Routing, before: int, after: int) -> tuple[int, int]:
    """(writes, reads) of one workload's move on its own: a write per member for Traffic Manager and Front
    Door (an endpoint or origin each), one for every other provider; none when nothing changes."""
    if isinstance(routing, LocalRouting):
        return 0, 0
    made = changes(routing, before, after)
    if not made:
        return 0, 1
    writes = len(made) if isinstance(routing, TrafficManagerRouting | FrontDoorRouting) else 1
    if routing.provider == "traffic-manager":
        return writes, 2
    return writes, 1 + (0 if routing.provider in _SYNCHRONOUS else OPERATION_READS * writes)


COALESCED = (1, 1 + OPERATION_READS)
# Providers whose refusal check reads the live resource: a release-level move checks every workload first.
_CHECKED_LIVE = ("load-balancer", "traffic-manager", "front-door")


def check_reads(routing: Routing) -> int:
    """Reads of a release-level move's check before anything is written (members the plan does not name)."""
    return 1 if routing.provider in _CHECKED_LIVE else 0  # a route table's routes: one GET, one PUT and its operation


def move_calls(moves: list[tuple[str, Routing, int, int]], *, batched: bool) -> tuple[int, int]:
    """(writes, reads) the moves (workload, routing, from %, to %) take: `batched` for a release-level move,
    whose writes to one resource are coalesced (write_key). The same counts the executor spends."""
    writes, reads, seen = 0, 0, set()
    for workload, routing, before, after in moves:
        reads += check_reads(routing) if batched else 0
        alone = calls_alone(routing, before, after)
        if not alone[0]:
            continue
        key = write_key(routing, workload)
        if batched and key[0] != "workload":
            if key not in seen:
                seen.add(key)
                writes, reads = writes + COALESCED[0], reads + COALESCED[1]
            continue
        writes, reads = writes + alone[0], reads + alone[1]
    return writes, reads


_SETTLED = (WorkloadState.PROMOTED, WorkloadState.FINALIZED, WorkloadState.ABORTED, WorkloadState.ROLLED_BACK)


def calls_ahead(plan: Plan, release: Release | None = None) -> Forecast:
    """`promote plan`: the Azure calls of the moves still ahead (every step for a plan not applied yet; for a
    release, each workload's steps above the share it has, none for a workload that has settled) and their
    forecast under the plan's budgets. A staged promotion is one release-level move (writes coalesced);
    flights move each workload on its own."""
    steps = release_steps(plan)
    ahead: list[list[tuple[str, Routing, int, int]]] = [[] for _ in steps]
    for w in plan.workloads:
        state = release.workloads.get(w.name) if release is not None else None
        if state is not None and state.state in _SETTLED:
            continue
        share = state.traffic_percent if state is not None else 0
        for moves, (_, requested) in zip(ahead, steps, strict=True):
            achieved = realisable_share(w.routing, requested)
            if achieved is not None and achieved > share:
                moves.append((w.name, w.routing, share, achieved))
                share = achieved
    writes = reads = 0
    for moves in ahead:
        w_, r_ = move_calls(moves, batched=plan.model == "staged")
        writes, reads = writes + w_, reads + r_
    return forecast(writes, reads, plan.azure_budgets)
