"""decide(release, message, now) -> Decision: the whole promotion state machine, pure.

Facts (replications, test results, verdicts, approvals) are recorded on the workload first; then
`_advance` moves the workload as far as the recorded facts and the guards allow. Routing changes and
timers are returned as effects for the service layer to carry out before it commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from shared.domain import finish_rules as fin
from shared.domain import messages as m
from shared.domain.actors import GROUP_PREFIX, Principal, clip_actor_reason, entitlement
from shared.domain.gates import PROMOTED_STATES, Gate, iso, waiting_for, waiting_period
from shared.domain.health import describe as describe_checks
from shared.domain.model import SEEN_WINDOW, TERMINAL, HistoryEntry, Outcome, Release, Workload, archive_add
from shared.domain.plan import RevokeAccess as RevokeAccessConfig
from shared.domain.routing import DRIFT_TYPE
from shared.domain.shares import realisable_share
from shared.domain.windows import closed


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


@dataclass(frozen=True)
class ScheduleRevokeRetry:
    """Try revoking access again at `due` (after a failed attempt)."""

    attempt: int
    due: datetime
    scheduled_at: datetime


@dataclass(frozen=True)
class ScheduleMessage:
    """A message promote sends itself later (a deadline, a window opening), or now to a release that waits
    for this one (`release` set). Re-decided on arrival like the bake timer: stale ones change nothing."""

    type: str
    data: dict
    due: datetime
    key: str  # with the type, release and workload: the message id (deterministic for one decision)
    release: str | None = None  # another release's stream; None: this release


Effect = (
    SetTraffic
    | ScheduleTimer
    | RevokeAccess
    | ScheduleRevokeRetry
    | ScheduleMessage
    | fin.ScheduleFinishTimer
    | fin.Decommission
)


@dataclass(frozen=True)
class Decision:
    release: Release
    entries: list[HistoryEntry]
    effects: list[Effect] = field(default_factory=list)
    remember: bool = True  # record the message id (False: an id that was never validated or trusted)
    notices: list = field(default_factory=list)  # shared.domain.notices.Notice: the outbox row of this commit
    quiet: list[HistoryEntry] = field(default_factory=list)  # outcomes kept on the marker row, not in history

    @property
    def outcome(self) -> Outcome:
        """The message's outcome; a release-wide override is `applied` if it applied to any workload."""
        outcomes = {e.outcome for e in [*self.entries, *self.quiet]}
        for outcome in (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.IGNORED):
            if outcome in outcomes:
                return outcome
        return Outcome.IGNORED

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(e.reason for e in [*self.entries, *self.quiet]))


def digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


CLOCK_SKEW = timedelta(seconds=5)  # a monitor's clock may run this far behind ours


# -- guards: small named predicates -----------------------------------------------------------
def all_assets_replicated(w: Workload) -> bool:
    return w.all_replicated


def bake_due(release: Release, w: Workload) -> datetime:
    bake = release.plan.flights[w.flight - 1].bake  # type: ignore[index]
    return w.flight_began + timedelta(seconds=bake)


def bake_elapsed(release: Release, w: Workload, now: datetime) -> bool:
    return now >= bake_due(release, w)


def healthy_for_current_flight(w: Workload) -> bool:
    return w.state == "flighting" and w.healthy_flight == w.flight


def release_promoted(workloads: Iterable[Workload]) -> bool:
    """Every workload promoted, aborted ones aside (an abort takes a workload out of the release)."""
    states = [w.state for w in workloads]
    return any(s in ("promoted", "finalized") for s in states) and all(
        s in ("promoted", "finalized", "aborted") for s in states
    )


def unpaused(w: Workload) -> Workload:
    """`w` with its pause, and what was recorded only because of it, cleared."""
    return w.evolve(paused=False, paused_by=None, paused_at=None, paused_reason=None, alert_while_paused=None)


