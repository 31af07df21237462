"""Carrying out one decision's effects before its commit, each idempotent, from a table keyed by effect
class. The decision comes back with what was actually changed written into its history entries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from shared.application import migrate_effects
from shared.application.batch_routing import Budget, budget_for, carry_out_units, checked_all, patiently, plan_units
from shared.application.ports import AccessRevoker, Clock, Decommissioner, RouterFactory, Scheduler
from shared.application.routing_progress import MoveProgress, ProgressStore
from shared.domain import messages as m
from shared.domain.budget import check_reads, forecast, scope_of
from shared.domain.errors import RoutingError
from shared.domain.machine import (
    Decision,
    Decommission,
    RevokeAccess,
    Schedule,
    SetTraffic,
    decommission_failed,
    revocation_failed,
)
from shared.domain.migration import AzureMigrate
from shared.domain.model import Release, WorkloadState, evolved
from shared.domain.plan import Budgets, LocalRouting
from shared.domain.progress import took_words
from shared.domain.ttl import RestoredTtl

log = logging.getLogger("promote")


@dataclass
class Ports:
    routers: RouterFactory
    scheduler: Scheduler
    revoker: AccessRevoker
    decommissioner: Decommissioner | None
    clock: Clock
    budget: Callable[[str, Budgets], Budget] = budget_for  # a principal's write bucket, per subscription
    progress: ProgressStore | None = None  # where a batch's routing progress is recorded (status, the board)
    migrator: Any = None  # v3 §16: shared/application/migrate_effects.Migrator (None: no Azure Migrate source)


def scheduled_event(ports: Ports, release: str, effect: Schedule, *, source: str = "promote/timer") -> dict:
    """The message `effect` names, as it is sent (a retry measures it before it is sent: failures.fits)."""
    target = effect.release or release
    return m.new_event(
        effect.type,
        {"release": target, **effect.data},
        id=effect.event_id(release),
        source=source,
        time=ports.clock.now(),
    )


def schedule(ports: Ports, release: str, effect: Schedule, *, source: str = "promote/timer") -> None:
    """Send the message `effect` names at its due time; its id is deterministic for the decision."""
    ports.scheduler.schedule(scheduled_event(ports, release, effect, source=source), effect.due)


@dataclass
class _Carrying:
    """One decision's effects being carried out: what they changed, per workload (None: the release)."""

    ports: Ports
    release: str
    done: list[SetTraffic]  # routing moved so far: put back if a later effect fails
    routers: dict[str, Any] = field(default_factory=dict)
    made: dict[str | None, list[str]] = field(default_factory=dict)
    revoke_failure: str | None = None
    batched: set[str] = field(default_factory=set)  # workloads whose routing route_batch carried out
    tracker: MoveProgress | None = None  # the release-level move's progress record (route_batch)

    def route_batch(self, moves: list[SetTraffic], before: Release) -> None:
        """A release-level move's Azure routing: planned as units (a resource's writes coalesced) and carried
        out within the plan's budgets (batch_routing); promote's own local routing records: the partition read
        once and written in transactions (LocalBatch)."""
        self.route_local_batch([e for e in moves if isinstance(e.routing, LocalRouting)])
        azure = [e for e in moves if not isinstance(e.routing, LocalRouting)]
        if len(azure) < 2:
            return
        self.done.extend(azure)  # before any write: a batch that fails part way is put back as a whole
        budgets = before.plan.azure_budgets
        units = plan_units(
            self.ports.routers,
            [(e.workload, _plain(e.routing), _share(before, e.workload), e.percent) for e in azure],
            self.routers.__getitem__,
            budgets,
        )
        writes, started = sum(u.writes for u in units), time.monotonic()
        tracker = self.tracker = None
        if self.ports.progress is not None:
            ahead = forecast(writes, sum(u.reads for u in units), budgets).seconds
            total = sum(len(u.workloads) for u in units)
            tracker = self.tracker = MoveProgress(
                self.ports.progress, self.ports.clock, self.release, total=total, writes=writes, forecast_s=ahead
            )
            tracker.start()
        made = carry_out_units(
            units,
            lambda scope: self.ports.budget(scope, budgets),
            progress=(lambda unit, changed: tracker.moved(len(unit.workloads), unit.writes, changed))
            if tracker
            else None,
        )
        # history records how long the move took (contract §15), as does its last progress record
        # a redelivered message that re-asserts the routing changes nothing: the record of the move that did stays
        took = tracker.finished(changed=any(made.values())) if tracker else time.monotonic() - started
        self.made.setdefault(None, []).append(took_words(len(azure), writes, took))
        for e in azure:
            self.batched.add(e.workload)
            self.made.setdefault(e.workload, []).append(
                "; ".join(map(str, made.get(e.workload, []))) or "already in place"
            )

    def route_local_batch(self, local: list[SetTraffic]) -> None:
        batch_of = getattr(self.ports.routers, "local_batch", None)  # a factory without it: one at a time
        if len(local) < 2 or batch_of is None:
            return
        self.done.extend(local)  # before any write: a batch that fails part way is put back as a whole
        made = batch_of(self.release).apply({e.workload: e.percent for e in local})
        for e in local:
            self.batched.add(e.workload)
            self.made.setdefault(e.workload, []).append("; ".join(map(str, made[e.workload])) or "already in place")

    def checked(self, effect: SetTraffic, budgets: Budgets) -> list[str]:
        """What the workload's router refuses of the move; a check that reads Azure spends a read token."""
        reads, router = check_reads(effect.routing), self.routers[effect.workload]
        if not reads:
            return router.problems([effect.percent])
        budget = self.ports.budget(scope_of(effect.routing), budgets)
        return patiently(lambda: router.problems([effect.percent]), budget, 0, reads)

    def route(self, effect: SetTraffic) -> None:
        if effect.workload in self.batched:
            return
        self.done.append(effect)  # before apply: a router that wrote, then failed, is put back too
        changes = self.routers[effect.workload].apply(effect.percent)
        self.made.setdefault(effect.workload, []).append("; ".join(map(str, changes)) or "already in place")

    def schedule(self, effect: Schedule) -> None:
        schedule(self.ports, self.release, effect)

    def revoke(self, effect: RevokeAccess) -> None:
        try:
            changes = self.ports.revoker.revoke(self.release, effect.config) or []
            self.made.setdefault(None, []).extend(map(str, changes))
        except Exception as exc:  # its own step: never undoes the routing above; retried later
            self.revoke_failure = str(exc) if isinstance(exc, RoutingError) else f"{type(exc).__name__}: {exc}"

    def decommissioned(self, effect: Decommission) -> None:
        """Carried out first, before any other effect (carry_out)."""


