"""Contract §17's TTL choreography through the service with fakes: the TTL lowered at apply, the switch held
by gate `ttl` until the old TTL has run out (and woken by `ttl-elapsed`), the original back at finalize."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.application.service import PromotionService
from shared.domain.gates import describe, waiting_for
from shared.domain.plan import validate_plan
from shared.domain.routing import Change
from shared.domain.ttl import RestoredTtl
from tests.fakes import (
    FakeClock,
    FakeDeadLetters,
    FakeDecommissioner,
    FakeNetwork,
    FakeRouter,
    FakeScheduler,
    MemoryStore,
    event,
)
from tests.unit.test_machine import APPROVER, OPERATOR, make_plan

ZONE = (
    "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-dns/providers/Microsoft.Network/"
    "privateDnsZones/corp.contoso.com"
)
OLD_TTL = 3600


def dns_routing(**extra) -> dict:
    return {"provider": "private-dns", "zone": ZONE, "record": "payroll", "type": "A", "source": ["10.1.0.4"],
            "target": ["10.20.0.4"], "lower_ttl_to": 60, **extra}  # fmt: skip


@dataclass(frozen=True)
class Lowered:
    until: datetime


class DnsNetwork(FakeNetwork):
    """FakeNetwork whose routers also lower a record's TTL (at apply) and put it back (a RestoredTtl)."""

    def __init__(self):
        super().__init__()
        self.ttl: dict[str, int] = {}
        self.calls: list[tuple[str, str]] = []  # (what, workload) in order: lower, route, restore

    def router(self, release, workload, routing):
        if isinstance(routing, RestoredTtl):
            return Restorer(self, release, workload)
        return DnsRouter(self, release, workload)


@dataclass
class DnsRouter(FakeRouter):
    def lower_ttl(self, now: datetime) -> Lowered:
        net: DnsNetwork = self.network  # type: ignore[assignment]
        net.calls.append(("lower", self.workload))
        net.ttl[self.workload] = 60
        return Lowered(now + timedelta(seconds=OLD_TTL))

    def apply(self, percent: int) -> list[Change]:
        self.network.calls.append(("route", self.workload))  # type: ignore[attr-defined]
        return super().apply(percent)


@dataclass
class Restorer(FakeRouter):
    """A RestoredTtl's router: the record at the share asked, then its original TTL."""

    restored: list = field(default_factory=list)

    def apply(self, percent: int) -> list[Change]:
        net: DnsNetwork = self.network  # type: ignore[assignment]
        moved = super().apply(percent)
        net.calls.append(("restore", self.workload))
        if net.ttl.get(self.workload) == OLD_TTL:
            return moved
        net.ttl[self.workload] = OLD_TTL
        return [*moved, Change("private DNS zone corp.contoso.com", "A/payroll: TTL", "60s", f"{OLD_TTL}s")]


class Driver:
    def __init__(self, plan: dict):
        self.clock, self.network, self.scheduler = FakeClock(), DnsNetwork(), FakeScheduler()
        self.store = MemoryStore()
        self.service = PromotionService(store=self.store, routers=self.network.router, scheduler=self.scheduler,
                                        revoker=self.network, dead_letters=FakeDeadLetters(), clock=self.clock,
                                        decommissioner=FakeDecommissioner())  # fmt: skip
        self.service.apply(validate_plan(plan))
        self.n = 0

    def send(self, type_: str, workload: str | None = "w1", **data):
        self.n += 1
        return self.service.handle(event(type_, "r1", workload, f"m{self.n}", **data))

    def ready(self, name: str = "w1"):
        for asset in ("a", "b"):
            self.send("asset-replicated", name, asset=asset)
        return self.send("tests-passed", name)

    def tick(self, seconds: float) -> list:
        self.clock.advance(seconds)
        return [self.service.handle(json.dumps(e)) for e in self.scheduler.due(self.clock.now())]

    def timers(self, type_: str) -> list[tuple[dict, datetime]]:
        return [(e, due) for e, due in self.scheduler.scheduled if e["type"] == type_]

    @property
    def release(self):
        return self.store.get_release("r1").release

    def wl(self, name: str = "w1"):
        return self.release.workloads[name]


def single_step(**extra) -> dict:
    plan = make_plan("single-step", **extra)
    plan["workloads"] = [{"name": "w1", "assets": ["a", "b"], "routing": dns_routing()}]
    return plan


