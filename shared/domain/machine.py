"""decide(release, message, now) -> Decision: the whole promotion state machine, pure.

Facts (replications, test results, verdicts, approvals) are recorded on the workload first; then
`_advance` moves the workload as far as the recorded facts and the guards allow. Routing changes and
timers are returned as effects for the service layer to carry out before it commits.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Union

from shared.domain import finish_rules as fin
from shared.domain import messages as m
from shared.domain.model import SEEN_WINDOW, TERMINAL, HistoryEntry, Outcome, Release, Workload, archive_add
from shared.domain.plan import RevokeAccess as RevokeAccessConfig
from shared.domain.shares import realisable_share


# -- effects: what the service must do before it commits --------------------------------------
@dataclass(frozen=True)
class SetTraffic:
    workload: str
    percent: int  # the share the state records; the router must achieve exactly this
    routing: object


@dataclass(frozen=True)
class ScheduleTimer:
    workload: str
    flight: int
    attempt: int
    started_ms: int  # identifies the flight instance the timer is for
    due: datetime
    scheduled_at: datetime  # part of the timer's id: a re-decision after a crash schedules a new one

    @property
    def key(self) -> str:
        return f"{self.attempt}:{self.flight}:{self.started_ms}:{_ms(self.scheduled_at)}"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class RevokeAccess:
    config: RevokeAccessConfig


Effect = Union[SetTraffic, ScheduleTimer, RevokeAccess, fin.ScheduleFinishTimer, fin.Decommission]


@dataclass(frozen=True)
class Decision:
    release: Release
    entries: list[HistoryEntry]
    effects: list[Effect] = field(default_factory=list)
    quiet: list[HistoryEntry] = field(default_factory=list)  # outcomes kept on the marker row, not in history

    @property
    def outcome(self) -> Outcome:
        """The message's outcome; a release-wide override is `applied` if it applied to any workload."""
        outcomes = {e.outcome for e in [*self.entries, *self.quiet]}
        for outcome in ("applied", "duplicate", "rejected", "ignored"):
            if outcome in outcomes:
                return outcome  # type: ignore[return-value]
        return "ignored"

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(e.reason for e in [*self.entries, *self.quiet]))


def digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


CLOCK_SKEW = timedelta(seconds=5)  # a monitor's clock may run this far behind ours


# -- guards: small named predicates -----------------------------------------------------------
def all_assets_replicated(w: Workload) -> bool:
    return w.all_replicated


def approval_holds(release: Release, w: Workload) -> bool:
    return release.plan.approval == "auto" or w.approved


def bake_due(release: Release, w: Workload) -> datetime:
    bake = release.plan.flights[w.flight - 1].bake  # type: ignore[index]
    return w.flight_started_at + timedelta(seconds=bake)  # type: ignore[operator]


def bake_elapsed(release: Release, w: Workload, now: datetime) -> bool:
    return now >= bake_due(release, w)


def healthy_for_current_flight(w: Workload) -> bool:
    return w.state == "flighting" and w.healthy_flight == w.flight


def can_act(w: Workload) -> bool:
    return not w.paused and w.state not in TERMINAL


