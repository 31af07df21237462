"""The drift run over every release (drift.check_all, the drift function's body): a release that fails does
not stop the ones after it; the checks, the history entries and the failures of all releases are summed."""

from __future__ import annotations

import pytest

from shared.application.drift import DriftRun, check_all
from shared.domain.errors import RoutingError
from shared.domain.plan import validate_plan
from tests.fakes import world


class Refusing:
    """A router that reads the fake network but refuses every write (Azure refusing the re-apply)."""

    def __init__(self, inner):
        self.inner = inner

    def read(self) -> int:
        return self.inner.read()

    def apply(self, percent: int):
        raise RoutingError("the gateway refused")


class Unreadable:
    def read(self) -> int:
        raise RoutingError("could not read the gateway")


def plan(name: str, *workloads: str):
    return validate_plan({"release": name, "model": "flight", "on_drift": "reapply",
                          "flights": [{"percent": 10}, {"percent": 100}],
                          "workloads": [{"name": w, "assets": ["vm-1"]} for w in workloads]})  # fmt: skip


def test_every_release_is_checked_and_the_run_sums_them():
    w = world()
    for p in (plan("a-broken", "w"), plan("b-drift", "w1", "unreadable"), plan("c-drift", "w")):
        w.service.apply(p)
    for release, workload in (("a-broken", "w"), ("b-drift", "w1"), ("c-drift", "w")):
        w.network.shares[(release, workload)] = 50  # live 50%, recorded 0%

    def routers(release, workload, routing):
        if release == "a-broken":
            return Refusing(w.network.router(release, workload, routing))
        if workload == "unreadable":
            return Unreadable()
        return w.network.router(release, workload, routing)

    run = check_all(w.store, routers, w.clock.now())
    assert (run.checked, [(e.event_id, e.outcome) for e in run.recorded]) == (
        3,  # a-broken's check failed as a whole: its workload is not counted
        [("drift-check:b-drift:w1:20261126T220000.000000Z", "applied"),
         ("drift-check:c-drift:w:20261126T220000.000000Z", "applied")],
    )  # fmt: skip
    assert run == DriftRun(
        checked=3,
        recorded=run.recorded,
        failures=[
            "a-broken: w: re-applying failed: the gateway refused",
            "b-drift/unreadable: could not read the gateway",
        ],
    )
    # the releases after the failing one were re-applied; the failing one was left as it is
    assert [w.network.shares[(r, n)] for r, n in (("a-broken", "w"), ("b-drift", "w1"), ("c-drift", "w"))] == [50, 0, 0]


def test_a_reported_drift_is_recorded_once_per_workload():
    from shared.application.drift import check_release

    w = world()
    w.service.apply(
        validate_plan({"release": "r1", "model": "flight", "flights": [{"percent": 10}, {"percent": 100}],
                       "workloads": [{"name": n, "assets": ["vm-1"]} for n in ("w1", "w2")]})
    )  # fmt: skip
    w.network.shares[("r1", "w1")] = w.network.shares[("r1", "w2")] = 50
    _, first = check_release(w.store, w.network.router, "r1", w.clock.now())
    assert [(e.workload, e.outcome) for e in first] == [("w1", "ignored"), ("w2", "ignored")]
    w.clock.advance(60)
    assert check_release(w.store, w.network.router, "r1", w.clock.now())[1] == []  # each still the same drift


def test_every_refused_reapply_of_a_release_is_named():
    from shared.application.drift import check_release

    w = world()
    w.service.apply(plan("r1", "w1", "w2"))
    w.network.shares[("r1", "w1")] = w.network.shares[("r1", "w2")] = 50
    with pytest.raises(RoutingError) as error:
        check_release(w.store, lambda r, n, routing: Refusing(w.network.router(r, n, routing)), "r1", w.clock.now())
    assert (
        str(error.value) == "w1: re-applying failed: the gateway refused; w2: re-applying failed: the gateway refused"
    )