def stamp(moment: datetime) -> str:
    """A full UTC date as history and status show it: 2026-11-27 09:13:23Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def redelivery_reasserts(release: Release, w: Workload) -> bool:
    """Whether a redelivered (duplicate) message puts `w`'s routing back to the share its state records.

    A redelivery is the one moment promote learns that an earlier attempt of the message may have moved
    routing and died before its commit. It re-asserts only when the plan asks promote to hold routing to
    the state (`on_drift: reapply`) and the workload is not paused: while paused, routing belongs to the
    operator until resume; with `on_drift: report` differences are reported by the drift check, never
    corrected behind the operator's back. (An attempt that lost its commit to another writer always puts
    back what it moved itself: the service knows that for certain, see service.py.)"""
    return release.plan.on_drift == "reapply" and not w.paused


# -- the machine ------------------------------------------------------------------------------
class _Step:
    """One message being decided: accumulates the new workloads, history entries and effects."""

    def __init__(self, release: Release, message, now: datetime):
        self.release, self.message, self.now = release, message, now
        self.before = release  # as read: what the time rules compare against
        self.workloads = dict(release.workloads)
        self.entries: list[HistoryEntry] = []
        self.effects: list[Effect] = []
        self.access_revoked = release.access_revoked
        data = message.data
        # who acted and why: an override's actor (the authenticated principal's name on Azure) and reason
        self.actor: str | None = getattr(data, "actor", None)
        self.actor_reason: str | None = clip_actor_reason(getattr(data, "reason", None))
        self.sync_holds: dict[str | None, str] = {}  # workload (None: the release) -> the gate that held a move
        self.quiet: list[HistoryEntry] = []  # outcomes recorded on the marker row only (quiet lag reports)
        self.forget_id = False  # a message that may come again with the same id and must then count

    def routing(self, name: str):
        return self.release.plan.workload(name).routing  # type: ignore[union-attr]

    def record(self, name: str | None, outcome: Outcome, reason: str, before: Workload | None = None) -> None:
        after = self.workloads.get(name) if name else None
        data = self.message.data
        flight = getattr(data, "flight", None) or (after.flight if after else None)
        origin = before or after
        self.entries.append(
            HistoryEntry(
                at=self.now,
                event_id=self.message.id,
                type=self.message.type,
                outcome=outcome,
                reason=reason,
                workload=name,
                from_state=origin.state if origin else None,
                to_state=after.state if after else None,
                traffic_percent=after.traffic_percent if after else None,
                actor=self.actor,
                flight=flight or None,
                source=self.message.source,
                actor_reason=self.actor_reason,
            )
        )

    def promoted_with_release(self, name: str, before: Workload) -> None:
        """Fold the release-wide promotion into the workload's entry for this message, or add one."""
        after = self.workloads[name]
        reason = "promoted with the release: every workload ready and approved"
        for i, entry in enumerate(self.entries):
            if entry.workload == name:
                self.entries[i] = replace(
                    entry,
                    outcome=Outcome.APPLIED,
                    reason=f"{entry.reason}; {reason}",
                    to_state=after.state,
                    traffic_percent=after.traffic_percent,
                )
                return
        self.record(name, Outcome.APPLIED, reason, before)

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
        w = self.set_traffic(
            w.evolve(state="flighting", flight=flight, flight_started_at=self.now, healthy_flight=0, unhealthy=False),
            spec.percent,
        )
        if spec.bake > 0:
            self.effects.append(
                ScheduleTimer(
                    w.name, flight, w.attempt, _ms(self.now), self.now + timedelta(seconds=spec.bake), self.now
                )
            )
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
        w = unpaused(w).evolve(state=state, flight_started_at=None, healthy_flight=0, unhealthy=False)
        return self.set_traffic(w, 0, always=True)

    # advancing on recorded facts -------------------------------------------------------------
    def view(self, w: Workload | None = None) -> Release:
        """The release as this step has it so far (with `w` in it): what the gates are asked about. Built
        field by field rather than with dataclasses.replace: it is asked for on every step of every workload."""
        view = object.__new__(Release)
        view.__dict__.update(self.release.__dict__)
        view.__dict__["workloads"] = {**self.workloads, w.name: w} if w is not None else dict(self.workloads)
        return view

    def waiting_for(self, w: Workload) -> list[Gate]:
        return waiting_for(self.view(w), w, self.now)

    def advance(self, w: Workload) -> Workload:
        """Move `w` as far as its recorded facts allow: one step at a time, while no gate holds it."""
        if fin.auto_finalize_due(self.release, w, self.now):
            return fin.finalize(self, w, fin.AUTO_ACTOR)
        plan = self.release.plan
        while w.state not in TERMINAL and not self.waiting_for(w):
            if w.state == "replicating":
                w = w.evolve(state="testing")
            elif w.state == "testing":
                w = w.evolve(state="ready")
            elif w.state == "ready" and plan.model != "staged":
                if self.sync_held(w):  # the data-sync gate (§8) holds every move onto the migrated system
                    break
                w = self.promote(w) if plan.model == "single-step" else self.start_flight(w, 1)
            elif w.state == "flighting":
                if w.flight < len(plan.flights or []) and self.sync_held(w):  # at 100% already: no move
                    break
                w = self.grow(w)
            else:  # staged and ready: the whole release moves at once (advance_release)
                break
        return w

    def held(self, w: Workload) -> str:
        """What an applied message could not do because of the move gates (window, after): said in its entry."""
        plan = self.release.plan
        if plan.windows is None and not plan.after:  # no move gate can hold it: spare the gates
            return ""
        gates = self.waiting_for(w)
        if not gates or any(g.gate not in MOVE_GATES for g in gates):
            return ""
        return "; held: " + "; ".join(describe(g) for g in gates)

    def sync_held(self, w: Workload) -> bool:
        """The data-sync gate (§8) holds this move onto the migrated system; the reason goes into history."""
        reason = fin.sync_hold_reason(self, w)
        if reason:
            self.sync_holds[w.name] = reason
        return reason is not None

    def held_note(self, name: str | None) -> str:
        notes = [self.sync_holds[k] for k in (name, None) if k in self.sync_holds]
        return "".join(f"; held by {note}" for note in notes)

    def advance_release(self) -> None:
        """Staged: promote every workload at once when all are ready and approved. Then revoke access."""
        # Promoted workloads (one rolled back and retried) and aborted ones (out of the release) do not
        # hold the others back; every other workload must be ready, approved and not paused.
        waiting = [w for w in self.workloads.values() if w.state not in TERMINAL]
        if (
            self.release.plan.model == "staged"
            and waiting
            and all(w.state == "ready" and not self.waiting_for(w) for w in waiting)
            and not self.release_sync_held(waiting)
        ):
            for w in waiting:
                self.workloads[w.name] = self.promote(w)
                self.promoted_with_release(w.name, w)
        revoke = self.release.plan.revoke_access
        # After a failed revocation its retry chain owns it (one chain, not one more per message), unless this
        # message is the one that promotes the release (again): then it revokes, and starts a chain if it fails.
        newly_promoted = not release_promoted(self.release.workloads.values())
        if (
            revoke
            and not self.access_revoked
            and release_promoted(self.workloads.values())
            and (newly_promoted or not self.release.revoke_error)
        ):
            self.effects.append(RevokeAccess(revoke))
            self.access_revoked = True
            if self.entries:
                last = self.entries[-1]
                self.entries[-1] = replace(
                    last, reason=f"{last.reason}; release promoted, migration team access revoked"
                )

    def after_decision(self) -> None:
        """What follows in time from this decision: waiting periods restart on a state change, deadlines and
        window openings are scheduled (once per period / opening), and dependants hear of a promotion."""
        plan = self.release.plan
        for name, w in list(self.workloads.items()):
            before = self.before.workloads[name]
            if w.state != before.state:
                w = w.evolve(state_since=self.now)
            # a waiting period begins only when the workload changes; the window gate may close over any
            # message (time passes; a dependency is met), so it is looked at whenever the plan has windows
            period = waiting_period(self.release, w) if plan.deadlines and w != before else None
            old = waiting_period(self.before, before) if period else None
            if (
                period is not None
                and period.deadline is not None
                and w.deadline_fired != period.key
                and (old is None or old.key != period.key)
            ):
                self.effects.append(
                    ScheduleMessage(
                        m.DEADLINE_TYPE,
                        {"workload": name, "period": period.key},
                        max(period.deadline, self.now),
                        f"{period.key}:{_ms(self.now)}",
                    )
                )
            gates = self.waiting_for(w) if plan.windows else []
            if [g.gate for g in gates] == ["window"]:  # only the window holds it: wake it when the window opens
                opens = _opening(self.release, self.now)
                if opens is not None and opens != w.window_opens_at:
                    self.effects.append(
                        ScheduleMessage(
                            m.WINDOW_TYPE,
                            {"workload": name, "opens_ms": _ms(opens)},
                            opens,
                            f"{_ms(opens)}:{_ms(self.now)}",
                        )
                    )
                    w = w.evolve(window_opens_at=opens)
            self.workloads[name] = w
        view = self.view()
        if view.dependants and view.state in PROMOTED_STATES and self.before.state not in PROMOTED_STATES:
            for dependant in view.dependants:
                # a few seconds later: the dependant reads this release's committed state, which this decision
                # is about to write
                self.effects.append(
                    ScheduleMessage(
                        m.DEPENDENCY_TYPE,
                        {"dependency": self.release.name},
                        self.now + DEPENDENCY_NOTICE_DELAY,
                        f"{self.release.name}:{self.before.seq}",
                        release=dependant,
                    )
                )

    def release_sync_held(self, waiting: list[Workload]) -> bool:
        """Staged: the release moves only when every workload's data-sync gate is open."""
        holds = [(w.name, r) for w in waiting if (r := fin.sync_hold_reason(self, w))]
        if holds:
            self.sync_holds[None] = "; ".join(f"{name} {reason}" for name, reason in holds)
            note = f"; release held by {self.sync_holds[None]}"  # whatever the entry's own text says
            self.entries = [replace(e, reason=e.reason + note) for e in self.entries]
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
        if (
            entry.outcome == Outcome.REJECTED
            or old.lag_at is None
            or (old.state, old.traffic_percent) != (new.state, new.traffic_percent)
        ):  # the first report is shown
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
            return Decision(
                release=release.evolve(workloads=self.workloads, seq=release.seq + len(self.entries)),
                entries=self.entries,
                effects=self.effects,
                remember=False,
            )
        seen, archive, archived = release.seen + (digest(self.message.id),), release.archive, release.archived
        if len(seen) > SEEN_WINDOW:  # ids pushed out of the window go to the archive
            pushed, seen = seen[:-SEEN_WINDOW], seen[-SEEN_WINDOW:]
            archive, archived = archive_add(archive, pushed), archived + len(pushed)
        new = release.evolve(
            workloads=self.workloads,
            access_revoked=self.access_revoked,
            seq=release.seq + len(self.entries),
            seen=seen,
            processed=release.processed + 1,
            archive=archive,
            archived=archived,
            revoke_error=None if self.access_revoked else release.revoke_error,
        )
        return Decision(release=new, entries=self.entries, effects=self.effects, quiet=self.quiet)


