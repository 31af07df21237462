"""Operators' and approvers' commands (contract §2): pause, resume, approve, rollback, abort, retry.
(`advance` is a flight's rule, `finalize` a finishing rule; decide() authorises them all alike.)"""

from __future__ import annotations

from shared.domain.machine.rules.finish import finalize_pending, refused_after_finalize
from shared.domain.machine.step import Ruling, Step, unpaused
from shared.domain.model import TERMINAL, Outcome, Workload, WorkloadState
from shared.domain.times import iso_s, stamp

S = WorkloadState


def pause(step: Step, w: Workload) -> Ruling:
    if w.state == S.PROMOTED and w.finalize_requested_by:
        return Outcome.IGNORED, f"finalize requested by {w.finalize_requested_by}: the source is being turned off", w
    if w.state in TERMINAL and not (w.state == S.PROMOTED and finalize_pending(step.release, w)):
        return Outcome.IGNORED, f"workload is {w.state}", w
    if w.paused:
        return Outcome.IGNORED, f"already paused{paused_since(w)}", w
    return (
        Outcome.APPLIED,
        f"paused at {w.traffic_percent}%",
        w.evolve(paused=True, paused_by=step.actor, paused_at=step.now, paused_reason=step.actor_reason),
    )


def paused_since(w: Workload) -> str:
    if not w.paused_by:
        return ""
    since = f" since {stamp(w.paused_at)}" if w.paused_at else ""
    return f" (by {w.paused_by}{since}" + (f": {w.paused_reason})" if w.paused_reason else ")")


def resume(step: Step, w: Workload) -> Ruling:
    if not w.paused:
        return Outcome.IGNORED, "not paused", w
    resumed = f"resumed{paused_since(w)}"
    alert = w.alert_while_paused
    if w.state in (S.FLIGHTING, S.PROMOTED) and w.unhealthy and step.release.plan.on_alert == "rollback":
        return (
            Outcome.APPLIED,
            f"{resumed}; acknowledges the alert recorded while paused ({alert}): rolls back to 0% (on_alert: rollback)",
            step.to_source(w, S.ROLLED_BACK),
        )
    w = unpaused(w)
    if alert:  # on_alert: pause: the alert holds nothing more, but the flight needs a fresh healthy verdict
        return (
            Outcome.APPLIED,
            f"{resumed}; acknowledges the alert recorded while paused ({alert}); flight {w.flight} "
            "needs a new healthy verdict",
            w.evolve(unhealthy=False),
        )
    return Outcome.APPLIED, resumed, w


def approvals_text(w: Workload, quorum: int) -> str:
    names = ", ".join(a["by"] for a in w.approvals)
    return f"{len(w.approvals)} of {quorum} approvals" + (f" ({names})" if names else "")


def approve(step: Step, w: Workload) -> Ruling:
    plan = step.release.plan
    if plan.approval_mode == "auto":
        return Outcome.IGNORED, "approval is automatic for this release", w
    if w.state in TERMINAL or w.state == S.FLIGHTING:
        return Outcome.IGNORED, f"workload is {w.state}", w
    if w.approved:
        return Outcome.IGNORED, "already approved", w
    actor = step.actor or ""
    if any(a["by"].lower() == actor.lower() for a in w.approvals):
        return Outcome.IGNORED, f"already approved by {actor}: {approvals_text(w, plan.quorum)}", w
    if plan.separate_duties and actor.lower() in (o.lower() for o in w.operated_by):
        return (
            Outcome.REJECTED,
            f"{actor} operated on {w.name} in this attempt: their approval does not count (separate_duties); "
            f"{approvals_text(w, plan.quorum)}",
            w,
        )
    w = w.evolve(approvals=[*w.approvals, {"by": actor, "at": iso_s(step.now)}])
    if len(w.approvals) < plan.quorum:
        return Outcome.APPLIED, f"approval counted: {approvals_text(w, plan.quorum)}", w
    return (
        Outcome.APPLIED,
        "approved" if plan.quorum == 1 else f"approved: {approvals_text(w, plan.quorum)}",
        w.evolve(approved=True),
    )


def rollback(step: Step, w: Workload) -> Ruling:
    if refused := refused_after_finalize("rollback", w):
        return Outcome.REJECTED, refused, w
    if w.state not in (S.FLIGHTING, S.PROMOTED):
        return Outcome.IGNORED, f"nothing to roll back: no users on the migrated system ({w.state})", w
    warning = ""
    if w.state == S.PROMOTED and step.release.plan.model == "single-step":
        warning = "; WARNING: the link to the source was severed, changes made since promotion are not on the source"
    return Outcome.APPLIED, f"rolled back to 0% by hand{warning}", step.to_source(w, S.ROLLED_BACK)


def abort(step: Step, w: Workload) -> Ruling:
    if refused := refused_after_finalize("abort", w):
        return Outcome.REJECTED, refused, w
    if w.state == S.ABORTED:
        return Outcome.IGNORED, "already aborted", w
    if w.state == S.PROMOTED:
        return Outcome.REJECTED, "workload is promoted: use override rollback to move users back", w
    return Outcome.APPLIED, "aborted; traffic on the source system", step.to_source(w, S.ABORTED)


def retry(step: Step, w: Workload) -> Ruling:
    if refused := refused_after_finalize("retry", w):
        return Outcome.REJECTED, refused, w
    if w.state != S.ROLLED_BACK:
        return Outcome.REJECTED, f"retry applies to a rolled-back workload; this one is {w.state}", w
    # a retry passes every gate again, manual approval included
    w = w.evolve(
        state=S.TESTING,
        tests_passed=False,
        approved=False,
        approvals=[],
        operated_by=[],
        flight=0,
        healthy_flight=0,
        unhealthy=False,
        flight_started_at=None,
        attempt=w.attempt + 1,
    )
    return Outcome.APPLIED, f"retry #{w.attempt}: back to testing", w