HANDLERS: dict[type, Callable[[_Carrying, Any], None]] = {
    SetTraffic: _Carrying.route,
    Schedule: _Carrying.schedule,
    RevokeAccess: _Carrying.revoke,
    Decommission: _Carrying.decommissioned,
    AzureMigrate: migrate_effects.carry,  # v3 §16
}


def carry_out(ports: Ports, before: Release, decision: Decision) -> Decision:
    """Carry out the effects (each idempotent). If one fails, the routing moved so far is put back to what
    the state records, so a half-done release-wide promotion does not stay half done."""
    done: list[SetTraffic] = []
    try:
        return _effects(ports, before, decision, done)
    except Exception:
        _restore(ports, before, done)
        raise


def _restore(ports: Ports, before: Release, moves: list[SetTraffic]) -> None:
    """Best effort: route each moved workload back to the share `before` records; a release-level move's Azure
    routing as a batch within the budget (a route table written once), then one at a time whatever the batch
    did not put back (each reads first: what is in place is not written again). promote's own local records are
    put back as a batch too (routing/local.LocalBatch), as route_local_batch moved them."""
    moves = [replace(m, routing=_plain(m.routing)) for m in moves]  # back to the share; the TTL stays lowered
    azure = [m for m in moves if not isinstance(m.routing, LocalRouting)]
    if len(azure) > 1:
        budgets = before.plan.azure_budgets
        try:
            routers = {m.workload: ports.routers(before.name, m.workload, m.routing) for m in azure}
            back = [(m.workload, m.routing, m.percent, _share(before, m.workload)) for m in azure]
            carry_out_units(
                plan_units(ports.routers, back, routers.__getitem__, budgets), lambda s: ports.budget(s, budgets)
            )
            moves = [m for m in moves if isinstance(m.routing, LocalRouting)]
        except Exception as exc:  # one at a time below
            log.error("could not restore the routing of %s as a batch: %s", before.name, exc)
    local = [m for m in moves if isinstance(m.routing, LocalRouting)]
    batch_of = getattr(ports.routers, "local_batch", None)
    if len(local) > 1 and batch_of is not None:  # promote's own records: one read and a transaction per 100
        try:
            batch_of(before.name).apply({m.workload: _share(before, m.workload) for m in local})
            moves = [m for m in moves if not isinstance(m.routing, LocalRouting)]
        except Exception as exc:  # one at a time below
            log.error("could not restore the local routing of %s as a batch: %s", before.name, exc)
    for move in moves:
        try:
            ports.routers(before.name, move.workload, move.routing).apply(
                before.workloads[move.workload].traffic_percent
            )
        except Exception as exc:  # the original failure is what the platform must see
            log.error("could not restore routing of %s/%s: %s", before.name, move.workload, exc)