def test_the_ttl_is_lowered_at_apply_and_the_switch_waits_out_the_old_ttl_then_goes_by_itself():
    d = Driver(single_step())
    applied = d.clock.now()
    assert d.network.calls == [("lower", "w1")] and d.wl().ttl_wait_until == applied + timedelta(seconds=OLD_TTL)
    d.tick(600)
    r = d.ready()
    assert (r.outcome, d.wl().state, d.wl().traffic_percent) == ("applied", "ready", 0)
    [gate] = waiting_for(d.release, d.wl(), d.clock.now())
    assert gate.to_json() == {"gate": "ttl", "lower_ttl_to": 60, "until": "2026-11-26T23:00:00Z", "seconds_left": 3000}
    assert describe(gate) == (
        "ttl: resolvers may hold the record for its old TTL until 2026-11-26T23:00:00Z (3000s left; lowered to 60s "
        "at apply)"
    )
    [(timer, due)] = d.timers("ttl-elapsed")  # woken when the wait ends, not before
    assert due == applied + timedelta(seconds=OLD_TTL) and timer["data"]["workload"] == "w1"
    assert d.network.writes == []

    assert d.tick(2999) == []
    [woken] = d.tick(1)
    assert (woken.outcome, d.wl().state, d.wl().traffic_percent) == ("applied", "promoted", 100)
    assert "old TTL has run out since it was lowered (lowered to 60s): the switch may go" in woken.reason
    assert d.network.calls == [("lower", "w1"), ("route", "w1")]


def test_a_workload_ready_after_the_wait_switches_at_once_with_no_timer():
    d = Driver(single_step())
    d.tick(OLD_TTL)
    d.ready()
    assert (d.wl().state, d.wl().traffic_percent) == ("promoted", 100)
    assert d.timers("ttl-elapsed") == []


def test_a_stale_or_early_ttl_timer_moves_nothing():
    d = Driver(single_step(approval="manual"))
    d.ready()
    until = d.wl().ttl_wait_until
    stale = d.send("ttl-elapsed", until_ms=123)
    assert (stale.outcome, d.wl().state) == ("ignored", "ready") and "stale" in stale.reason
    d.scheduler.scheduled.clear()
    early = d.send("ttl-elapsed", until_ms=int(until.timestamp() * 1000))
    assert early.outcome == "ignored" and "arrived early" in early.reason
    assert [due for _, due in d.timers("ttl-elapsed")] == [until]  # asked again for the right time
    d.tick(OLD_TTL)  # the wait is over, the approval is not: still ready
    assert (d.wl().state, [g.gate for g in waiting_for(d.release, d.wl(), d.clock.now())]) == ("ready", ["approval"])
    d.send("override", "w1", action="approve", actor=APPROVER, reason="go")
    assert d.wl().state == "promoted"


def test_rollback_is_never_held_and_finalize_puts_the_original_ttl_back():
    d = Driver(single_step(hypercare="1h"))
    d.tick(OLD_TTL)
    d.ready()
    assert d.wl().state == "promoted"
    d.send("override", "w1", action="rollback", actor=OPERATOR, reason="errors")
    assert (d.wl().state, d.wl().traffic_percent) == ("rolled-back", 0)
    d.send("override", "w1", action="retry", actor=OPERATOR, reason="fixed")
    d.ready()  # the wait counted from the lowering at apply: over long ago
    assert d.wl().state == "promoted"
    assert ("restore", "w1") not in d.network.calls  # during hypercare the TTL stays low
    d.tick(3600)
    requested = d.send("override", "w1", action="finalize", actor=APPROVER, reason="done")
    # restored with the request (rollback is refused from then on), before the source is turned off
    assert d.network.calls[-1] == ("restore", "w1") and d.network.ttl["w1"] == OLD_TTL
    assert "network: private DNS zone corp.contoso.com: A/payroll: TTL 60s -> 3600s" in requested.reason
    assert d.service.decommissioner.off == []
    d.tick(0)  # the decommission it sends itself
    assert d.wl().state == "finalized" and d.network.calls[-1] == ("restore", "w1")  # nothing more written


