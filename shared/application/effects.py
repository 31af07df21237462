"""Carrying out one decision's effects before its commit, each idempotent, from a table keyed by effect
class. The decision comes back with what was actually changed written into its history entries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from shared.application import migrate_effects
from shared.application.ports import AccessRevoker, Clock, Decommissioner, RouterFactory, Scheduler
from shared.domain import messages as m
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
from shared.domain.model import Release, WorkloadState

log = logging.getLogger("promote")


@dataclass
class Ports:
    routers: RouterFactory
    scheduler: Scheduler
    revoker: AccessRevoker
    decommissioner: Decommissioner | None
    clock: Clock
    migrator: Any = None  # v3 §16: shared/application/migrate_effects.Migrator (None: no Azure Migrate source)


def schedule(ports: Ports, release: str, effect: Schedule, *, source: str = "promote/timer") -> None:
    """Send the message `effect` names at its due time; its id is deterministic for the decision."""
    target = effect.release or release
    event = m.new_event(
        effect.type,
        {"release": target, **effect.data},
        id=effect.event_id(release),
        source=source,
        time=ports.clock.now(),
    )
    ports.scheduler.schedule(event, effect.due)


@dataclass
class _Carrying:
    """One decision's effects being carried out: what they changed, per workload (None: the release)."""

    ports: Ports
    release: str
    done: list[SetTraffic]  # routing moved so far: put back if a later effect fails
    routers: dict[str, Any] = field(default_factory=dict)
    made: dict[str | None, list[str]] = field(default_factory=dict)
    revoke_failure: str | None = None

    def route(self, effect: SetTraffic) -> None:
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
        return _effects(ports, before.name, decision, done)
    except Exception:
        _restore(ports, before, done)
        raise


def _restore(ports: Ports, before: Release, moves: list[SetTraffic]) -> None:
    """Best effort: route each moved workload back to the share `before` records."""
    for move in moves:
        try:
            ports.routers(before.name, move.workload, move.routing).apply(
                before.workloads[move.workload].traffic_percent
            )
        except Exception as exc:  # the original failure is what the platform must see
            log.error("could not restore routing of %s/%s: %s", before.name, move.workload, exc)


def _effects(ports: Ports, release: str, decision: Decision, done: list[SetTraffic]) -> Decision:
    decision = _decommission(ports, release, decision)
    carrying = _Carrying(ports, release, done)
    moves = [e for e in decision.effects if isinstance(e, SetTraffic)]
    carrying.routers = {e.workload: ports.routers(release, e.workload, e.routing) for e in moves}
    if len(moves) > 1:  # a release-wide move: refused as a whole before any workload is moved
        refused = [p for e in moves for p in carrying.routers[e.workload].problems([e.percent])]
        if refused:
            raise RoutingError(f"{release}: nothing moved: " + "; ".join(refused))
    for effect in decision.effects:
        HANDLERS[type(effect)](carrying, effect)
    if carrying.revoke_failure is not None:
        log.warning("revoking access for %s failed: %s", release, carrying.revoke_failure)
        decision = revocation_failed(decision, carrying.revoke_failure, ports.clock.now())
        for retry in decision.effects:
            HANDLERS[type(retry)](carrying, retry)
    return _worded(decision, carrying.made)


def _worded(decision: Decision, made: dict[str | None, list[str]]) -> Decision:
    """A workload's entries name its routing changes. What no entry of its own names goes on the last entry:
    the revocation (key None; the last entry says access was revoked) and the shares a redelivered
    release-wide message put back (its one entry is of no workload)."""
    if not made:
        return decision
    named = {e.workload for e in decision.entries if e.workload is not None}
    entries = [
        replace(e, reason=f"{e.reason}; network: {'; '.join(made[e.workload])}")
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
