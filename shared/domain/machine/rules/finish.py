"""Finishing a migration (contract §8): replication lag and the data-sync gate, hypercare, finalize and
decommission, and the pure rewrite of a decision whose decommission failed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.domain import messages as m
from shared.domain.finishing import (
    AUTO_ACTOR,
    TIMER_HOP,
    data_sync_hold,
    decommission_of,
    finalize_approval,
    hypercare_until,
    in_hypercare,
    retry_delay,
)
from shared.domain.machine.effects import Decision, Decommission, Schedule
from shared.domain.machine.step import Ruling, Step
from shared.domain.model import HistoryEntry, Outcome, Release, Workload, WorkloadState
from shared.domain.times import iso_s, ms

S = WorkloadState
EARLIEST_REPORT = datetime(1970, 1, 1, tzinfo=UTC)  # a replication-lag report's time, kept as the workload's lag_at


def _at(moment: datetime | None) -> str:
    return iso_s(moment) or "-"


def finish_timer(type_: str, w: Workload, due: datetime, *, scheduled_at: datetime) -> Schedule:
    """A hypercare-elapsed or decommission-retry message for the workload's current promotion."""
    assert w.promoted_at is not None
    promoted = ms(w.promoted_at)
    data = {"workload": w.name, "attempt": w.attempt, "promoted_ms": promoted}
    return Schedule(type_, data, due, f"{w.attempt}:{promoted}:{ms(scheduled_at)}")


def schedule_hypercare_end(step: Step, w: Workload, due: datetime) -> None:
    hop = min(due, step.now + TIMER_HOP)  # long waits hop; an early timer re-schedules itself
    step.effects.append(finish_timer(m.HYPERCARE_TYPE, w, hop, scheduled_at=step.now))


def entered_promoted(step: Step, w: Workload) -> Workload:
    """Stamp the promotion and schedule the end of hypercare (when something happens at its end)."""
    w = w.evolve(
        promoted_at=step.now,
        finalize_requested_by=None,
        finalize_requested_at=None,
        decommission_error=None,
        decommission_failures=0,
    )
    if step.release.plan.hypercare > 0 or finalize_approval(step.release) == "auto":
        schedule_hypercare_end(step, w, hypercare_until(step.release, w))  # type: ignore[arg-type]
    return w


def after_moves(step: Step) -> None:
    """Every workload that has just been promoted: stamp it and schedule its hypercare end (§8)."""
    for name, w in step.workloads.items():
        if w.state == S.PROMOTED and step.before.workloads[name].state != S.PROMOTED:
            step.workloads[name] = entered_promoted(step, w)


def finalize(step: Step, w: Workload, actor: str) -> Workload:
    """Finalized as decided, the source turned off first; the service turns it back to promoted if the
    decommission fails. Only ever after the finalize request was committed (`request_finalize`)."""
    step.effects.append(Decommission(w.name, decommission_of(step.release, w.name), tuple(w.assets), actor, w.attempt))
    return w.evolve(
        state=S.FINALIZED,
        paused=False,
        finalized_by=actor,
        finalized_at=step.now,
        decommission_error=None,
        finalize_requested_by=actor,
        finalize_requested_at=w.finalize_requested_at or step.now,
    )


def request_finalize(step: Step, w: Workload, actor: str) -> Workload:
    """The point of no return, committed before anything is turned off: from this commit on a rollback is
    refused (the source may be going off), and the decommission is a message of its own, sent now."""
    assert w.promoted_at is not None
    promoted = ms(w.promoted_at)
    data = {"workload": w.name, "attempt": w.attempt, "promoted_ms": promoted}
    step.schedule(m.DECOMMISSION_TYPE, data, step.now, f"{w.attempt}:{promoted}:{ms(step.now)}")
    return w.evolve(finalize_requested_by=actor, finalize_requested_at=w.finalize_requested_at or step.now)


def finalize_by_itself(step: Step, w: Workload) -> Workload:
    return request_finalize(step, w, AUTO_ACTOR)


