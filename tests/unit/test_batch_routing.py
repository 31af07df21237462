"""The executor of a release-level move's routing (shared/application/batch_routing.py) with fake units."""

from __future__ import annotations

import pytest

from shared.application.batch_routing import Budget, carry_out_units, run_unit
from shared.domain.budget import Throttled, TokenBucket, Unit
from shared.domain.errors import RoutingError


class Time:
    """A clock that moves only when slept on."""

    def __init__(self):
        self.t, self.slept = 0.0, []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def budget(clock: Time, rate: float = 10, burst: int = 2) -> Budget:
    return Budget(
        TokenBucket.full(rate, burst, clock.now()), TokenBucket.full(25, 250, clock.now()), clock.now, clock.sleep
    )


def test_a_429_waits_its_retry_after_then_runs_again():
    clock, calls = Time(), []

    def run():
        calls.append(clock.now())
        if len(calls) == 1:
            raise Throttled("throttled (429)", retry_after=7)
        return {"w": []}

    b = budget(clock)
    assert run_unit(Unit(("w",), 1, run), b) == {"w": []}
    assert clock.slept == [7] and b.throttles == 1 and calls == [0.0, 7.0]


def test_a_429_without_retry_after_waits_the_default_and_a_long_one_fails_for_the_redelivery():
    clock = Time()

    def run():
        raise Throttled("throttled (429)")

    with pytest.raises(RoutingError, match="still throttled"):
        run_unit(Unit(("w",), 1, run), budget(clock), throttle_budget=12)
    assert clock.slept == [5.0, 5.0, 5.0]


def test_units_spend_the_burst_then_one_token_per_interval():
    clock, seen = Time(), []
    units = [Unit((f"w{i}",), 1, lambda i=i: {f"w{i}": []}) for i in range(5)]
    b = budget(clock)
    made = carry_out_units(units, lambda scope: b, workers=1, progress=lambda unit, changed: seen.append(unit))
    assert sorted(made) == [f"w{i}" for i in range(5)]
    assert clock.t == pytest.approx(0.3)  # 2 at once, 3 more at 10 a second
    assert sorted(u.workloads for u in seen) == [(f"w{i}",) for i in range(5)], "each unit told once"


def test_the_first_failure_stops_the_batch():
    clock = Time()

    def bad():
        raise RoutingError("refused (400)")

    with pytest.raises(RoutingError, match="refused"):
        carry_out_units([Unit(("a",), 1, bad)], lambda scope: budget(clock))


def test_read_heavy_and_write_heavy_units_alternate_to_keep_both_buckets_busy():
    from shared.domain.budget import interleaved
    from shared.domain.plan import Budgets

    pools = [Unit((f"lb{i}",), 1, dict, reads=4) for i in range(3)]  # a PUT, its GET, polls and result
    profiles = [Unit((f"tm{i}",), 2, dict, reads=2) for i in range(3)]  # two PATCHes, a GET and a read back
    order = [u.workloads[0] for u in interleaved(pools + profiles, Budgets())]
    assert order == ["tm0", "lb0", "lb1", "tm1", "lb2", "tm2"]
    assert sorted(order) == sorted(u.workloads[0] for u in pools + profiles), "every unit, once"
