"""decide(release, message, now) -> Decision: authorise, dispatch to the message's rule, let the flow move
each workload as far as its recorded facts allow, then what follows in time. Pure: no I/O, no clock reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain import messages as m
from shared.domain.actors import GROUP_PREFIX, Principal, entitlement
from shared.domain.machine import flow
from shared.domain.machine.effects import Decision, digest
from shared.domain.machine.rules import access, finish, flight, halt, lifecycle, migrate, overrides, time, ttl
from shared.domain.machine.step import Rule, Step
from shared.domain.model import Outcome, Release, Workload, WorkloadState

RULES: dict[type, Rule] = {
    m.AssetReplicated: lifecycle.on_asset,
    m.TestsPassed: lifecycle.on_tests,
    m.TestsFailed: lifecycle.on_tests,
    m.FlightHealthy: flight.on_verdict,
    m.FlightUnhealthy: flight.on_verdict,
    m.Alert: flight.on_alert,
    m.BakeElapsed: flight.on_bake_timer,
    m.DeadlineDue: time.on_deadline,
    m.WindowOpens: time.on_window,
    m.DependencyPromoted: time.on_dependency,
    m.ReplicationLag: finish.on_lag,
    m.HypercareElapsed: finish.on_hypercare_elapsed,
    m.DecommissionRetry: finish.on_decommission,
    m.DecommissionDue: finish.on_decommission,
    m.TtlElapsed: ttl.on_ttl_elapsed,
    m.RehearsalPassed: migrate.on_verdict,  # v3 §16: Azure Migrate
    m.RehearsalFailed: migrate.on_verdict,
    m.RehearsalCleanupDue: migrate.on_cleanup_due,
    m.MigrationJob: migrate.on_job,
    m.CompleteMigration: migrate.on_complete,
}
OVERRIDES: dict[str, Rule] = {
    "pause": overrides.pause,
    "resume": overrides.resume,
    "approve": overrides.approve,
    "advance": flight.advance_now,
    # v3 §16: with an Azure Migrate source these also see to the migration
    "rollback": migrate.rollback,
    "abort": migrate.abort,
    "retry": migrate.retry,
    "finalize": migrate.finalize,
    "halt": halt.halt,
    "unhalt": halt.unhalt,
    "rehearse": migrate.on_rehearse,
}
assert set(OVERRIDES) == set(m.OVERRIDE_ACTIONS)
# what an operator does to a workload: an approver who did one of these in this attempt does not count toward
# a quorum with separate_duties
OPERATOR_ACTIONS = ("pause", "resume", "advance", "rollback", "retry")


def authorized(release: Release, action: str, actor: str | Principal) -> str | None:
    """The plan entry (a name, any case, or `group:<object-id>`) that allows `actor` to `action`, or None."""
    plan = release.plan
    principal = actor if isinstance(actor, Principal) else Principal(actor)
    entries = plan.approvers if action in m.APPROVER_ACTIONS else [*plan.operators, *plan.approvers]
    return entitlement(entries, principal)


def decide(
    release: Release,
    message: Any,
    now: datetime,
    *,
    duplicate: bool = False,
    principal: Principal | None = None,
    require_authenticated: bool = False,
) -> Decision:
    """The new release state, one history entry per affected workload, and the effects to carry out.

    `principal`: who sent an override, as authenticated outside the message (the override endpoint);
    `require_authenticated`: overrides without one are refused (on Azure, where the topic cannot prove
    who sent a message)."""
    step = Step(release, message, now)
    target = message.data.workload
    if duplicate:
        if isinstance(message, m.Override) and (principal is not None or require_authenticated):
            step.actor = principal.name if principal else None  # never the name the message carries
        name = target if target in release.workloads else None
        step.record(name, Outcome.DUPLICATE, f"id {message.id!r} was seen before")
        _reassert_on_redelivery(step, target)
        return step.finish()
    if target is not None and target not in release.workloads:
        step.record(target, Outcome.REJECTED, f"workload {target!r} is not part of release {release.name}")
        return step.finish()
    if isinstance(message, m.RevokeRetry):
        return access.revoke_retry(step)
    via = ""
    if isinstance(message, m.Override) and message.data.action in m.RELEASE_ACTIONS and target is not None:
        step.record(target, Outcome.REJECTED, f"{message.data.action} applies to a whole release, not a workload")
        return step.finish(remember=False)
    if isinstance(message, m.Override):
        entry = _entitled(step, principal, require_authenticated)
        if entry is None:  # refused; its id proves nothing: it must not use up an id a real message will carry
            return step.finish(remember=False)
        via = f" (as a member of {entry})" if entry.lower().startswith(GROUP_PREFIX) else ""
        rule = OVERRIDES[message.data.action]
    else:
        rule = RULES[type(message)]
    operating = isinstance(message, m.Override) and message.data.action in OPERATOR_ACTIONS and step.actor
    for name in [target] if target else list(release.workloads):
        before = step.workloads[name]
        outcome, reason, after = rule(step, before)
        if outcome == Outcome.APPLIED:
            if operating and step.actor not in after.operated_by:  # for separate duties (v3 §19)
                after = after.evolve(operated_by=[*after.operated_by, step.actor])
            after = flow.advance(step, after)
        step.workloads[name] = after
        held = step.held(after) if outcome == Outcome.APPLIED else ""
        step.record(name, outcome, reason + _moved(before, after) + via + step.held_note(name) + held, before)
    flow.advance_release(step)
    finish.after_moves(step)
    migrate.after_decision(step)
    finish.quiet_lag(step)
    ttl.after_decision(step)
    time.after_decision(step)
    return step.finish(remember=not step.forget_id)


def _entitled(step: Step, principal: Principal | None, require_authenticated: bool) -> str | None:
    """The plan entry that lets the override's sender act, or None with the refusal recorded. The sender is
    who the endpoint authenticated; on Azure an override without that proof is refused, as is an actor the
    plan does not entitle."""
    action, target = step.message.data.action, step.message.data.workload
    if principal is not None:
        step.actor = principal.name  # never the name the message carries
    if require_authenticated and (principal is None or not principal.authenticated):
        claimed = principal.name if principal is not None else step.actor
        step.actor = None  # the name it carries proves nothing: no entry shows it as the actor
        step.record(
            target,
            Outcome.REJECTED,
            f"override {action} arrived unauthenticated (not through the override "
            f"endpoint); the actor it names ({claimed}) is not trusted",
        )
        return None
    entry = authorized(step.release, action, principal or Principal(step.actor or ""))
    if entry is None:
        who = "approvers" if action in m.APPROVER_ACTIONS else "operators or approvers"
        step.record(target, Outcome.REJECTED, f"{step.actor} may not {action}: not among the release's {who}")
    return entry


def redelivery_reasserts(release: Release, w: Workload) -> bool:
    """Whether a redelivered (duplicate) message puts `w`'s routing back to the share its state records.

    A redelivery is the one moment promote learns that an earlier attempt of the message may have moved
    routing and died before its commit. It re-asserts only when the plan asks promote to hold routing to
    the state (`on_drift: reapply`) and the workload is not paused: while paused, routing belongs to the
    operator until resume; with `on_drift: report` differences are reported by the drift check, never
    corrected behind the operator's back. (An attempt that lost its commit to another writer always puts
    back what it moved itself: the service knows that for certain, see service.py.)"""
    return release.plan.on_drift == "reapply" and not w.paused


def _reassert_on_redelivery(step: Step, target: str | None) -> None:
    """A duplicate's routing effects: the recorded share of each workload it names, where that is asked for."""
    for name in [target] if target else list(step.release.workloads):
        w = step.workloads.get(name)
        if w is not None and redelivery_reasserts(step.release, w):
            step.set_traffic(w, w.traffic_percent, always=True)