def auto_finalize_pending(step: Step, w: Workload) -> bool:
    """`decommission.approval: auto`: a promotion not finalized yet and not being finalized (its gates are
    the flow's: paused, hypercare)."""
    return finalize_approval(step.release) == "auto" and w.promoted_at is not None and not w.finalize_requested_by


def finalize_pending(release: Release, w: Workload) -> bool:
    """A promoted workload that will still finalize: pausing it holds that (and on_alert during hypercare)."""
    return w.promoted_at is not None and (release.plan.hypercare > 0 or finalize_approval(release) == "auto")


def finalized_note(w: Workload) -> str:
    return f"finalized by {w.finalized_by} at {_at(w.finalized_at)}: the source is decommissioned"


def refused_after_finalize(action: str, w: Workload) -> str | None:
    """Why `rollback`/`retry`/`abort` may not touch this workload, or None."""
    if w.state == S.FINALIZED:
        return f"{action} refused: {finalized_note(w)}; there is no source to return to"
    if w.state == S.PROMOTED and w.finalize_requested_by:
        return (
            f"{action} refused: finalize requested by {w.finalize_requested_by} at "
            f"{_at(w.finalize_requested_at)}; the source may already be partly off"
        )
    return None


# -- rules ----------------------------------------------------------------------------------------
def on_lag(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    at = min(step.message.time or step.now, step.now)  # a report from the future counts as now
    what = f"replication lag {data.lag_seconds:g}s" + (f" (asset {data.asset})" if data.asset else "")
    if data.asset is not None and data.asset not in w.assets:
        return Outcome.REJECTED, f"asset {data.asset!r} is not part of workload {w.name}", w
    if at < EARLIEST_REPORT:  # kept as lag_at: a time no store holds (Table Storage: 1601 on) is no measurement
        return Outcome.REJECTED, f"{what} measured at {_at(at)}: no report is dated before 1970", w
    if w.state in (S.FINALIZED, S.ABORTED):
        return Outcome.IGNORED, f"{what}: workload is {w.state}", w
    if w.lag_at is not None and at < w.lag_at:
        return Outcome.IGNORED, f"{what} measured at {_at(at)}, before the latest report ({_at(w.lag_at)})", w
    w = w.evolve(lag_seconds=float(data.lag_seconds) + 0.0, lag_at=at, lag_reports=w.lag_reports + 1)  # -0.0 -> 0.0
    if getattr(step.release.plan.workload(w.name), "data_sync", None) is None:
        return Outcome.APPLIED, f"{what} recorded (no data_sync gate for this workload)", w
    hold = data_sync_hold(step.release, w, step.now)
    return Outcome.APPLIED, f"{what}: " + (hold.reason if hold else "data-sync gate open"), w


def quiet_lag(step: Step) -> None:
    """A replication-lag report that moved nothing and neither opened nor closed the gate leaves no history
    entry (reports may come every minute for weeks); its outcome is kept on its de-duplication marker."""
    if step.message.type != m.LAG_TYPE or len(step.entries) != 1 or step.effects:
        return
    entry, name = step.entries[0], step.message.data.workload
    old, new = step.before.workloads[name], step.workloads[name]
    if (
        entry.outcome == Outcome.REJECTED
        or old.lag_at is None
        or (old.state, old.traffic_percent) != (new.state, new.traffic_percent)
    ):  # the first report is shown
        return
    was_open = step.sync_hold(old) is None
    now_open = new.lag_at is not None and step.sync_hold(new) is None
    if was_open == now_open:
        step.quiet, step.entries = [entry], []


def on_hypercare_elapsed(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    if (
        w.state != S.PROMOTED
        or w.promoted_at is None
        or data.attempt != w.attempt
        or data.promoted_ms != ms(w.promoted_at)
    ):
        return Outcome.IGNORED, "hypercare timer is stale (not for the current promotion)", w
    until = hypercare_until(step.release, w)
    assert until is not None
    if step.now < until:
        schedule_hypercare_end(step, w, until)
        return Outcome.IGNORED, f"hypercare timer arrived early; hypercare until {_at(until)}", w
    if finalize_approval(step.release) == "manual":
        return Outcome.APPLIED, "hypercare over: an approver may finalize (override finalize)", w
    if w.paused:
        return Outcome.APPLIED, "hypercare over; paused: finalizes by itself at resume", w
    return Outcome.APPLIED, "hypercare over: finalizing (decommission.approval: auto)", w


def on_decommission(step: Step, w: Workload) -> Ruling:
    """Turn the source off for a committed finalize request: the first attempt (`decommission`) or a retry
    after a failure (`decommission-retry`). A pause no longer holds it: the request was the point of no return."""
    data = step.message.data
    if (
        w.state != S.PROMOTED
        or not w.finalize_requested_by
        or w.promoted_at is None
        or data.attempt != w.attempt
        or data.promoted_ms != ms(w.promoted_at)
    ):
        return Outcome.IGNORED, f"decommission is stale (workload is {w.state})", w
    if step.message.type == m.DECOMMISSION_RETRY_TYPE:
        what = f"decommission retry #{w.decommission_failures}"
    else:
        what = f"turning the source off (finalize requested by {w.finalize_requested_by})"
    return Outcome.APPLIED, what, finalize(step, w, w.finalize_requested_by)


def on_finalize(step: Step, w: Workload) -> Ruling:
    if w.state == S.FINALIZED:
        return Outcome.IGNORED, f"already {finalized_note(w)}", w
    if w.state != S.PROMOTED:
        return Outcome.REJECTED, f"finalize applies to a promoted workload; this one is {w.state}", w
    if w.paused:
        return Outcome.REJECTED, "workload is paused: resume first", w
    if in_hypercare(step.release, w, step.now):
        return (
            Outcome.REJECTED,
            f"in hypercare until {_at(hypercare_until(step.release, w))}: the source is kept until then",
            w,
        )
    actor = step.message.data.actor
    if w.finalize_requested_by:  # requested before: finalize again sends the decommission again, now
        # (a second click can come before the first decommission ran: then nothing has failed yet)
        why = (
            f"decommission failed: {w.decommission_error}"
            if w.decommission_failures or w.decommission_error
            else "its decommission has not run yet"
        )
        return (
            Outcome.APPLIED,
            f"finalize again by {actor} (requested by {w.finalize_requested_by}, {why}): turning the source off now",
            request_finalize(step, w, actor),
        )
    return (
        Outcome.APPLIED,
        f"finalize requested by {actor}: the source is turned off next; rollback is refused from now on",
        request_finalize(step, w, actor),
    )


# -- when a decommission fails: the decision, rewritten (pure) ----------------------------------
def decommission_failed(decision: Decision, failures: dict[str, str], now: datetime) -> Decision:
    """The workloads whose decommission failed stay promoted with the failure recorded, and a retry timer."""
    workloads = dict(decision.release.workloads)
    retries: list[Schedule] = []
    notes: dict[str, str] = {}
    for name, error in failures.items():
        w = workloads[name]
        failed = w.decommission_failures + 1
        w = w.evolve(
            state=S.PROMOTED,
            finalized_by=None,
            finalized_at=None,
            decommission_error=error[:500],
            decommission_failures=failed,
        )
        workloads[name] = w
        due = now + timedelta(seconds=retry_delay(failed))
        retries.append(finish_timer(m.DECOMMISSION_RETRY_TYPE, w, due, scheduled_at=now))
        notes[name] = f"; decommission failed ({failed} time(s)): {error[:500]}; still promoted, retry at {_at(due)}"
    kept: list[Any] = [e for e in decision.effects if not (isinstance(e, Decommission) and e.workload in failures)]
    entries: list[HistoryEntry] = [
        replace(e, reason=e.reason.replace(" -> finalized", "") + notes[e.workload], to_state=S.PROMOTED)
        if e.workload in notes and e.to_state == S.FINALIZED
        else e
        for e in decision.entries
    ]
    return replace(
        decision,
        release=decision.release.evolve(workloads=workloads),
        entries=entries,
        effects=kept + retries,
    )