# -- the machine ------------------------------------------------------------------------------
class _Step:
    """One message being decided: accumulates the new workloads, history entries and effects."""

    def __init__(self, release: Release, message, now: datetime):
        self.release, self.message, self.now = release, message, now
        self.workloads = dict(release.workloads)
        self.entries: list[HistoryEntry] = []
        self.effects: list[Effect] = []
        self.access_revoked = release.access_revoked
        self.held: dict[str | None, str] = {}  # workload (None: the release) -> the gate that held a move
        self.quiet: list[HistoryEntry] = []  # outcomes recorded on the marker row only (quiet lag reports)

    def routing(self, name: str):
        return self.release.plan.workload(name).routing  # type: ignore[union-attr]

    def record(self, name: str | None, outcome: Outcome, reason: str, before: Workload | None = None) -> None:
        after = self.workloads.get(name) if name else None
        data = self.message.data
        flight = getattr(data, "flight", None) or (after.flight if after else None)
        self.entries.append(HistoryEntry(
            at=self.now, event_id=self.message.id, type=self.message.type, outcome=outcome, reason=reason,
            workload=name, from_state=(before or after).state if (before or after) else None,
            to_state=after.state if after else None, traffic_percent=after.traffic_percent if after else None,
            actor=getattr(data, "actor", None), flight=flight or None, source=self.message.source))

    def promoted_with_release(self, name: str, before: Workload) -> None:
        """Fold the release-wide promotion into the workload's entry for this message, or add one."""
        after = self.workloads[name]
        reason = "promoted with the release: every workload ready and approved"
        for i, entry in enumerate(self.entries):
            if entry.workload == name:
                self.entries[i] = replace(entry, outcome="applied", reason=f"{entry.reason}; {reason}",
                                          to_state=after.state, traffic_percent=after.traffic_percent)
                return
        self.record(name, "applied", reason, before)

    # routing moves --------------------------------------------------------------------------
    def set_traffic(self, w: Workload, percent: int, *, always: bool = False) -> Workload:
        """Route `percent` (as the provider can realise it); `always` asserts it even if the state has it."""
        share = realisable_share(self.routing(w.name), percent)
        assert share is not None, "plans whose shares cannot be realised are refused at apply"
        if share != w.traffic_percent or always:
            self.effects.append(SetTraffic(w.name, share, self.routing(w.name)))
        return w.evolve(traffic_percent=share)

    def start_flight(self, w: Workload, flight: int) -> Workload:
        spec = self.release.plan.flights[flight - 1]  # type: ignore[index]
        w = self.set_traffic(w.evolve(state="flighting", flight=flight, flight_started_at=self.now,
                                      healthy_flight=0, unhealthy=False), spec.percent)
        if spec.bake > 0:
            self.effects.append(ScheduleTimer(w.name, flight, w.attempt, _ms(self.now),
                                              self.now + timedelta(seconds=spec.bake), self.now))
        return w

    def promote(self, w: Workload) -> Workload:
        return self.set_traffic(w.evolve(state="promoted"), 100)

    def grow(self, w: Workload) -> Workload:
        if w.flight >= len(self.release.plan.flights or []):
            return w.evolve(state="promoted")
        return self.start_flight(w, w.flight + 1)

    def to_source(self, w: Workload, state: str) -> Workload:
        # Always asserted, even when the state says 0%: a crash after a routing change and before its
        # commit may have left users on the migrated system that the state never recorded.
        w = w.evolve(state=state, paused=False, flight_started_at=None, healthy_flight=0, unhealthy=False)
        return self.set_traffic(w, 0, always=True)

    # advancing on recorded facts -------------------------------------------------------------
    def advance(self, w: Workload) -> Workload:
        """Move `w` as far as its recorded facts and the guards allow (never while paused)."""
        if fin.auto_finalize_due(self.release, w, self.now):
            return fin.finalize(self, w, fin.AUTO_ACTOR)
        if not can_act(w):
            return w
        plan = self.release.plan
        if w.state == "replicating" and all_assets_replicated(w):
            w = w.evolve(state="testing")
        if w.state == "testing" and w.tests_passed:
            w = w.evolve(state="ready")
        if w.state == "ready" and plan.model != "staged" and approval_holds(self.release, w):
            if not self.sync_held(w):
                w = self.promote(w) if plan.model == "single-step" else self.start_flight(w, 1)
        elif w.state == "flighting" and healthy_for_current_flight(w) and bake_elapsed(self.release, w, self.now):
            if w.flight >= len(plan.flights or []) or not self.sync_held(w):  # at 100% already: no move
                w = self.grow(w)
        return w

    def sync_held(self, w: Workload) -> bool:
        """The data-sync gate (§8) holds this move onto the migrated system; the reason goes into history."""
        reason = fin.sync_hold_reason(self, w)
        if reason:
            self.held[w.name] = reason
        return reason is not None

    def held_note(self, name: str | None) -> str:
        notes = [self.held[k] for k in (name, None) if k in self.held]
        return "".join(f"; held by {note}" for note in notes)

    def advance_release(self) -> None:
        """Staged: promote every workload at once when all are ready and approved. Then revoke access."""
        # Promoted workloads (one rolled back and retried) and aborted ones (out of the release) do not
        # hold the others back; every other workload must be ready, approved and not paused.
        waiting = [w for w in self.workloads.values() if w.state not in TERMINAL]
        if self.release.plan.model == "staged" and waiting and all(
                w.state == "ready" and can_act(w) and approval_holds(self.release, w) for w in waiting) \
                and not self.release_sync_held(waiting):
            for w in waiting:
                self.workloads[w.name] = self.promote(w)
                self.promoted_with_release(w.name, w)
        revoke = self.release.plan.revoke_access
        if revoke and not self.access_revoked and all(w.state == "promoted" for w in self.workloads.values()):
            self.effects.append(RevokeAccess(revoke))
            self.access_revoked = True
            if self.entries:
                last = self.entries[-1]
                self.entries[-1] = replace(last, reason=f"{last.reason}; release promoted, migration team access revoked")

    def release_sync_held(self, waiting: list[Workload]) -> bool:
        """Staged: the release moves only when every workload's data-sync gate is open."""
        holds = [(w.name, r) for w in waiting if (r := fin.sync_hold_reason(self, w))]
        if holds:
            self.held[None] = "; ".join(f"{name} {reason}" for name, reason in holds)
            self.entries = [replace(e, reason=e.reason + f"; release held by {self.held[None]}")
                            if self.held.get(None) and "release held by" not in e.reason else e for e in self.entries]
        return bool(holds)

    def after_moves(self, before: Release) -> None:
        """Every workload that has just been promoted: stamp it and schedule its hypercare end (§8)."""
        for name, w in self.workloads.items():
            if w.state == "promoted" and before.workloads[name].state != "promoted":
                self.workloads[name] = fin.entered_promoted(self, before.workloads[name], w)

    def quiet_lag(self, before: Release) -> None:
        """A replication-lag report that moved nothing and neither opened nor closed the gate leaves no history
        entry (reports may come every minute for weeks); its outcome is kept on its de-duplication marker."""
        if self.message.type != m.LAG_TYPE or len(self.entries) != 1 or self.effects:
            return
        entry, name = self.entries[0], self.message.data.workload
        old, new = before.workloads[name], self.workloads[name]
        if entry.outcome == "rejected" or old.lag_at is None or \
                (old.state, old.traffic_percent) != (new.state, new.traffic_percent):  # the first report is shown
            return
        was_open = old.lag_at is not None and fin.sync_hold_reason(self, old) is None
        now_open = new.lag_at is not None and fin.sync_hold_reason(self, new) is None
        if was_open == now_open:
            self.quiet, self.entries = [entry], []

    def finish(self, *, remember: bool = True) -> Decision:
        """The decision; `remember` records the message id for duplicate checks (not for invalid messages,
        whose id was never validated and gets no marker)."""
        release = self.release
        if not remember:
            return Decision(release=release.evolve(workloads=self.workloads, seq=release.seq + len(self.entries)),
                            entries=self.entries, effects=self.effects)
        seen, archive, archived = release.seen + (digest(self.message.id),), release.archive, release.archived
        if len(seen) > SEEN_WINDOW:  # ids pushed out of the window go to the archive
            pushed, seen = seen[:-SEEN_WINDOW], seen[-SEEN_WINDOW:]
            archive, archived = archive_add(archive, pushed), archived + len(pushed)
        new = release.evolve(workloads=self.workloads, access_revoked=self.access_revoked,
                             seq=release.seq + len(self.entries), seen=seen, processed=release.processed + 1,
                             archive=archive, archived=archived)
        return Decision(release=new, entries=self.entries, effects=self.effects, quiet=self.quiet)