def _effects(ports: Ports, before: Release, decision: Decision, done: list[SetTraffic]) -> Decision:
    release = before.name
    decision = _decommission(ports, release, decision)
    carrying = _Carrying(ports, release, done)
    moves = [e for e in decision.effects if isinstance(e, SetTraffic)]
    carrying.routers = {e.workload: ports.routers(release, e.workload, e.routing) for e in moves}
    try:
        if len(moves) > 1:  # a release-wide move: refused as a whole before any workload is moved
            budgets = before.plan.azure_budgets
            # only promote's own records are checked in place: an Azure router's check may read (an application
            # gateway's with a flight pool does, and check_reads counts only the budgeted reads)
            local = lambda e: isinstance(e.routing, LocalRouting)  # noqa: E731
            checks = checked_all(moves, lambda e: carrying.checked(e, budgets), lambda e: not local(e))
            refused = [p for found in checks for p in found]
            if refused:
                raise RoutingError(f"{release}: nothing moved: " + "; ".join(refused))
            carrying.route_batch(moves, before)
        for effect in decision.effects:
            HANDLERS[type(effect)](carrying, effect)
    except Exception:  # carry_out puts the move back: its progress record says so, not that it is under way
        if carrying.tracker is not None:
            carrying.tracker.failed()
        raise
    if carrying.revoke_failure is not None:
        log.warning("revoking access for %s failed: %s", release, carrying.revoke_failure)
        decision = revocation_failed(decision, carrying.revoke_failure, ports.clock.now())
        retry = decision.effects[-1]  # the others were carried out above
        HANDLERS[type(retry)](carrying, retry)
    return _worded(decision, carrying.made)


def _plain(routing: Any) -> Any:
    """The plan's routing of a RestoredTtl: what the batch executor counts calls and budgets by (the unit still
    runs the TtlRestorer), and what a failed decision's moves are put back with (not the original TTL)."""
    return routing.routing if isinstance(routing, RestoredTtl) else routing


def _share(release: Release, workload: str) -> int:
    state = release.workloads.get(workload)
    return state.traffic_percent if state is not None else 0


def _worded(decision: Decision, made: dict[str | None, list[str]]) -> Decision:
    """A workload's entries name its routing changes. What no entry of its own names goes on the last entry:
    the revocation (key None; the last entry says access was revoked) and the shares a redelivered
    release-wide message put back (its one entry is of no workload)."""
    if not made:
        return decision
    named = {e.workload for e in decision.entries if e.workload is not None}
    entries = [
        evolved(e, {"reason": f"{e.reason}; network: {'; '.join(made[e.workload])}"})  # replace: 5,000 entries
        if e.workload is not None and made.get(e.workload)
        else e
        for e in decision.entries
    ]
    rest = [change for key, changes in made.items() if key is None or key not in named for change in changes]
    if rest and entries:
        entries[-1] = replace(entries[-1], reason=f"{entries[-1].reason}; network: {'; '.join(rest)}")
    return replace(decision, entries=entries)


def _decommission(ports: Ports, release: str, decision: Decision) -> Decision:
    """Turn the source off for each workload being finalized (v2 §8). A failure does not fail the message:
    the workload stays promoted with the failure recorded, and a timer retries it."""
    failures: dict[str, str] = {}
    changes: dict[str, str] = {}
    for effect in decision.effects:
        if not isinstance(effect, Decommission):
            continue
        try:
            if ports.decommissioner is None:
                raise RuntimeError("no decommission provider is configured for this service")
            made = ports.decommissioner.decommission(release, effect)
        except Exception as exc:  # provider down, refused, misconfigured: recorded and retried
            text = " ".join(str(exc).split()) or type(exc).__name__
            failures[effect.workload] = f"{type(exc).__name__}: {text}"
            log.warning("decommission of %s/%s failed: %s", release, effect.workload, text)
            continue
        changes[effect.workload] = "; ".join(map(str, made)) or "already off"
    if changes:
        decision = replace(
            decision,
            entries=[
                replace(e, reason=f"{e.reason}; source: {changes[e.workload]}")
                if e.workload in changes and e.to_state == WorkloadState.FINALIZED
                else e
                for e in decision.entries
            ],
        )
    if failures:
        decision = decommission_failed(decision, failures, ports.clock.now())
    return decision