def test_a_ttl_restore_that_fails_turns_no_source_off_behind_a_decision_recorded_as_not_carried_out(monkeypatch):
    """Review: the restore ran with the decommission; a 503 on it deferred the decision ("not carried out yet")
    after the source had been turned off, and a lasting refusal left it off with the finalize never recorded."""
    from azure.core.exceptions import HttpResponseError

    from shared.domain.errors import RoutingError

    d = Driver(single_step(hypercare="1h"))
    d.tick(OLD_TTL)
    d.ready()
    d.tick(3600)
    real, fails = Restorer.apply, [503]

    def apply(self, percent):
        if fails:
            cause = HttpResponseError(message="busy")
            cause.status_code = fails.pop()
            raise RoutingError("the record set answered 503") from cause
        return real(self, percent)

    monkeypatch.setattr(Restorer, "apply", apply)
    first = d.send("override", "w1", action="finalize", actor=APPROVER, reason="done")
    results = [first, *d.tick(0)]
    assert first.outcome == "ignored" and "not carried out yet" in first.reason
    assert [r.outcome for r in results[1:]] in ([], ["ignored"])  # a decommission sent meanwhile finds no request
    assert d.service.decommissioner.off == [] and not d.wl().finalize_requested_by  # nothing happened: true
    for _ in range(3):
        d.tick(30)  # the retry: requested, restored, then the decommission
    assert (d.wl().state, d.network.ttl["w1"], d.service.decommissioner.off) == ("finalized", OLD_TTL, [("r1", "w1")])


def test_an_aborted_workload_goes_back_to_the_source_and_then_gets_its_original_ttl():
    d = Driver(single_step(approval="manual"))
    d.ready()
    r = d.send("override", "w1", action="abort", actor=OPERATOR, reason="not this wave")
    assert (r.outcome, d.wl().state, d.wl().traffic_percent) == ("applied", "aborted", 0)
    assert d.network.calls == [("lower", "w1"), ("restore", "w1")] and d.network.ttl["w1"] == OLD_TTL
    assert "TTL 60s -> 3600s" in r.reason
    d.send("override", "w1", action="abort", actor=OPERATOR, reason="again")  # ignored: nothing more
    assert d.network.calls[-1] == ("restore", "w1") and len(d.network.calls) == 2


def test_without_lower_ttl_to_nothing_is_lowered_or_held():
    plan = make_plan("single-step")
    plan["workloads"] = [{"name": "w1", "assets": ["a", "b"], "routing": dns_routing(lower_ttl_to=None)}]
    d = Driver(plan)
    d.ready()
    assert (d.wl().state, d.wl().ttl_wait_until, d.network.calls) == ("promoted", None, [("route", "w1")])


def test_a_staged_release_moves_when_every_ttl_wait_is_over():
    plan = make_plan("staged", approval="auto")
    plan["workloads"] = [
        {"name": "w1", "assets": ["a", "b"], "routing": dns_routing()},
        {"name": "w2", "assets": ["a", "b"], "routing": {"provider": "local"}},
    ]
    d = Driver(plan)
    d.ready("w1")
    d.ready("w2")
    assert {n: w.state for n, w in d.release.workloads.items()} == {"w1": "ready", "w2": "ready"}
    assert [g.gate for g in waiting_for(d.release, d.wl("w2"), d.clock.now())] == ["release"]
    d.tick(OLD_TTL)
    assert {n: (w.state, w.traffic_percent) for n, w in d.release.workloads.items()} == {
        "w1": ("promoted", 100),
        "w2": ("promoted", 100),
    }


def test_a_ttl_not_lowered_at_apply_holds_the_switch_and_says_why():
    from shared.domain.model import new_release

    release = new_release(validate_plan(single_step()), FakeClock().now())
    w = release.workloads["w1"].evolve(state="ready")
    [gate] = waiting_for(release.evolve(workloads={"w1": w}), w, FakeClock().now())
    assert gate.gate == "ttl" and "was not lowered to 60s at apply" in describe(gate)


def test_a_release_wide_abort_puts_every_record_back_with_its_original_ttl():
    # Review: a release-level move of several RestoredTtl routings goes through the batch executor, which
    # asked a RestoredTtl for its subscription (AttributeError: the abort was never carried out).
    plan = make_plan("single-step", approval="manual")
    plan["workloads"] = [
        {"name": "w1", "assets": ["a", "b"], "routing": dns_routing()},
        {"name": "w2", "assets": ["a", "b"], "routing": dns_routing(record="billing")},
    ]
    d = Driver(plan)
    d.ready("w1")
    d.ready("w2")
    r = d.send("override", None, action="abort", actor=OPERATOR, reason="not this wave")
    assert r.outcome == "applied"
    assert {n: (w.state, w.traffic_percent) for n, w in d.release.workloads.items()} == {
        "w1": ("aborted", 0),
        "w2": ("aborted", 0),
    }
    assert d.network.ttl == {"w1": OLD_TTL, "w2": OLD_TTL}
