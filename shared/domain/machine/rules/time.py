"""Time and order (contract §9): deadlines, change windows and dependencies between releases; and what
follows in time from every decision (a waiting period's deadline, the window opening a move waits for,
the releases that wait for this one)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain import messages as m
from shared.domain.gates import PROMOTED_STATES, describe, waiting_period
from shared.domain.machine.effects import digest
from shared.domain.machine.step import Ruling, Step
from shared.domain.model import TERMINAL, GateName, Outcome, Release, Workload, WorkloadState
from shared.domain.times import from_ms, iso_s, ms
from shared.domain.windows import closed

DEPENDENCY_NOTICE_DELAY = timedelta(seconds=2)
# A notice is sent only by a decision to promote. If it reads the dependency not promoted, that decision's
# commit was slower than the delay, or lost to a crash and redone when the message's lock ends (up to a
# minute): the waiting release looks again by itself, after each of these, rather than wait silently.
DEPENDENCY_RECHECKS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
assert len(DEPENDENCY_RECHECKS) == m.MAX_DEPENDENCY_RECHECKS


def span(seconds: float) -> str:
    """A duration as people read it: 1d1h1m1s, 45s, 0s."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs or not (days or hours or minutes) else "",
    ]
    return "".join(parts)


def _schedule_deadline(step: Step, name: str, period_key: str, due: datetime) -> None:
    step.schedule(m.DEADLINE_TYPE, {"workload": name, "period": period_key}, due, f"{period_key}:{ms(step.now)}")


def _schedule_window(step: Step, name: str, opens: datetime) -> None:
    step.schedule(m.WINDOW_TYPE, {"workload": name, "opens_ms": ms(opens)}, opens, f"{ms(opens)}:{ms(step.now)}")


