"""handle(message): load -> decide -> carry out effects -> commit. Everything else is a port."""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from shared.domain import messages as m
from shared.domain.errors import (ConflictError, MessageError, PlanChangeRefused, ReleaseExists, RoutingError,
                            UnknownRelease)
from shared.domain.finish_rules import Decommission, ScheduleFinishTimer, decommission_failed
from shared.domain.machine import Decision, RevokeAccess, ScheduleTimer, SetTraffic, decide, digest, reject_unparsed
from shared.domain.model import HistoryEntry, Release, archive_may_contain, new_release
from shared.domain.plan import Plan
from shared.application.ports import (AccessRevoker, Clock, DeadLetters, Decommissioner, ReleaseStore, RouterFactory,
                                     Scheduler, Snapshot)

log = logging.getLogger("promote")
MAX_CONFLICTS = 10  # re-read and re-decide at most this often before letting the platform redeliver


def _routing_of(release: Release, workload: str | None) -> dict[str, object]:
    """The routing config of one workload of the release (all of them for a release-wide message)."""
    names = [workload] if workload else list(release.workloads)
    return {n: release.plan.workload(n).routing for n in names if n in release.workloads}


def _reassert(decision: Decision, moved: dict[str, object]) -> Decision:
    """Add a routing effect for each workload an uncommitted attempt moved that this decision leaves alone:
    its routing must return to the share the decision records."""
    routed = {e.workload for e in decision.effects if isinstance(e, SetTraffic)}
    extra = [SetTraffic(name, decision.release.workloads[name].traffic_percent, routing)
             for name, routing in moved.items() if name not in routed]
    return replace(decision, effects=[*extra, *decision.effects]) if extra else decision


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class Result:
    """What became of one message."""

    outcome: str  # applied | duplicate | ignored | rejected | dead-lettered
    reason: str
    event_id: str | None = None
    release: str | None = None
    entries: list[HistoryEntry] = field(default_factory=list)


@dataclass
class ApplyResult:
    release: str
    action: str  # created | unchanged | updated


