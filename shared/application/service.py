"""handle(message): load -> decide -> carry out effects -> commit. Everything else is a port."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from shared.application import timing
from shared.application.ports import (
    AccessRevoker,
    Clock,
    DeadLetters,
    Decommissioner,
    ReleaseStore,
    RouterFactory,
    Scheduler,
    Snapshot,
)
from shared.application.retry import retry_on_conflict
from shared.domain import messages as m
from shared.domain.actors import Principal
from shared.domain.errors import (
    ConflictError,
    MessageError,
    PlanChangeRefused,
    ReleaseExists,
    RoutingError,
    UnknownRelease,
)
from shared.domain.finish_rules import Decommission, ScheduleFinishTimer, decommission_failed
from shared.domain.machine import (
    Decision,
    RevokeAccess,
    ScheduleMessage,
    ScheduleRevokeRetry,
    ScheduleTimer,
    SetTraffic,
    decide,
    digest,
    reject_unparsed,
    revocation_failed,
)
from shared.domain.model import HistoryEntry, Release, archive_may_contain, new_release
from shared.domain.notices import notices_for
from shared.domain.plan import Plan

log = logging.getLogger("promote")


def _reassert(decision: Decision, moved: dict[str, object]) -> Decision:
    """Add a routing effect for each workload an uncommitted attempt moved that this decision leaves alone:
    its routing must return to the share the decision records."""
    routed = {e.workload for e in decision.effects if isinstance(e, SetTraffic)}
    extra = [
        SetTraffic(name, decision.release.workloads[name].traffic_percent, routing)
        for name, routing in moved.items()
        if name not in routed
    ]
    return replace(decision, effects=[*extra, *decision.effects]) if extra else decision


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


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
    def __init__(
        self,
        *,
        store: ReleaseStore,
        routers: RouterFactory,
        scheduler: Scheduler,
        revoker: AccessRevoker,
        dead_letters: DeadLetters,
        clock: Clock | None = None,
        overrides_need_principal: bool = False,
        decommissioner: Decommissioner | None = None,
    ):
        self.store, self.routers, self.scheduler = store, routers, scheduler
        self.revoker, self.dead_letters, self.clock = revoker, dead_letters, clock or SystemClock()
        # On Azure: an override counts only with an authenticated principal (the override endpoint);
        # one arriving on the topic is rejected and audited.
        self.overrides_need_principal = overrides_need_principal
        self.decommissioner = decommissioner
        self.observers: list = []  # callables(Result): progress for people (the demo, `promote run`)

    # -- messages ----------------------------------------------------------------------------
    def handle(self, body: bytes | str, *, principal: Principal | None = None) -> Result:
        """Bring one message to exactly one recorded outcome, or dead-letter it with the reason.

        `principal`: the authenticated sender of an override handed over directly (the override endpoint);
        such a caller is answered instead of dead-lettering: UnknownRelease and MessageError propagate.
        Raises only on failures worth a redelivery (storage or routing faults, repeated conflicts).
        """
        result = self._handle(body, principal)
        for observer in self.observers:
            observer(result)
        return result

    def _handle(self, body: bytes | str, principal: Principal | None) -> Result:
        body = body.encode() if isinstance(body, str) else body
        try:
            message = m.parse_message(body)
        except MessageError as exc:
            if principal is not None:
                raise
            return self._invalid(body, exc)
        if isinstance(message, m.DependencyPromoted):
            message = self._verified_dependency(message)
        moved: dict[str, object] = {}  # workload -> routing config, moved by an attempt that did not commit

        def attempt(_: int) -> Result:
            try:
                snapshot = self.store.get_release(message.release)
            except UnknownRelease as exc:
                if principal is not None:
                    raise
                return self._dead_letter(body, str(exc), message.id)
            seen = self._seen(snapshot, message.id)
            # A dependency notice is decided again even when its id was seen: deciding it twice changes nothing
            # twice, and its id, predictable, may have been taken by another message first.
            duplicate = seen and not isinstance(message, m.DependencyPromoted)
            # what a redelivery re-asserts is decide()'s call (machine.redelivery_reasserts)
            decision = decide(
                snapshot.release,
                message,
                self.clock.now(),
                duplicate=duplicate,
                principal=principal,
                require_authenticated=self.overrides_need_principal,
            )
            decision = self._carry_out(snapshot.release, _reassert(decision, moved))
            if not duplicate:  # notifications ride in the same transaction as the state change (outbox)
                decision = replace(decision, notices=notices_for(snapshot.release, decision))
            try:
                self.store.commit(snapshot, decision, message.id if decision.remember and not seen else None)
            except ConflictError:
                # Someone else wrote first: re-read and re-decide. The routing this attempt moved is
                # asserted again from the new decision, which may no longer move it at all.
                moved.update({e.workload: e.routing for e in decision.effects if isinstance(e, SetTraffic)})
                raise
            # Any other failure propagates with the routing left as decided: the commit may have happened
            # (a lost response), and the redelivery re-decides, or as a duplicate re-asserts the state.
            return Result(decision.outcome, decision.reason, message.id, message.release, decision.entries)

        return retry_on_conflict(attempt, what=f"release {message.release}")

    def _verified_dependency(self, message: m.DependencyPromoted) -> m.DependencyPromoted:
        """A `dependency-promoted` message carries the dependency's state as read here, not as claimed."""
        try:
            state: str | None = self.store.get_release(message.data.dependency).release.state
        except UnknownRelease:
            state = None
        return message.model_copy(update={"data": message.data.model_copy(update={"state": state})})

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
                    before.workloads[move.workload].traffic_percent
                )
            except Exception as exc:  # the original failure is what the platform must see
                log.error("could not restore routing of %s/%s: %s", before.name, move.workload, exc)

    def _effects(self, release: str, decision: Decision, done: list) -> Decision:
        decision = self._decommission(release, decision)
        made: dict[str | None, list[str]] = {}  # workload (None: the release) -> changes
        revoke_failure: str | None = None
        moves = [e for e in decision.effects if isinstance(e, SetTraffic)]
        routers = {e.workload: self.routers(release, e.workload, e.routing) for e in moves}
        if len(moves) > 1:  # a release-wide move: refused as a whole before any workload is moved
            refused = [p for e in moves for p in routers[e.workload].problems([e.percent])]
            if refused:
                raise RoutingError(f"{release}: nothing moved: " + "; ".join(refused))
        for effect in decision.effects:
            if isinstance(effect, SetTraffic):
                done.append(effect)  # before apply: a router that wrote, then failed, is put back too
                changes = routers[effect.workload].apply(effect.percent)
                made.setdefault(effect.workload, []).append("; ".join(map(str, changes)) or "already in place")
            elif isinstance(effect, ScheduleTimer):
                event = m.new_event(
                    m.TIMER_TYPE,
                    {
                        "release": release,
                        "workload": effect.workload,
                        "flight": effect.flight,
                        "attempt": effect.attempt,
                        "started_ms": effect.started_ms,
                    },
                    id=m.timer_id(release, effect.workload, effect.key),
                    source="promote/timer",
                    time=self.clock.now(),
                )
                self.scheduler.schedule(event, effect.due)
            elif isinstance(effect, ScheduleMessage):
                target = effect.release or release
                event = m.new_event(
                    effect.type,
                    {"release": target, **effect.data},
                    id=m.scheduled_id(effect.type, target, effect.data.get("workload"), effect.key),
                    source="promote/timer",
                    time=self.clock.now(),
                )
                self.scheduler.schedule(event, effect.due)
            elif isinstance(effect, RevokeAccess):
                try:
                    made.setdefault(None, []).extend(map(str, self.revoker.revoke(release, effect.config) or []))
                except Exception as exc:  # its own step: never undoes the routing above; retried later
                    revoke_failure = str(exc) if isinstance(exc, RoutingError) else f"{type(exc).__name__}: {exc}"
            elif isinstance(effect, ScheduleRevokeRetry):
                self._schedule_revoke_retry(release, effect)
            elif isinstance(effect, ScheduleFinishTimer):
                event = m.new_event(
                    effect.type,
                    {
                        "release": release,
                        "workload": effect.workload,
                        "attempt": effect.attempt,
                        "promoted_ms": effect.promoted_ms,
                    },
                    id=effect.event_id(release),
                    source="promote/timer",
                    time=self.clock.now(),
                )
                self.scheduler.schedule(event, effect.due)
            elif isinstance(effect, Decommission):
                pass  # carried out first, by _decommission
            else:  # pragma: no cover - a new effect type must be handled here
                raise TypeError(f"unknown effect {effect!r}")
        if revoke_failure is not None:
            log.warning("revoking access for %s failed: %s", release, revoke_failure)
            decision = revocation_failed(decision, revoke_failure, self.clock.now())
            for retry in decision.effects:
                self._schedule_revoke_retry(release, retry)  # type: ignore[arg-type]
        if not made:
            return decision
        # A workload's entries name its routing changes. What no entry of its own names goes on the last entry:
        # the revocation (key None; the last entry says access was revoked) and the shares a redelivered
        # release-wide message put back (its one entry is of no workload).
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

    def _schedule_revoke_retry(self, release: str, retry: ScheduleRevokeRetry) -> None:
        event = m.new_event(
            m.REVOKE_RETRY_TYPE,
            {"release": release, "attempt": retry.attempt},
            id=m.revoke_retry_id(release, retry.attempt, int(retry.scheduled_at.timestamp() * 1000)),
            source="promote/timer",
            time=self.clock.now(),
        )
        self.scheduler.schedule(event, retry.due)

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
            decision = replace(
                decision,
                entries=[
                    replace(e, reason=f"{e.reason}; source: {changes[e.workload]}")
                    if e.workload in changes and e.to_state == "finalized"
                    else e
                    for e in decision.entries
                ],
            )
        if failures:
            decision = decommission_failed(decision, failures, self.clock.now())
        return decision

    def _invalid(self, body: bytes, exc: MessageError) -> Result:
        unparsed: m.Unparsed = exc.unparsed  # type: ignore[attr-defined]
        release = unparsed.release
        if not release:
            return self._dead_letter(body, f"invalid message: {exc}", unparsed.id)

        def attempt(_: int) -> Result | None:
            try:
                snapshot = self.store.get_release(release)
            except UnknownRelease:
                return None
            decision = reject_unparsed(snapshot.release, unparsed, self.clock.now())
            self.store.commit(snapshot, decision, None)
            return Result("rejected", decision.reason, unparsed.id, release, decision.entries)

        recorded = retry_on_conflict(attempt, what=f"release {release}")
        return recorded or self._dead_letter(body, f"invalid message: {exc}", unparsed.id)

    def _dead_letter(self, body: bytes, reason: str, event_id: str | None) -> Result:
        self.dead_letters.dead_letter(body, reason)
        log.warning("dead-lettered message %s: %s", event_id, reason)
        return Result("dead-lettered", reason, event_id)

    # -- plans -------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> ApplyResult:
        """Register a release, or update who may approve/operate it. Same plan again: no-op."""

        def attempt(_: int) -> ApplyResult:
            try:
                snapshot = self.store.get_release(plan.release)
            except UnknownRelease:
                now = self.clock.now()
                release = new_release(plan, now, timing.check_after(self.store, plan))
                timing.first_deadlines(self.scheduler, release, now)
                try:
                    self.store.create_release(release)
                except ReleaseExists:  # another apply created it first: read it and compare
                    raise ConflictError(f"release {plan.release} was created meanwhile") from None
                timing.register_dependant(self.store, self.scheduler, release, now)
                return ApplyResult(plan.release, "created")
            current = snapshot.release.plan
            if current.fingerprint() == plan.fingerprint():
                timing.register_dependant(self.store, self.scheduler, snapshot.release, self.clock.now())
                return ApplyResult(plan.release, "unchanged")
            if current.fingerprint(without_people=True) != plan.fingerprint(without_people=True):
                changed = sorted(k for k, v in plan.canonical().items() if current.canonical().get(k) != v)
                raise PlanChangeRefused(
                    f"release {plan.release} is {snapshot.release.state}: only approvers and operators may change "
                    f"while it exists (this plan changes {', '.join(changed)}); apply it under a new release name"
                )
            self.store.update_plan(snapshot, plan)
            return ApplyResult(plan.release, "updated")

        return retry_on_conflict(attempt, what=f"release {plan.release}")