Rule = Callable[[_Step, Workload], tuple[Outcome, str, Workload]]


def _on_asset(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    asset = step.message.data.asset
    if asset not in w.assets:
        return "rejected", f"asset {asset!r} is not part of workload {w.name}", w
    if w.state in ("promoted", "finalized"):
        return "ignored", (f"asset {asset} replicated after promotion: the link to the source was severed at "
                           "promotion; WARNING: changes made on the source since then are lost"), w
    if w.state == "aborted":
        return "ignored", "workload is aborted", w
    if w.assets[asset]:
        return "ignored", f"asset {asset} was already replicated", w
    w = w.evolve(assets={**w.assets, asset: True})
    done = sum(w.assets.values())
    return "applied", f"asset {asset} replicated ({done}/{len(w.assets)})", w


def _on_tests(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    passed = step.message.type == "tests-passed"
    data = step.message.data
    what = " ".join(x for x in (f"suite {data.suite}" if data.suite else "", f"run {data.run}" if data.run else "") if x)
    what = f" ({what})" if what else ""
    if w.state in ("promoted", "aborted", "flighting", "finalized"):
        return "ignored", f"tests result{what} arrived while {w.state}; it changes nothing now", w
    if w.state == "rolled-back":
        return "rejected", "workload is rolled back: send override retry before new test results", w
    if not all_assets_replicated(w):
        pending = [a for a, done in w.assets.items() if not done]
        return "rejected", (f"tests result{what} while replicating: {len(pending)} asset(s) not replicated yet "
                            f"({', '.join(pending[:5])})"), w
    if passed:
        if w.tests_passed:
            return "ignored", f"tests already passed{what}", w
        return "applied", f"tests passed{what}", w.evolve(tests_passed=True)
    if w.state == "ready" or w.tests_passed:
        return "applied", f"tests failed{what}: back to testing", w.evolve(tests_passed=False, state="testing" if
                                                                          w.state == "ready" else w.state)
    return "applied", f"tests failed{what}: waiting for a passing run", w


def _on_verdict(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    flight, healthy = step.message.data.flight, step.message.type == "flight-healthy"
    if w.state != "flighting":
        return "ignored", f"verdict for flight {flight} but the workload is {w.state}", w
    if flight != w.flight:
        return "ignored", f"verdict for flight {flight}; the current flight is {w.flight}", w
    if step.message.time is not None and step.message.time < w.flight_started_at - CLOCK_SKEW:
        return "ignored", f"verdict issued at {step.message.time.isoformat()}, before flight {flight} began", w
    if healthy:
        baked = bake_elapsed(step.release, w, step.now)
        if w.healthy_flight == flight and not baked:
            return "ignored", f"flight {flight} was already reported healthy; bake time not over", w
        if w.healthy_flight == flight and w.paused:
            return "ignored", f"flight {flight} was already reported healthy; paused", w
        w = w.evolve(healthy_flight=flight)
        if not baked:
            left = (bake_due(step.release, w) - step.now).total_seconds()
            return "applied", f"flight {flight} healthy; bake time left {left:.0f}s", w
        return "applied", f"flight {flight} healthy and baked", w
    return _on_trouble(step, w, f"flight {flight} unhealthy")


def _on_alert(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    what = "alert" + (f" ({data.severity})" if data.severity else "") + (f": {data.description}" if data.description else "")
    if w.state == "promoted" and fin.in_hypercare(step.release, w, step.now):
        return _on_trouble(step, w, f"{what} during hypercare")
    if w.state != "flighting":
        hint = "; roll back with override rollback if needed" if w.state == "promoted" else ""
        return "ignored", f"{what} while {w.state}; on_alert applies during flights{hint}", w
    return _on_trouble(step, w, what)


def _on_trouble(step: _Step, w: Workload, what: str) -> tuple[Outcome, str, Workload]:
    # a healthy verdict from before the trouble no longer counts: the flight needs a fresh one
    if w.paused:
        return "applied", f"{what}; recorded while paused, routing unchanged until resume", \
            w.evolve(unhealthy=True, healthy_flight=0)
    if step.release.plan.on_alert == "pause":
        return "applied", f"{what}: paused at {w.traffic_percent}% (on_alert: pause)", \
            w.evolve(paused=True, healthy_flight=0)
    return "applied", f"{what}: rolled back to 0% (on_alert: rollback)", step.to_source(w, "rolled-back")


def _on_timer(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    if (w.state != "flighting" or data.flight != w.flight or data.attempt != w.attempt
            or data.started_ms != _ms(w.flight_started_at)):
        return "ignored", f"bake timer for flight {data.flight} (attempt {data.attempt}) is stale", w
    due = bake_due(step.release, w)
    if step.now < due:
        step.effects.append(ScheduleTimer(w.name, w.flight, w.attempt, data.started_ms, due, step.now))
        return "ignored", f"bake timer arrived early; rescheduled for {due.isoformat()}", w
    if w.paused:
        return "ignored", f"bake time of flight {w.flight} over; paused", w
    if not healthy_for_current_flight(w):
        return "ignored", f"bake time of flight {w.flight} over; waiting for a healthy verdict", w
    return "applied", f"bake time of flight {w.flight} over and healthy", w


# overrides: action -> (who may, rule)
def _pause(step: _Step, w: Workload):
    if w.state in TERMINAL and not (w.state == "promoted" and fin.finalize_pending(step.release, w)):
        return "ignored", f"workload is {w.state}", w
    if w.paused:
        return "ignored", "already paused", w
    return "applied", f"paused at {w.traffic_percent}%", w.evolve(paused=True)


def _resume(step: _Step, w: Workload):
    if not w.paused:
        return "ignored", "not paused", w
    w = w.evolve(paused=False)
    if w.state in ("flighting", "promoted") and w.unhealthy and step.release.plan.on_alert == "rollback":
        return "applied", "resumed; the alert recorded while paused rolls back to 0%", step.to_source(w, "rolled-back")
    return "applied", "resumed", w


def _approve(step: _Step, w: Workload):
    if step.release.plan.approval == "auto":
        return "ignored", "approval is automatic for this release", w
    if w.state in TERMINAL or w.state == "flighting":
        return "ignored", f"workload is {w.state}", w
    if w.approved:
        return "ignored", "already approved", w
    return "applied", "approved", w.evolve(approved=True)


def _advance_now(step: _Step, w: Workload):
    if w.state != "flighting":
        return "rejected", f"advance applies to a flighting workload; this one is {w.state}", w
    if w.paused:
        return "rejected", "workload is paused: resume first", w
    if w.flight < len(step.release.plan.flights or []) and (held := fin.sync_hold_reason(step, w)):
        return "rejected", f"advance held by {held}", w
    before = w.traffic_percent
    w = step.grow(w)
    return "applied", f"advanced by hand from flight {w.flight - (0 if w.state == 'promoted' else 1)} " \
                      f"({before}%) to {w.state if w.state == 'promoted' else f'flight {w.flight}'}", w


def _rollback(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("rollback", w):
        return "rejected", refused, w
    if w.state not in ("flighting", "promoted"):
        return "ignored", f"nothing to roll back: no users on the migrated system ({w.state})", w
    warning = ""
    if w.state == "promoted" and step.release.plan.model == "single-step":
        warning = "; WARNING: the link to the source was severed, changes made since promotion are not on the source"
    return "applied", f"rolled back to 0% by hand{warning}", step.to_source(w, "rolled-back")


def _abort(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("abort", w):
        return "rejected", refused, w
    if w.state == "aborted":
        return "ignored", "already aborted", w
    if w.state == "promoted":
        return "rejected", "workload is promoted: use override rollback to move users back", w
    return "applied", "aborted; traffic on the source system", step.to_source(w, "aborted")


def _retry(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("retry", w):
        return "rejected", refused, w
    if w.state != "rolled-back":
        return "rejected", f"retry applies to a rolled-back workload; this one is {w.state}", w
    # a retry passes every gate again, manual approval included
    w = w.evolve(state="testing", tests_passed=False, approved=False, flight=0, healthy_flight=0, unhealthy=False,
                 flight_started_at=None, attempt=w.attempt + 1)
    return "applied", f"retry #{w.attempt}: back to testing", w


OVERRIDES: dict[str, Rule] = {"pause": _pause, "resume": _resume, "approve": _approve, "advance": _advance_now,
                              "rollback": _rollback, "abort": _abort, "retry": _retry, "finalize": fin.on_finalize}
RULES: dict[str, Rule] = {
    "asset-replicated": _on_asset, "tests-passed": _on_tests, "tests-failed": _on_tests,
    "flight-healthy": _on_verdict, "flight-unhealthy": _on_verdict, "alert": _on_alert, m.TIMER_TYPE: _on_timer,
    m.LAG_TYPE: fin.on_lag, m.HYPERCARE_TYPE: fin.on_hypercare_elapsed,
    m.DECOMMISSION_RETRY_TYPE: fin.on_decommission_retry,
}


def authorized(release: Release, action: str, actor: str) -> bool:
    plan = release.plan
    if action in m.APPROVER_ACTIONS:
        return actor in plan.approvers
    return actor in plan.operators or actor in plan.approvers


def decide(release: Release, message, now: datetime, *, duplicate: bool = False) -> Decision:
    """The new release state, one history entry per affected workload, and the effects to carry out."""
    step = _Step(release, message, now)
    target = message.data.workload
    if duplicate:
        step.record(target if target in release.workloads else None, "duplicate", f"id {message.id!r} was seen before")
        return step.finish()
    if target is not None and target not in release.workloads:
        step.record(target, "rejected", f"workload {target!r} is not part of release {release.name}")
        return step.finish()
    if message.type == "override":
        action, actor = message.data.action, message.data.actor
        if not authorized(release, action, actor):
            who = "approvers" if action in m.APPROVER_ACTIONS else "operators or approvers"
            step.record(target, "rejected", f"{actor} may not {action}: not among the release's {who}")
            return step.finish()
        rule = OVERRIDES[action]
    else:
        rule = RULES[message.type]
    for name in [target] if target else list(release.workloads):
        before = step.workloads[name]
        outcome, reason, after = rule(step, before)
        if outcome == "applied":
            after = step.advance(after)
        step.workloads[name] = after
        step.record(name, outcome, reason + _moved(before, after) + step.held_note(name), before)
    step.advance_release()
    step.after_moves(release)
    step.quiet_lag(release)
    return step.finish()


def _moved(before: Workload, after: Workload) -> str:
    if after.state == before.state and after.traffic_percent == before.traffic_percent:
        return ""
    if after.state == "flighting":
        return f" -> flighting (flight {after.flight}, {after.traffic_percent}%)"
    if after.traffic_percent != before.traffic_percent:
        return f" -> {after.state} ({after.traffic_percent}%)"
    return f" -> {after.state}"


def reject_unparsed(release: Release, unparsed: m.Unparsed, now: datetime) -> Decision:
    """A message of a known release that failed validation: recorded as rejected with the reason."""
    stand_in = _Invalid(id=unparsed.id or f"invalid:{digest(unparsed.reason)}", type=unparsed.type or "invalid",
                        data=_InvalidData(workload=unparsed.workload))
    step = _Step(release, stand_in, now)
    workload = unparsed.workload if unparsed.workload in release.workloads else None
    step.record(workload, "rejected", f"invalid message: {unparsed.reason}")
    return step.finish(remember=False)


@dataclass(frozen=True)
class _InvalidData:
    workload: str | None


@dataclass(frozen=True)
class _Invalid:
    """What decide() needs of a message that failed validation."""
    id: str
    type: str
    data: _InvalidData
    source: str | None = None
    time: datetime | None = None