Rule = Callable[[_Step, Workload], tuple[Outcome, str, Workload]]


def _on_asset(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    asset = step.message.data.asset
    if asset not in w.assets:
        return Outcome.REJECTED, f"asset {asset!r} is not part of workload {w.name}", w
    if w.state in ("promoted", "finalized"):
        return (
            Outcome.IGNORED,
            (
                f"asset {asset} replicated after promotion: the link to the source was severed at "
                "promotion; WARNING: changes made on the source since then are lost"
            ),
            w,
        )
    if w.state == "aborted":
        return Outcome.IGNORED, "workload is aborted", w
    if w.assets[asset]:
        return Outcome.IGNORED, f"asset {asset} was already replicated", w
    w = w.evolve(assets={**w.assets, asset: True})
    done = sum(w.assets.values())
    return Outcome.APPLIED, f"asset {asset} replicated ({done}/{len(w.assets)})", w


def _on_tests(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    passed = step.message.type == "tests-passed"
    data = step.message.data
    what = " ".join(
        x for x in (f"suite {data.suite}" if data.suite else "", f"run {data.run}" if data.run else "") if x
    )
    what = f" ({what})" if what else ""
    if w.state in ("promoted", "aborted", "flighting", "finalized"):
        return Outcome.IGNORED, f"tests result{what} arrived while {w.state}; it changes nothing now", w
    if w.state == "rolled-back":
        return Outcome.REJECTED, "workload is rolled back: send override retry before new test results", w
    if not all_assets_replicated(w):
        pending = [a for a, done in w.assets.items() if not done]
        return (
            Outcome.REJECTED,
            (
                f"tests result{what} while replicating: {len(pending)} asset(s) not replicated yet "
                f"({', '.join(pending[:5])})"
            ),
            w,
        )
    if passed:
        if w.tests_passed:
            return Outcome.IGNORED, f"tests already passed{what}", w
        return Outcome.APPLIED, f"tests passed{what}", w.evolve(tests_passed=True)
    if w.state == "ready" or w.tests_passed:
        # the approval was given for what passed; what comes next passes every gate again, as after retry
        withdrawn = "; approval withdrawn: approve again once tests pass" if w.approved else ""
        return (
            Outcome.APPLIED,
            f"tests failed{what}: back to testing{withdrawn}",
            w.evolve(tests_passed=False, approved=False, state="testing" if w.state == "ready" else w.state),
        )
    return Outcome.APPLIED, f"tests failed{what}: waiting for a passing run", w


def _measured(data) -> str:
    """The values a judge measured, for the reason: ' (judge evaluation 3: error-rate 0.4 passed (...))'."""
    checks = getattr(data, "checks", None)
    return f" ({describe_checks(checks, data.cause, data.evaluation)})" if checks else ""


def _on_verdict(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    flight, healthy = step.message.data.flight, step.message.type == "flight-healthy"
    measured = _measured(step.message.data)
    if w.state != "flighting":
        return Outcome.IGNORED, f"verdict for flight {flight} but the workload is {w.state}", w
    if flight != w.flight:
        return Outcome.IGNORED, f"verdict for flight {flight}; the current flight is {w.flight}", w
    if step.message.time is not None and step.message.time < w.flight_began - CLOCK_SKEW:
        return Outcome.IGNORED, f"verdict issued at {step.message.time.isoformat()}, before flight {flight} began", w
    trouble = w.flight_trouble_at
    if healthy and step.message.time is not None and trouble is not None and step.message.time < trouble - CLOCK_SKEW:
        # measured before the alert that voided this flight's health (a monitor's clock may run CLOCK_SKEW
        # behind ours, as for the flight's start): the flight needs a verdict from after it
        return (
            Outcome.IGNORED,
            (
                f"verdict issued at {step.message.time.isoformat()}, before the alert of "
                f"{stamp(trouble)}: flight {flight} needs a healthy verdict from after it"
            ),
            w,
        )
    if healthy:
        baked = bake_elapsed(step.release, w, step.now)
        if w.healthy_flight == flight and not baked:
            return Outcome.IGNORED, f"flight {flight} was already reported healthy; bake time not over", w
        if w.healthy_flight == flight and w.paused:
            return Outcome.IGNORED, f"flight {flight} was already reported healthy; paused", w
        w = w.evolve(healthy_flight=flight)
        if not baked:
            left = (bake_due(step.release, w) - step.now).total_seconds()
            return Outcome.APPLIED, f"flight {flight} healthy{measured}; bake time left {left:.0f}s", w
        return Outcome.APPLIED, f"flight {flight} healthy{measured} and baked", w
    return _on_trouble(step, w, f"flight {flight} unhealthy{measured}")


def _on_alert(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    what = (
        "alert"
        + (f" ({data.severity})" if data.severity else "")
        + (f": {data.description}" if data.description else "")
    )
    if w.state == "promoted" and fin.in_hypercare(step.release, w, step.now):
        return _on_trouble(step, w, f"{what} during hypercare")
    if w.state != "flighting":
        hint = "; roll back with override rollback if needed" if w.state == "promoted" else ""
        return Outcome.IGNORED, f"{what} while {w.state}; on_alert applies during flights{hint}", w
    return _on_trouble(step, w, what)


def _on_trouble(step: _Step, w: Workload, what: str) -> tuple[Outcome, str, Workload]:
    # a healthy verdict from before the trouble no longer counts: the flight needs a fresh one
    if w.paused:
        return (
            Outcome.APPLIED,
            f"{what}; recorded while paused, routing unchanged until resume",
            w.evolve(
                unhealthy=True, healthy_flight=0, alert_while_paused=f"{what} at {stamp(step.now)}", trouble_at=step.now
            ),
        )
    if step.release.plan.on_alert == "pause":
        return (
            Outcome.APPLIED,
            f"{what}: paused at {w.traffic_percent}% (on_alert: pause)",
            w.evolve(
                paused=True,
                healthy_flight=0,
                paused_by="promote",
                paused_at=step.now,
                paused_reason=f"{what} (on_alert: pause)",
                trouble_at=step.now,
            ),
        )
    return Outcome.APPLIED, f"{what}: rolled back to 0% (on_alert: rollback)", step.to_source(w, "rolled-back")


def _on_timer(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    if (
        w.state != "flighting"
        or data.flight != w.flight
        or data.attempt != w.attempt
        or data.started_ms != _ms(w.flight_began)
    ):
        return Outcome.IGNORED, f"bake timer for flight {data.flight} (attempt {data.attempt}) is stale", w
    due = bake_due(step.release, w)
    if step.now < due:
        step.effects.append(ScheduleTimer(w.name, w.flight, w.attempt, data.started_ms, due, step.now))
        return Outcome.IGNORED, f"bake timer arrived early; rescheduled for {due.isoformat()}", w
    if w.paused:
        return Outcome.IGNORED, f"bake time of flight {w.flight} over; paused", w
    if not healthy_for_current_flight(w):
        return Outcome.IGNORED, f"bake time of flight {w.flight} over; waiting for a healthy verdict", w
    return Outcome.APPLIED, f"bake time of flight {w.flight} over and healthy", w


# overrides: action -> (who may, rule)
def _pause(step: _Step, w: Workload):
    if w.state in TERMINAL and not (w.state == "promoted" and fin.finalize_pending(step.release, w)):
        return Outcome.IGNORED, f"workload is {w.state}", w
    if w.paused:
        return Outcome.IGNORED, f"already paused{_paused_since(w)}", w
    return (
        Outcome.APPLIED,
        f"paused at {w.traffic_percent}%",
        w.evolve(paused=True, paused_by=step.actor, paused_at=step.now, paused_reason=step.actor_reason),
    )


def _paused_since(w: Workload) -> str:
    if not w.paused_by:
        return ""
    since = f" since {stamp(w.paused_at)}" if w.paused_at else ""
    return f" (by {w.paused_by}{since}" + (f": {w.paused_reason})" if w.paused_reason else ")")


def _resume(step: _Step, w: Workload):
    if not w.paused:
        return Outcome.IGNORED, "not paused", w
    resumed = f"resumed{_paused_since(w)}"
    alert = w.alert_while_paused
    if w.state in ("flighting", "promoted") and w.unhealthy and step.release.plan.on_alert == "rollback":
        return (
            Outcome.APPLIED,
            f"{resumed}; acknowledges the alert recorded while paused ({alert}): rolls back to 0% (on_alert: rollback)",
            step.to_source(w, "rolled-back"),
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


def _approve(step: _Step, w: Workload):
    if step.release.plan.approval == "auto":
        return Outcome.IGNORED, "approval is automatic for this release", w
    if w.state in TERMINAL or w.state == "flighting":
        return Outcome.IGNORED, f"workload is {w.state}", w
    if w.approved:
        return Outcome.IGNORED, "already approved", w
    return Outcome.APPLIED, "approved", w.evolve(approved=True)


def _advance_now(step: _Step, w: Workload):
    if w.state != "flighting":
        return Outcome.REJECTED, f"advance applies to a flighting workload; this one is {w.state}", w
    if w.paused:
        return Outcome.REJECTED, "workload is paused: resume first", w
    windows = step.release.plan.windows
    why = closed(windows, step.now)
    if why is not None and why.denied and windows is not None and not windows.advance_when_denied:
        return (
            Outcome.REJECTED,
            (
                f"advance inside a {why.reason} (until {iso(why.opens) or 'never'}); the plan's "
                "windows.advance_when_denied is false"
            ),
            w,
        )
    if w.flight < len(step.release.plan.flights or []) and (held := fin.sync_hold_reason(step, w)):
        return Outcome.REJECTED, f"advance held by {held}", w
    before = w.traffic_percent
    w = step.grow(w)
    return (
        Outcome.APPLIED,
        f"advanced by hand from flight {w.flight - (0 if w.state == 'promoted' else 1)} "
        f"({before}%) to {w.state if w.state == 'promoted' else f'flight {w.flight}'}",
        w,
    )


def _rollback(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("rollback", w):
        return Outcome.REJECTED, refused, w
    if w.state not in ("flighting", "promoted"):
        return Outcome.IGNORED, f"nothing to roll back: no users on the migrated system ({w.state})", w
    warning = ""
    if w.state == "promoted" and step.release.plan.model == "single-step":
        warning = "; WARNING: the link to the source was severed, changes made since promotion are not on the source"
    return Outcome.APPLIED, f"rolled back to 0% by hand{warning}", step.to_source(w, "rolled-back")


def _abort(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("abort", w):
        return Outcome.REJECTED, refused, w
    if w.state == "aborted":
        return Outcome.IGNORED, "already aborted", w
    if w.state == "promoted":
        return Outcome.REJECTED, "workload is promoted: use override rollback to move users back", w
    return Outcome.APPLIED, "aborted; traffic on the source system", step.to_source(w, "aborted")


def _retry(step: _Step, w: Workload):
    if refused := fin.refused_after_finalize("retry", w):
        return Outcome.REJECTED, refused, w
    if w.state != "rolled-back":
        return Outcome.REJECTED, f"retry applies to a rolled-back workload; this one is {w.state}", w
    # a retry passes every gate again, manual approval included
    w = w.evolve(
        state="testing",
        tests_passed=False,
        approved=False,
        flight=0,
        healthy_flight=0,
        unhealthy=False,
        flight_started_at=None,
        attempt=w.attempt + 1,
    )
    return Outcome.APPLIED, f"retry #{w.attempt}: back to testing", w


# time and order (contract section 9) ------------------------------------------------------------
MOVE_GATES = ("window", "after")  # gates that hold only moves onto the migrated system


def describe(gate: Gate) -> str:
    d = gate.details
    if gate.gate == "window":
        return f"change window closed ({d['reason']}), opens {d['opens'] or 'never'} ({d['timezone']})"
    if gate.gate == "after":
        return f"waiting for release(s) {', '.join(d['releases'])} to be promoted"
    return gate.gate + "".join(f" {k}={v}" for k, v in d.items() if v not in (None, [], ""))


def _opening(release: Release, now: datetime) -> datetime | None:
    why = closed(release.plan.windows, now)
    return None if why is None else why.opens


def _span(seconds: float) -> str:
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


def _on_deadline(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    data = step.message.data
    period = waiting_period(step.view(w), w)
    if period is None or period.key != data.period or period.deadline is None:
        return (
            Outcome.IGNORED,
            f"deadline for a waiting period that is over ({data.period}); the workload is {w.state}",
            w,
        )
    if step.now < period.deadline:  # a timer further out than the transport can hold arrives early
        step.effects.append(
            ScheduleMessage(
                m.DEADLINE_TYPE,
                {"workload": w.name, "period": period.key},
                period.deadline,
                f"{period.key}:{_ms(step.now)}",
            )
        )
        return Outcome.IGNORED, f"deadline timer arrived early; rescheduled for {iso(period.deadline)}", w
    if w.deadline_fired == period.key:
        return Outcome.IGNORED, f"the {period.kind} deadline of this waiting period already fired", w
    w = w.evolve(deadline_fired=period.key)
    what = (
        f"deadline passed: waited {_span((step.now - period.since).total_seconds())} for {period.kind} "
        f"(deadline {period.kind}: {_span(period.limit or 0)}) in {w.state}"
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
    if action == "rollback" and period.kind == "verdict" and w.state == "flighting":
        if w.paused:
            return Outcome.APPLIED, f"{what}; paused, so not rolled back (on_deadline: rollback)", w
        return Outcome.APPLIED, f"{what}; rolled back to 0% (on_deadline: rollback)", step.to_source(w, "rolled-back")
    return (
        Outcome.APPLIED,
        f"{what}; on_deadline {action}" + (": rollback acts on a missing verdict only" if action == "rollback" else ""),
        w,
    )


def _on_window(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
    opens = datetime.fromtimestamp(step.message.data.opens_ms / 1000, tz=UTC)
    if step.now < opens:
        step.effects.append(
            ScheduleMessage(
                m.WINDOW_TYPE, {"workload": w.name, "opens_ms": _ms(opens)}, opens, f"{_ms(opens)}:{_ms(step.now)}"
            )
        )
        return Outcome.IGNORED, f"window timer arrived early; rescheduled for {iso(opens)}", w
    gates = step.waiting_for(w)
    if w.state in TERMINAL or gates:
        why = "; ".join(describe(g) for g in gates) or f"the workload is {w.state}"
        return Outcome.IGNORED, f"window opening {iso(opens)}: nothing moves now ({why})", w
    return Outcome.APPLIED, "change window open", w


DEPENDENCY_NOTICE_DELAY = timedelta(seconds=2)
# A notice is sent only by a decision to promote. If it reads the dependency not promoted, that decision's
# commit was slower than the delay, or lost to a crash and redone when the message's lock ends (up to a
# minute): the waiting release looks again by itself, after each of these, rather than wait silently.
DEPENDENCY_RECHECKS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
assert len(DEPENDENCY_RECHECKS) == m.MAX_DEPENDENCY_RECHECKS


def _recheck_dependency(step: _Step) -> str:
    """Schedule the next look at a dependency read as not promoted (once per message, not per workload)."""
    data = step.message.data
    if data.recheck >= len(DEPENDENCY_RECHECKS) or data.dependency in step.release.after_met:
        return ""
    if all(w.state in TERMINAL for w in step.release.workloads.values()):
        return ""
    due = step.now + DEPENDENCY_RECHECKS[data.recheck]
    if not any(isinstance(e, ScheduleMessage) and e.type == m.DEPENDENCY_TYPE for e in step.effects):
        # deterministic for this notice (a redelivery schedules the same message again, not another one), and
        # short whatever the names: a digest of the dependency and the notice's id
        key = f"{digest(data.dependency + ':' + step.message.id)}:r{data.recheck + 1}"
        step.effects.append(
            ScheduleMessage(m.DEPENDENCY_TYPE, {"dependency": data.dependency, "recheck": data.recheck + 1}, due, key)
        )
    return f"; looking again at {iso(due)}"


def _on_dependency(step: _Step, w: Workload) -> tuple[Outcome, str, Workload]:
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


OVERRIDES: dict[str, Rule] = {
    "pause": _pause,
    "resume": _resume,
    "approve": _approve,
    "advance": _advance_now,
    "rollback": _rollback,
    "abort": _abort,
    "retry": _retry,
    "finalize": fin.on_finalize,
}
RULES: dict[str, Rule] = {
    "asset-replicated": _on_asset,
    "tests-passed": _on_tests,
    "tests-failed": _on_tests,
    "flight-healthy": _on_verdict,
    "flight-unhealthy": _on_verdict,
    "alert": _on_alert,
    m.TIMER_TYPE: _on_timer,
    m.DEADLINE_TYPE: _on_deadline,
    m.WINDOW_TYPE: _on_window,
    m.DEPENDENCY_TYPE: _on_dependency,
    m.LAG_TYPE: fin.on_lag,
    m.HYPERCARE_TYPE: fin.on_hypercare_elapsed,
    m.DECOMMISSION_RETRY_TYPE: fin.on_decommission_retry,
}


def authorized(release: Release, action: str, actor: str | Principal) -> str | None:
    """The plan entry (a name, any case, or `group:<object-id>`) that allows `actor` to `action`, or None."""
    plan = release.plan
    principal = actor if isinstance(actor, Principal) else Principal(actor)
    entries = plan.approvers if action in m.APPROVER_ACTIONS else [*plan.operators, *plan.approvers]
    return entitlement(entries, principal)


def decide(
    release: Release,
    message,
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
    step = _Step(release, message, now)
    target = message.data.workload
    unauthenticated, claimed = False, None
    if message.type == "override":
        if principal is not None:
            step.actor = principal.name  # never the name the message carries
        elif require_authenticated:  # the name it carries proves nothing: no entry shows it as the actor
            claimed, step.actor, unauthenticated = step.actor, None, True
    if duplicate:
        step.record(
            target if target in release.workloads else None, Outcome.DUPLICATE, f"id {message.id!r} was seen before"
        )
        _reassert_on_redelivery(step, target)
        return step.finish()
    if target is not None and target not in release.workloads:
        step.record(target, Outcome.REJECTED, f"workload {target!r} is not part of release {release.name}")
        return step.finish()
    if message.type == m.REVOKE_RETRY_TYPE:
        return _revoke_retry(step)
    via = ""
    if message.type == "override":
        action = message.data.action
        if unauthenticated or (require_authenticated and principal is not None and not principal.authenticated):
            claimed = claimed if unauthenticated else principal.name if principal else None
            step.actor = None
            step.record(
                target,
                Outcome.REJECTED,
                f"override {action} arrived unauthenticated (not through the override "
                f"endpoint); the actor it names ({claimed}) is not trusted",
            )
            return step.finish(remember=False)  # its id proves nothing either: it must not burn a real one
        entry = authorized(release, action, principal or Principal(step.actor or ""))
        if entry is None:
            who = "approvers" if action in m.APPROVER_ACTIONS else "operators or approvers"
            step.record(target, Outcome.REJECTED, f"{step.actor} may not {action}: not among the release's {who}")
            # its id is not remembered: someone who may not act must not use up an id that a real message
            # (a judge's verdict, a timer) will carry
            return step.finish(remember=False)
        via = f" (as a member of {entry})" if entry.lower().startswith(GROUP_PREFIX) else ""
        rule = OVERRIDES[action]
    else:
        rule = RULES[message.type]
    for name in [target] if target else list(release.workloads):
        before = step.workloads[name]
        outcome, reason, after = rule(step, before)
        if outcome == Outcome.APPLIED:
            after = step.advance(after)
        step.workloads[name] = after
        step.record(
            name,
            outcome,
            reason
            + _moved(before, after)
            + via
            + step.held_note(name)
            + (step.held(after) if outcome == Outcome.APPLIED else ""),
            before,
        )
    step.advance_release()
    step.after_moves(release)
    step.quiet_lag(release)
    step.after_decision()
    return step.finish(remember=not step.forget_id)


def _reassert_on_redelivery(step: _Step, target: str | None) -> None:
    """A duplicate's routing effects: the recorded share of each workload it names, where that is asked for."""
    for name in [target] if target else list(step.release.workloads):
        w = step.workloads.get(name)
        if w is not None and redelivery_reasserts(step.release, w):
            step.set_traffic(w, w.traffic_percent, always=True)


# -- revoking access: a step of its own, retried until it succeeds -----------------------------------
REVOKE_RETRY_FIRST = timedelta(minutes=1)
REVOKE_RETRY_MAX = timedelta(minutes=30)
MAX_REVOKE_ERROR = 1000  # characters of Azure's message kept in the release row


def _revoke_retry(step: _Step) -> Decision:
    """A scheduled retry of a failed revocation: revoke if the release still needs it, else nothing."""
    release = step.release
    if not release.plan.revoke_access:
        step.record(None, Outcome.IGNORED, "this release revokes no access (no revoke_access in its plan)")
    elif release.access_revoked:
        step.record(None, Outcome.IGNORED, "access already revoked")
    elif not release_promoted(release.workloads.values()):
        step.record(
            None, Outcome.IGNORED, "not every workload is promoted any more: access is revoked at the next promotion"
        )
    else:
        step.effects.append(RevokeAccess(release.plan.revoke_access))
        step.access_revoked = True
        step.record(
            None,
            Outcome.APPLIED,
            f"retrying the revocation of the migration team's access "
            f"(after {release.revoke_attempts} failed attempt(s)); access revoked",
        )
    return step.finish()


def revocation_failed(decision: Decision, error: str, now: datetime) -> Decision:
    """The decision as it stands when revoking access failed: routing stays as decided (a failed revocation
    never rolls a promotion back), access is recorded as not revoked with the reason, and a retry is due."""
    release = decision.release
    attempts = release.revoke_attempts + 1
    delay = min(REVOKE_RETRY_FIRST * 2 ** min(attempts - 1, 10), REVOKE_RETRY_MAX)
    note = (
        f"revoking the migration team's access failed (attempt {attempts}; routing unchanged; retried at "
        f"{(now + delay).isoformat().replace('+00:00', 'Z')}): {error}"
    )
    entries = list(decision.entries)
    claimed = "; release promoted, migration team access revoked"
    if entries:
        last = entries[-1]
        entries[-1] = replace(
            last, reason=last.reason.replace(claimed, "").replace("; access revoked", "") + "; " + note
        )
    new = release.evolve(access_revoked=False, revoke_error=error[:MAX_REVOKE_ERROR], revoke_attempts=attempts)
    return replace(decision, release=new, entries=entries, effects=[ScheduleRevokeRetry(attempts, now + delay, now)])


# -- drift: the live share differs from the recorded one -----------------------------------------------


@dataclass(frozen=True)
class DriftSeen:
    """What a drift check read for one workload whose live share is not the recorded one."""

    workload: str
    live_percent: int
    summary: str  # the resource and what differs, as read


def decide_drift(
    release: Release, drifts: list[DriftSeen], now: datetime, last: dict[str, HistoryEntry | None]
) -> Decision:
    """Per `on_drift`: re-apply the recorded share (`reapply`), or only report it (`report`, once per drift).
    One history entry per drifted workload; `last` is each workload's latest entry."""
    reapply = release.plan.on_drift == "reapply"
    entries: list[HistoryEntry] = []
    effects: list[Effect] = []
    for drift in drifts:
        w = release.workloads[drift.workload]
        if drift.live_percent == w.traffic_percent:
            continue
        reason = drift.summary + (
            f"; re-applying {w.traffic_percent}% (on_drift: reapply)"
            if reapply
            else "; reported only (on_drift: report)"
        )
        routing = release.plan.workload(w.name).routing  # type: ignore[union-attr]
        if reapply:  # also when this drift was recorded before and is still there
            effects.append(SetTraffic(w.name, w.traffic_percent, routing))
        previous = last.get(w.name)
        if not reapply and previous and previous.type == DRIFT_TYPE and previous.reason == reason:
            continue  # still the same drift: already in the history
        entries.append(
            HistoryEntry(
                at=now,
                event_id=f"drift-check:{release.name}:{w.name}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}",
                type=DRIFT_TYPE,
                outcome=Outcome.APPLIED if reapply else Outcome.IGNORED,
                reason=reason,
                workload=w.name,
                from_state=w.state,
                to_state=w.state,
                traffic_percent=w.traffic_percent,
                flight=w.flight or None,
                source="promote/drift",
            )
        )
    return Decision(release=release.evolve(seq=release.seq + len(entries)), entries=entries, effects=effects)


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
    stand_in = _Invalid(
        id=unparsed.id or f"invalid:{digest(unparsed.reason)}",
        type=unparsed.type or "invalid",
        data=_InvalidData(workload=unparsed.workload, reason=unparsed.actor_reason),
    )
    step = _Step(release, stand_in, now)
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
