"""The rules of §8 (data sync, hypercare, finalize) for decide(): effects, message rules, and the pure
rewrite of a decision whose decommission failed. Kept apart from machine.py so that file stays readable;
machine.py registers these rules in its tables."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.domain import messages as m
from shared.domain.finishing import (
    AUTO_ACTOR,  # noqa: F401  (machine uses fin.AUTO_ACTOR)
    TIMER_HOP,
    DecommissionTarget,
    data_sync_hold,
    decommission_of,
    finalize_approval,
    hypercare_until,
    in_hypercare,
    retry_delay,
)
from shared.domain.model import HistoryEntry, Outcome, Release, Workload

if TYPE_CHECKING:
    from shared.domain.machine import Decision, _Step


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else "-"


# -- effects ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleFinishTimer:
    """A hypercare-elapsed or decommission-retry message for one promotion of one workload."""

    type: str  # m.HYPERCARE_TYPE | m.DECOMMISSION_RETRY_TYPE
    workload: str
    attempt: int
    promoted_ms: int
    due: datetime
    scheduled_at: datetime  # part of the id: a re-decision after a crash schedules a timer of its own

    @property
    def key(self) -> str:
        return f"{self.attempt}:{self.promoted_ms}:{_ms(self.scheduled_at)}"

    def event_id(self, release: str) -> str:
        return f"{self.type}:{release}:{self.workload}:{self.key}"


@dataclass(frozen=True)
class Decommission:
    """Turn the workload's source system off (idempotent); carried out before the commit."""

    workload: str
    target: DecommissionTarget
    assets: tuple[str, ...]
    actor: str  # who finalized (the approver, or `promote` with approval: auto)
    attempt: int  # the promotion attempt: part of the webhook's CloudEvent id


# -- what the step does -------------------------------------------------------------------------
def schedule(step: _Step, type_: str, w: Workload, due: datetime) -> None:
    assert w.promoted_at is not None
    hop = min(due, step.now + TIMER_HOP)  # long waits hop; an early timer re-schedules itself
    step.effects.append(ScheduleFinishTimer(type_, w.name, w.attempt, _ms(w.promoted_at), hop, step.now))


def entered_promoted(step: _Step, before: Workload, w: Workload) -> Workload:
    """Stamp the promotion and schedule the end of hypercare (when something happens at its end)."""
    w = w.evolve(
        promoted_at=step.now,
        finalize_requested_by=None,
        finalize_requested_at=None,
        decommission_error=None,
        decommission_failures=0,
    )
    if step.release.plan.hypercare > 0 or finalize_approval(step.release) == "auto":
        schedule(step, m.HYPERCARE_TYPE, w, hypercare_until(step.release, w))  # type: ignore[arg-type]
    return w


def finalize(step: _Step, w: Workload, actor: str) -> Workload:
    """Finalized as decided; the service turns it back to promoted if the decommission fails."""
    step.effects.append(Decommission(w.name, decommission_of(step.release, w.name), tuple(w.assets), actor, w.attempt))
    return w.evolve(
        state="finalized",
        paused=False,
        finalized_by=actor,
        finalized_at=step.now,
        decommission_error=None,
        finalize_requested_by=actor,
        finalize_requested_at=w.finalize_requested_at or step.now,
    )


def auto_finalize_due(release: Release, w: Workload, now: datetime) -> bool:
    return (
        w.state == "promoted"
        and not w.paused
        and finalize_approval(release) == "auto"
        and w.promoted_at is not None
        and not in_hypercare(release, w, now)
        and not w.finalize_requested_by
    )


def finalize_pending(release: Release, w: Workload) -> bool:
    """A promoted workload that will still finalize: pausing it holds that (and on_alert during hypercare)."""
    return w.promoted_at is not None and (release.plan.hypercare > 0 or finalize_approval(release) == "auto")


def sync_hold_reason(step: _Step, w: Workload) -> str | None:
    hold = data_sync_hold(step.release, w, step.now)
    return hold.reason if hold else None


def finalized_note(w: Workload) -> str:
    return f"finalized by {w.finalized_by} at {_iso(w.finalized_at)}: the source is decommissioned"