def on_deadline(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    period = waiting_period(step.view(w), w)
    if period is None or period.key != data.period or period.deadline is None:
        return (
            Outcome.IGNORED,
            f"deadline for a waiting period that is over ({data.period}); the workload is {w.state}",
            w,
        )
    if step.now < period.deadline:  # a timer further out than the transport can hold arrives early
        _schedule_deadline(step, w.name, period.key, period.deadline)
        return Outcome.IGNORED, f"deadline timer arrived early; rescheduled for {iso_s(period.deadline)}", w
    if w.deadline_fired == period.key:
        return Outcome.IGNORED, f"the {period.kind} deadline of this waiting period already fired", w
    w = w.evolve(deadline_fired=period.key)
    what = (
        f"deadline passed: waited {span((step.now - period.since).total_seconds())} for {period.kind} "
        f"(deadline {period.kind}: {span(period.limit or 0)}) in {w.state}"
    )
    action = step.release.plan.on_deadline
    if action == "pause":
        if w.paused:
            return Outcome.APPLIED, f"{what}; on_deadline pause: already paused", w
        return (
            Outcome.APPLIED,
            f"{what}; paused at {w.traffic_percent}% (on_deadline: pause)",
            w.evolve(paused=True, paused_by="promote/deadline", paused_at=step.now, paused_reason=what),
        )
    if action == "rollback" and period.kind == "verdict" and w.state == WorkloadState.FLIGHTING:
        if w.paused:
            return Outcome.APPLIED, f"{what}; paused, so not rolled back (on_deadline: rollback)", w
        rolled = step.to_source(w, WorkloadState.ROLLED_BACK)
        return Outcome.APPLIED, f"{what}; rolled back to 0% (on_deadline: rollback)", rolled
    return (
        Outcome.APPLIED,
        f"{what}; on_deadline {action}" + (": rollback acts on a missing verdict only" if action == "rollback" else ""),
        w,
    )


def on_window(step: Step, w: Workload) -> Ruling:
    opens = from_ms(step.message.data.opens_ms)
    if step.now < opens:
        _schedule_window(step, w.name, opens)
        return Outcome.IGNORED, f"window timer arrived early; rescheduled for {iso_s(opens)}", w
    gates = step.waiting_for(w)
    if w.state in TERMINAL or gates:
        why = "; ".join(describe(g) for g in gates) or f"the workload is {w.state}"
        return Outcome.IGNORED, f"window opening {iso_s(opens)}: nothing moves now ({why})", w
    return Outcome.APPLIED, "change window open", w


def _recheck_dependency(step: Step) -> str:
    """Schedule the next look at a dependency read as not promoted (once per message, not per workload)."""
    data = step.message.data
    if data.recheck >= len(DEPENDENCY_RECHECKS) or data.dependency in step.release.after_met:
        return ""
    if all(w.state in TERMINAL for w in step.release.workloads.values()):
        return ""
    due = step.now + DEPENDENCY_RECHECKS[data.recheck]
    if not step.scheduled(m.DEPENDENCY_TYPE):
        # deterministic for this notice (a redelivery schedules the same message again, not another one), and
        # short whatever the names: a digest of the dependency and the notice's id
        key = f"{digest(data.dependency + ':' + step.message.id)}:r{data.recheck + 1}"
        step.schedule(m.DEPENDENCY_TYPE, {"dependency": data.dependency, "recheck": data.recheck + 1}, due, key)
    return f"; looking again at {iso_s(due)}"


def on_dependency(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    if data.dependency not in step.release.plan.after:
        return Outcome.IGNORED, f"release {data.dependency} is not in this release's `after`", w
    if data.state not in PROMOTED_STATES:
        # read before the promotion was committed (or it never was): the same message, redelivered after
        # the dependency's commit, must still count, so its id is not remembered
        step.forget_id = True
        again = _recheck_dependency(step)
        return Outcome.IGNORED, f"release {data.dependency} is {data.state or 'unknown'}, not promoted" + again, w
    if data.dependency in step.before.after_met:
        return Outcome.IGNORED, f"release {data.dependency} was already seen promoted", w
    if data.dependency not in step.release.after_met:
        step.release = step.release.evolve(after_met=step.release.after_met + (data.dependency,))
    waiting = [r for r in step.release.plan.after if r not in step.release.after_met]
    return (
        Outcome.APPLIED,
        f"release {data.dependency} is promoted"
        + (f"; still waiting for {', '.join(waiting)}" if waiting else "; no release to wait for now"),
        w,
    )


def _opening(release: Release, now: datetime) -> datetime | None:
    why = closed(release.plan.windows, now)
    return None if why is None else why.opens


def after_decision(step: Step) -> None:
    """What follows in time from this decision: waiting periods restart on a state change, deadlines and
    window openings are scheduled (once per period / opening), and dependants hear of a promotion."""
    plan = step.release.plan
    for name, w in list(step.workloads.items()):
        before = step.before.workloads[name]
        if w.state != before.state:
            w = w.evolve(state_since=step.now)
            if before.state == WorkloadState.REPLICATING:  # it leaves its initial state: its duration starts
                w = w.evolve(started_at=step.now)
        # a waiting period begins only when the workload changes; the window gate may close over any
        # message (time passes; a dependency is met), so it is looked at whenever the plan has windows
        period = waiting_period(step.release, w) if plan.deadlines and w != before else None
        old = waiting_period(step.before, before) if period else None
        if (
            period is not None
            and period.deadline is not None
            and w.deadline_fired != period.key
            and (old is None or old.key != period.key)
        ):
            _schedule_deadline(step, name, period.key, max(period.deadline, step.now))
        gates = step.waiting_for(w) if plan.windows else []
        if [g.gate for g in gates] == [GateName.WINDOW]:  # only the window holds it: wake it when it opens
            opens = _opening(step.release, step.now)
            if opens is not None and opens != w.window_opens_at:
                _schedule_window(step, name, opens)
                w = w.evolve(window_opens_at=opens)
        step.workloads[name] = w
    view = step.view()
    if view.partial:  # whether the release is promoted is decided on the whole (service: scope.py)
        return
    if view.dependants and view.state in PROMOTED_STATES and step.before.state not in PROMOTED_STATES:
        for dependant in view.dependants:
            # a few seconds later: the dependant reads this release's committed state, which this decision
            # is about to write
            due = step.now + DEPENDENCY_NOTICE_DELAY
            key = f"{step.release.name}:{step.before.seq}"
            step.schedule(m.DEPENDENCY_TYPE, {"dependency": step.release.name}, due, key, release=dependant)