class PromotionService:
    def __init__(self, *, store: ReleaseStore, routers: RouterFactory, scheduler: Scheduler,
                 revoker: AccessRevoker, dead_letters: DeadLetters, clock: Clock | None = None,
                 decommissioner: Decommissioner | None = None):
        self.store, self.routers, self.scheduler = store, routers, scheduler
        self.revoker, self.dead_letters, self.clock = revoker, dead_letters, clock or SystemClock()
        self.decommissioner = decommissioner
        self.observers: list = []  # callables(Result): progress for people (the demo, `promote run`)

    # -- messages ----------------------------------------------------------------------------
    def handle(self, body: bytes | str) -> Result:
        """Bring one message to exactly one recorded outcome, or dead-letter it with the reason.

        Raises only on failures worth a redelivery (storage or routing faults, repeated conflicts).
        """
        result = self._handle(body)
        for observer in self.observers:
            observer(result)
        return result

    def _handle(self, body: bytes | str) -> Result:
        body = body.encode() if isinstance(body, str) else body
        try:
            message = m.parse_message(body)
        except MessageError as exc:
            return self._invalid(body, exc)
        moved: dict[str, object] = {}  # workload -> routing config, moved by an attempt that did not commit
        for attempt in range(MAX_CONFLICTS):
            try:
                snapshot = self.store.get_release(message.release)
            except UnknownRelease as exc:
                return self._dead_letter(body, str(exc), message.id)
            duplicate = self._seen(snapshot, message.id)
            decision = decide(snapshot.release, message, self.clock.now(), duplicate=duplicate)
            if duplicate:  # a redelivery: make sure its workload's routing is what the state records
                moved.update(_routing_of(snapshot.release, message.workload))
            decision = self._carry_out(snapshot.release, _reassert(decision, moved))
            try:
                self.store.commit(snapshot, decision, None if duplicate else message.id)
            except ConflictError:
                # Someone else wrote first: re-read and re-decide. The routing this attempt moved is
                # asserted again from the new decision, which may no longer move it at all.
                moved.update({e.workload: e.routing for e in decision.effects if isinstance(e, SetTraffic)})
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # jitter: busy writers collide less
                continue
            # Any other failure propagates with the routing left as decided: the commit may have happened
            # (a lost response), and the redelivery re-decides, or as a duplicate re-asserts the state.
            return Result(decision.outcome, decision.reason, message.id, message.release, decision.entries)
        raise ConflictError(f"release {message.release}: gave up after {MAX_CONFLICTS} write conflicts")

    def _seen(self, snapshot: Snapshot, event_id: str) -> bool:
        release, key = snapshot.release, digest(event_id)
        if key in release.seen:
            return True
        pushed_out = release.processed - len(release.seen)
        if pushed_out <= 0:
            return False  # the window still covers every message this release has recorded
        if release.archived == pushed_out and not archive_may_contain(release.archive, key):
            return False  # the archive holds every pushed-out id, and this one is certainly not among them
        return self.store.seen_before(release.name, event_id)  # seen long ago (or a rare false positive)

    def _carry_out(self, before: Release, decision: Decision) -> Decision:
        """Carry out the effects (each idempotent); the decision comes back with the network changes
        actually made written into its history entries. If one fails, the routing moved so far is put
        back to what the state records, so a half-done release-wide promotion does not stay half done."""
        done: list[SetTraffic] = []
        try:
            return self._effects(before.name, decision, done)
        except Exception:
            self._restore(before, done)
            raise

    def _restore(self, before: Release, moves: list) -> None:
        """Best effort: route each moved workload back to the share `before` records."""
        for move in moves:
            try:
                self.routers(before.name, move.workload, move.routing).apply(
                    before.workloads[move.workload].traffic_percent)
            except Exception as exc:  # the original failure is what the platform must see
                log.error("could not restore routing of %s/%s: %s", before.name, move.workload, exc)

    def _effects(self, release: str, decision: Decision, done: list) -> Decision:
        decision = self._decommission(release, decision)
        made: dict[str | None, list[str]] = {}  # workload (None: the release) -> changes
        for effect in decision.effects:
            if isinstance(effect, SetTraffic):
                router = self.routers(release, effect.workload, effect.routing)
                achieved = router.apply(effect.percent)
                if achieved != effect.percent:
                    raise RoutingError(f"{release}/{effect.workload}: asked for {effect.percent}%, "
                                       f"the router achieved {achieved}%")
                done.append(effect)
                changes = getattr(router, "last_changes", None)
                if changes is not None:
                    made.setdefault(effect.workload, []).append("; ".join(map(str, changes)) or "already in place")
            elif isinstance(effect, ScheduleTimer):
                event = m.new_event(m.TIMER_TYPE, {"release": release, "workload": effect.workload,
                                                   "flight": effect.flight, "attempt": effect.attempt,
                                                   "started_ms": effect.started_ms},
                                    id=m.timer_id(release, effect.workload, effect.key),
                                    source="promote/timer", time=self.clock.now())
                self.scheduler.schedule(event, effect.due)
            elif isinstance(effect, RevokeAccess):
                made.setdefault(None, []).extend(map(str, self.revoker.revoke(release, effect.config) or []))
            elif isinstance(effect, ScheduleFinishTimer):
                event = m.new_event(effect.type, {"release": release, "workload": effect.workload,
                                                  "attempt": effect.attempt, "promoted_ms": effect.promoted_ms},
                                    id=effect.event_id(release), source="promote/timer", time=self.clock.now())
                self.scheduler.schedule(event, effect.due)
            elif isinstance(effect, Decommission):
                pass  # carried out first, by _decommission
            else:  # pragma: no cover - a new effect type must be handled here
                raise TypeError(f"unknown effect {effect!r}")
        if not made:
            return decision
        entries = [replace(e, reason=f"{e.reason}; network: {'; '.join(made[e.workload])}")
                   if made.get(e.workload) else e for e in decision.entries]
        if made.get(None) and entries:  # the last entry is the one that says access was revoked
            entries[-1] = replace(entries[-1], reason=f"{entries[-1].reason}; network: {'; '.join(made[None])}")
        return replace(decision, entries=entries)

    def _decommission(self, release: str, decision: Decision) -> Decision:
        """Turn the source off for each workload being finalized (v2 §8). A failure does not fail the message:
        the workload stays promoted with the failure recorded, and a timer retries it."""
        failures: dict[str, str] = {}
        changes: dict[str, str] = {}
        for effect in decision.effects:
            if not isinstance(effect, Decommission):
                continue
            try:
                if self.decommissioner is None:
                    raise RuntimeError("no decommission provider is configured for this service")
                made = self.decommissioner.decommission(release, effect)
            except Exception as exc:  # provider down, refused, misconfigured: recorded and retried
                text = " ".join(str(exc).split()) or type(exc).__name__
                failures[effect.workload] = f"{type(exc).__name__}: {text}"
                log.warning("decommission of %s/%s failed: %s", release, effect.workload, text)
                continue
            changes[effect.workload] = "; ".join(map(str, made)) or "already off"
        if changes:
            decision = replace(decision, entries=[
                replace(e, reason=f"{e.reason}; source: {changes[e.workload]}")
                if e.workload in changes and e.to_state == "finalized" else e for e in decision.entries])
        if failures:
            decision = decommission_failed(decision, failures, self.clock.now())
        return decision

    def _invalid(self, body: bytes, exc: MessageError) -> Result:
        unparsed: m.Unparsed = exc.unparsed  # type: ignore[attr-defined]
        if unparsed.release:
            for _ in range(MAX_CONFLICTS):
                try:
                    snapshot = self.store.get_release(unparsed.release)
                except UnknownRelease:
                    break
                decision = reject_unparsed(snapshot.release, unparsed, self.clock.now())
                try:
                    self.store.commit(snapshot, decision, None)
                except ConflictError:
                    continue
                return Result("rejected", decision.reason, unparsed.id, unparsed.release, decision.entries)
        return self._dead_letter(body, f"invalid message: {exc}", unparsed.id)

    def _dead_letter(self, body: bytes, reason: str, event_id: str | None) -> Result:
        self.dead_letters.dead_letter(body, reason)
        log.warning("dead-lettered message %s: %s", event_id, reason)
        return Result("dead-lettered", reason, event_id)

    # -- plans -------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> ApplyResult:
        """Register a release, or update who may approve/operate it. Same plan again: no-op."""
        for _ in range(MAX_CONFLICTS):
            try:
                snapshot = self.store.get_release(plan.release)
            except UnknownRelease:
                try:
                    self.store.create_release(new_release(plan))
                except ReleaseExists:
                    continue
                return ApplyResult(plan.release, "created")
            current = snapshot.release.plan
            if current.fingerprint() == plan.fingerprint():
                return ApplyResult(plan.release, "unchanged")
            if current.fingerprint(without_people=True) != plan.fingerprint(without_people=True):
                changed = sorted(k for k, v in plan.canonical().items() if current.canonical().get(k) != v)
                raise PlanChangeRefused(
                    f"release {plan.release} is {snapshot.release.state}: only approvers and operators may change "
                    f"while it exists (this plan changes {', '.join(changed)}); apply it under a new release name")
            try:
                self.store.update_plan(snapshot, plan)
            except ConflictError:
                continue
            return ApplyResult(plan.release, "updated")
        raise ConflictError(f"release {plan.release}: gave up after {MAX_CONFLICTS} write conflicts")