# -- rules: (step, workload) -> (outcome, reason, workload) -------------------------------------
def on_lag(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    at = min(step.message.time or step.now, step.now)  # a report from the future counts as now
    what = f"replication lag {data.lag_seconds:g}s" + (f" (asset {data.asset})" if data.asset else "")
    if data.asset is not None and data.asset not in w.assets:
        return Outcome.REJECTED, f"asset {data.asset!r} is not part of workload {w.name}", w
    if w.state in ("finalized", "aborted"):
        return Outcome.IGNORED, f"{what}: workload is {w.state}", w
    if w.lag_at is not None and at < w.lag_at:
        return Outcome.IGNORED, f"{what} measured at {_iso(at)}, before the latest report ({_iso(w.lag_at)})", w
    w = w.evolve(lag_seconds=float(data.lag_seconds) + 0.0, lag_at=at, lag_reports=w.lag_reports + 1)  # -0.0 -> 0.0
    if getattr(step.release.plan.workload(w.name), "data_sync", None) is None:
        return Outcome.APPLIED, f"{what} recorded (no data_sync gate for this workload)", w
    hold = data_sync_hold(step.release, w, step.now)
    return Outcome.APPLIED, f"{what}: " + (hold.reason if hold else "data-sync gate open"), w


def on_hypercare_elapsed(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    if (
        w.state != "promoted"
        or w.promoted_at is None
        or data.attempt != w.attempt
        or data.promoted_ms != _ms(w.promoted_at)
    ):
        return Outcome.IGNORED, "hypercare timer is stale (not for the current promotion)", w
    until = hypercare_until(step.release, w)
    assert until is not None
    if step.now < until:
        schedule(step, m.HYPERCARE_TYPE, w, until)
        return Outcome.IGNORED, f"hypercare timer arrived early; hypercare until {_iso(until)}", w
    if finalize_approval(step.release) == "manual":
        return Outcome.APPLIED, "hypercare over: an approver may finalize (override finalize)", w
    if w.paused:
        return Outcome.APPLIED, "hypercare over; paused: finalizes by itself at resume", w
    return Outcome.APPLIED, "hypercare over: finalizing (decommission.approval: auto)", w


def on_decommission_retry(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    if (
        w.state != "promoted"
        or not w.finalize_requested_by
        or w.promoted_at is None
        or data.attempt != w.attempt
        or data.promoted_ms != _ms(w.promoted_at)
    ):
        return Outcome.IGNORED, f"decommission retry is stale (workload is {w.state})", w
    if w.paused:  # a pause holds the finalize (documented): resume re-evaluates it
        return Outcome.IGNORED, "decommission retry while paused: the finalize waits for resume", w
    return Outcome.APPLIED, f"decommission retry #{w.decommission_failures}", finalize(step, w, w.finalize_requested_by)


def on_finalize(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    if w.state == "finalized":
        return Outcome.IGNORED, f"already {finalized_note(w)}", w
    if w.state != "promoted":
        return Outcome.REJECTED, f"finalize applies to a promoted workload; this one is {w.state}", w
    if w.paused:
        return Outcome.REJECTED, "workload is paused: resume first", w
    if in_hypercare(step.release, w, step.now):
        return (
            Outcome.REJECTED,
            f"in hypercare until {_iso(hypercare_until(step.release, w))}: the source is kept until then",
            w,
        )
    actor = step.message.data.actor
    if w.finalize_requested_by:  # an earlier decommission failed: finalize again retries it now
        return (
            Outcome.APPLIED,
            f"finalize again by {actor} (requested by {w.finalize_requested_by}, decommission "
            f"failed: {w.decommission_error}): retrying now",
            finalize(step, w, actor),
        )
    return Outcome.APPLIED, f"finalized by {actor}", finalize(step, w, actor)


def refused_after_finalize(action: str, w: Workload) -> str | None:
    """Why `rollback`/`retry`/`abort` may not touch this workload, or None."""
    if w.state == "finalized":
        return f"{action} refused: {finalized_note(w)}; there is no source to return to"
    if w.state == "promoted" and w.finalize_requested_by:
        return (
            f"{action} refused: finalize requested by {w.finalize_requested_by} at "
            f"{_iso(w.finalize_requested_at)}; the source may already be partly off"
        )
    return None


# -- when a decommission fails: the decision, rewritten (pure) ----------------------------------
def decommission_failed(decision: Decision, failures: dict[str, str], now: datetime) -> Decision:
    """The workloads whose decommission failed stay promoted with the failure recorded, and a retry timer."""
    workloads = dict(decision.release.workloads)
    effects: list[Any] = [e for e in decision.effects if not (isinstance(e, Decommission) and e.workload in failures)]
    notes: dict[str, str] = {}
    for name, error in failures.items():
        w = workloads[name]
        failed = w.decommission_failures + 1
        w = w.evolve(
            state="promoted",
            finalized_by=None,
            finalized_at=None,
            decommission_error=error[:500],
            decommission_failures=failed,
        )
        workloads[name] = w
        due = now + timedelta(seconds=retry_delay(failed))
        assert w.promoted_at is not None
        effects.append(ScheduleFinishTimer(m.DECOMMISSION_RETRY_TYPE, name, w.attempt, _ms(w.promoted_at), due, now))
        notes[name] = f"; decommission failed ({failed} time(s)): {error[:500]}; still promoted, retry at {_iso(due)}"
    entries: list[HistoryEntry] = [
        replace(e, reason=e.reason.replace(" -> finalized", "") + notes[e.workload], to_state="promoted")
        if e.workload in notes and e.to_state == "finalized"
        else e
        for e in decision.entries
    ]
    return replace(decision, release=decision.release.evolve(workloads=workloads), entries=entries, effects=effects)