def _moved(before: Workload, after: Workload) -> str:
    if after.state == before.state and after.traffic_percent == before.traffic_percent:
        return ""
    if after.state == WorkloadState.FLIGHTING:
        return f" -> flighting (flight {after.flight}, {after.traffic_percent}%)"
    if after.traffic_percent != before.traffic_percent:
        return f" -> {after.state} ({after.traffic_percent}%)"
    return f" -> {after.state}"


def reject_unparsed(release: Release, unparsed: m.Unparsed, now: datetime) -> Decision:
    """A message of a known release that failed validation: recorded as rejected with the reason."""
    stand_in = _Invalid(
        id=unparsed.id or f"invalid:{digest(unparsed.reason)}",
        type=unparsed.type or "invalid",
        data=_InvalidData(workload=unparsed.workload, reason=unparsed.actor_reason),
    )
    step = Step(release, stand_in, now)
    workload = unparsed.workload if unparsed.workload in release.workloads else None
    step.record(workload, Outcome.REJECTED, f"invalid message: {unparsed.reason}")
    return step.finish(remember=False)


@dataclass(frozen=True)
class _InvalidData:
    workload: str | None
    reason: str | None = None  # an invalid override's own reason (its actor is never trusted, so not kept)


@dataclass(frozen=True)
class _Invalid:
    """What decide() needs of a message that failed validation."""

    id: str
    type: str
    data: _InvalidData
    source: str | None = None
    time: datetime | None = None
