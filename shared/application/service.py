"""handle(message): load -> decide -> carry out effects -> commit. Everything else is a port."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from azure.core.exceptions import AzureError

from shared.application import collector, telemetry, timing
from shared.application.amends import reschedule
from shared.application.config import ATTENTION_LOG_PREFIX
from shared.application.effects import Ports, carry_out, scheduled_event
from shared.application.failures import carried_message, classify, fits, nested_retry, retry_delay
from shared.application.override_proof import OverrideProofs
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
from shared.application.routing_progress import ProgressStore
from shared.application.ttl import lower_ttls
from shared.domain import messages as m
from shared.domain.actors import Principal
from shared.domain.attention import attention
from shared.domain.errors import (
    ConflictError,
    MessageError,
    PlanChangeRefused,
    ReleaseExists,
    RoutingError,
    SeenElsewhere,
    UnknownRelease,
)
from shared.domain.machine import Decision, Schedule, SetTraffic, decide, digest, reject_unparsed
from shared.domain.machine.rules import retry as retry_rules
from shared.domain.machine.rules.halt import halted
from shared.domain.machine.scope import needs_look, release_moves, shard_facts
from shared.domain.model import HistoryEntry, Release, archive_may_contain, new_release
from shared.domain.notices import notices_for
from shared.domain.plan import Plan
from shared.domain.plan.amend import AMENDABLE, amended, amendment
from shared.domain.times import from_ms

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


def _log_attention(before: Release, after: Release) -> None:
    """One warning line per workload that has just come to need a person (the attention list, contract §3):
    what infra's `promote attention` alert fires on. A decision on one shard says what it can of its own."""
    whole = not before.partial and not after.partial
    was = {a["workload"] for a in attention(before)} if whole else set()
    now = attention(after) if whole else [
        {"workload": w.name, "why": w.stuck} for w in after.workloads.values() if w.stuck
    ]  # fmt: skip
    for item in now:
        if item["workload"] not in was and (whole or not before.workloads[item["workload"]].stuck):
            log.warning("%s%s/%s: %s", ATTENTION_LOG_PREFIX, after.name, item["workload"], item["why"])


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
    # the release before and after the decision, for telemetry's figures (read already: no request more)
    before: Release | None = field(default=None, repr=False, compare=False)
    after: Release | None = field(default=None, repr=False, compare=False)


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
        override_proofs: OverrideProofs | None = None,
    ):
        self.store, self.routers, self.scheduler = store, routers, scheduler
        self.revoker, self.dead_letters, self.clock = revoker, dead_letters, clock or SystemClock()
        # On Azure: an override counts only with an authenticated principal (the override endpoint);
        # one arriving on the topic is rejected and audited.
        self.overrides_need_principal = overrides_need_principal
        self.decommissioner = decommissioner
        self.override_proofs = override_proofs  # the endpoint's proof on a queued override names its sender
        self.observers: list = []  # callables(Result): progress for people (the demo, `promote run`)
        self.migrator: object | None = None  # v3 §16: Azure Migrate's client (migrate_effects.Migrator)
        self.progress: ProgressStore | None = None  # v3 §15: where a batch's routing progress is recorded

    @property
    def ports(self) -> Ports:
        """What effects are carried out with: the service's ports as they are now (tests swap one in)."""
        return Ports(
            self.routers,
            self.scheduler,
            self.revoker,
            self.decommissioner,
            self.clock,
            progress=self.progress,
            migrator=self.migrator,
        )

    # -- messages ----------------------------------------------------------------------------
    def handle(self, body: bytes | str, *, principal: Principal | None = None) -> Result:
        """Bring one message to exactly one recorded outcome, or dead-letter it with the reason.

        `principal`: the authenticated sender of an override handed over directly (the override endpoint);
        such a caller is answered instead of dead-lettering: UnknownRelease and MessageError propagate.
        Raises only on failures worth a redelivery (storage or routing faults, repeated conflicts).
        """
        with telemetry.handling(body) as span:  # off: a no-op; never changes or fails the handling
            result = self._handle(body, principal)
            span.done(result)
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
        retried: m.RetryData | None = None
        if isinstance(message, m.MessageRetry):  # promote's own: the message it carries, tried again
            retried, body = message.data, message.data.body.encode()
            try:
                message = m.parse_message(body)
            except MessageError as exc:
                return self._invalid(body, exc)
            if isinstance(message, m.MessageRetry):  # anyone may send one: a retry of a retry has no rule
                return self._invalid(body, nested_retry(message))
        if isinstance(message, m.DependencyPromoted):
            message = self._verified_dependency(message)
        vouched = None  # the sender an override queued by the endpoint proves (override_proof.py)
        if principal is None and isinstance(message, m.Override) and self.override_proofs is not None:
            vouched = self.override_proofs.principal(body)
        moved: dict[str, object] = {}  # workload -> routing config, moved by an attempt that did not commit
        known: dict[str, bool] = {"seen": False}  # the id turned out recorded in another scope of the release

        def attempt(held: ExitStack) -> Result:  # held: the collector, while a large release is read whole
            key = m.dedup_key(message)
            try:
                # routing an attempt moved and did not commit is put back on the whole release's decision
                snapshot, decision, duplicate, seen = self._decide(
                    message, key, principal or vouched, known["seen"], bool(moved), held
                )
            except UnknownRelease as exc:
                if principal is not None:
                    raise
                return self._dead_letter(body, str(exc), message.id)
            try:
                decision = carry_out(self.ports, snapshot.release, _reassert(decision, moved))
            except (RoutingError, AzureError, OSError) as exc:  # a routing change Azure refused, for now or for good
                again = self._not_carried_out(snapshot, message, body, decision, exc, retried, principal)
                decision = carry_out(self.ports, snapshot.release, again)
            if not duplicate:  # notifications ride in the same transaction as the state change (outbox)
                decision = replace(decision, notices=notices_for(snapshot.release, decision))
            try:
                self.store.commit(snapshot, decision, key if decision.remember and not seen else None, self.clock.now())
            except (ConflictError, SeenElsewhere) as exc:
                # Someone else wrote first (or the id was recorded elsewhere): re-read and re-decide. The routing
                # this attempt moved is asserted again from the new decision, which may no longer move it at all.
                moved.update({e.workload: e.routing for e in decision.effects if isinstance(e, SetTraffic)})
                known["seen"] = known["seen"] or isinstance(exc, SeenElsewhere)
                raise ConflictError(str(exc)) from None
            _log_attention(snapshot.release, decision.release)
            # Any other failure propagates with the routing left as decided: the commit may have happened
            # (a lost response), and the redelivery re-decides, or as a duplicate re-asserts the state.
            return Result(
                decision.outcome,
                decision.reason,
                message.id,
                message.release,
                decision.entries,
                before=snapshot.release,
                after=decision.release,
            )

        return retry_on_conflict(collector.holding(attempt), what=f"release {message.release}")

    def _decide(
        self,
        message: m.Message,
        key: str,
        principal: Principal | None,
        seen_elsewhere: bool,
        whole_only: bool,
        held: ExitStack | None = None,
    ) -> tuple[Snapshot, Decision, bool, bool]:
        """Read and decide: a message about one workload on its shard alone, unless what it changes may change
        what only the whole release can say (machine/scope.py); then on the whole release. A whole read of a
        release this process knows is large holds the collector back until the attempt ends (`held`)."""
        for whole in (False, True) if message.workload is not None and not whole_only else (True,):
            if whole and held is not None:
                collector.hold_if_large(held, self.store, message.release)
            snapshot = self.store.get_release(message.release, message.workload, whole=whole)
            if not snapshot.release.partial and self.store.catch_up(snapshot):  # a catch-up a crash cut short
                snapshot = self.store.get_release(message.release, message.workload)
            seen = seen_elsewhere or self._seen(snapshot, key)
            # A dependency notice is decided again even when its id was seen: deciding it twice changes nothing
            # twice, and its id, predictable, may have been taken by another message first.
            duplicate = seen and not isinstance(message, m.DependencyPromoted)
            now = self.clock.now()
            # what a redelivery re-asserts is decide()'s call (machine.redelivery_reasserts)
            decision = decide(
                snapshot.release,
                message,
                now,
                duplicate=duplicate,
                principal=principal,
                require_authenticated=self.overrides_need_principal,
            )
            if not seen and not snapshot.one_scope and self._seen_elsewhere(message, key, decision):
                decision = decide(
                    snapshot.release,
                    message,
                    now,
                    duplicate=True,
                    principal=principal,
                    require_authenticated=self.overrides_need_principal,
                )
                return snapshot, decision, True, True
            if not snapshot.release.partial or duplicate or not self._may_move_release(snapshot, decision, now):
                break
        return snapshot, decision, duplicate, seen

    def _not_carried_out(
        self, snapshot: Snapshot, message: m.Message, body: bytes, decision: Decision, exc: Exception,
        retried: m.RetryData | None, principal: Principal | None,
    ) -> Decision:  # fmt: skip
        """A decision whose routing change failed: retried later while the failure is transient and the plan's
        retry.max allows (the message is done now; a message promote sends itself carries it again), else stopped
        with the reason and `attention`. The routing it moved was put back (effects.carry_out)."""
        now = self.clock.now()
        first = min(from_ms(retried.first_ms), now) if retried else now  # anyone may send one: never in the future
        attempt = (retried.attempt if retried else 0) + 1
        failure = classify(exc, failing_for=now - first)
        window = timedelta(seconds=snapshot.release.plan.retry.max)
        log.warning("release %s: %s failed (attempt %d): %s", message.release, message.type, attempt, failure.reason)
        stop = partial(retry_rules.stopped, snapshot.release, decision, error=failure.reason, at=now)
        if not failure.transient or now - first >= window:
            return stop(permanent=not failure.transient)
        carried, why = carried_message(message, body, principal, self.override_proofs, self.overrides_need_principal)
        if carried is None:
            return stop(permanent=False, why=why)
        due = now + retry_delay(attempt)
        later = retry_rules.deferred(snapshot.release, decision, message, carried, error=failure.reason,
                                     attempt=attempt, first=first, due=due)  # fmt: skip
        if len(carried) > m.MAX_RETRIED_BODY or not all(
            fits(scheduled_event(self.ports, snapshot.release.name, e))
            for e in later.effects
            if isinstance(e, Schedule)
        ):  # the message, escaped again inside the retry, would not fit in one Service Bus message
            return stop(permanent=False, why="too large to be carried by a retry; send it again later")
        return later

    def _seen_elsewhere(self, message: m.Message, key: str, decision: Decision) -> bool:
        """In a release kept in several shards, an id may have been recorded in another scope than the one read
        (another shard's workload, or the release itself). Its marker says so: read before a decision that would
        move users (so that nobody is moved and moved back) or that records nothing (a refused override); any
        other finds it when its commit meets the marker (SeenElsewhere)."""
        if isinstance(message, m.DependencyPromoted):
            return False
        moves = any(isinstance(e, SetTraffic) for e in decision.effects)
        return (moves or not decision.remember) and self.store.seen_before(message.release, key)

    def _may_move_release(self, snapshot: Snapshot, decision: Decision, now: datetime) -> bool:
        """Whether a decision on one shard may change what only the whole release says: only when the shard's
        facts change in a way that matters, and then every shard's facts are looked at (one read)."""
        before, after = shard_facts(snapshot.release, now), shard_facts(decision.release, now)
        if not needs_look(before, after, now):
            return False
        state, others = self.store.look(snapshot)
        return release_moves(snapshot.release.plan, [*others, after], state, now)

    def _verified_dependency(self, message: m.DependencyPromoted) -> m.DependencyPromoted:
        """A `dependency-promoted` message carries the dependency's state as read here, not as claimed."""
        try:
            state: str | None = self.store.get_release(message.data.dependency).release.state
        except UnknownRelease:
            state = None
        return message.model_copy(update={"data": message.data.model_copy(update={"state": state})})

    def _seen(self, snapshot: Snapshot, dedup_key: str) -> bool:
        release, key = snapshot.release, digest(dedup_key)
        if key in release.seen:
            return True
        pushed_out = release.processed - len(release.seen)
        if pushed_out <= 0:
            return False  # the window still covers every message this release has recorded
        if release.archived == pushed_out and not archive_may_contain(release.archive, key):
            return False  # the archive holds every pushed-out id, and this one is certainly not among them
        return self.store.seen_before(release.name, dedup_key)  # seen long ago (or a rare false positive)

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
        """Register a release, or amend what may change while it exists (plan/amend.py), recorded in its history.
        Same plan again: no-op."""

        def attempt(_: int) -> ApplyResult:
            try:
                snapshot = self.store.get_release(plan.release)
            except UnknownRelease:
                now = self.clock.now()
                release = new_release(plan, now, timing.check_after(self.store, plan))
                release = lower_ttls(self.routers, release, now)  # §17: lowered at apply, the switch waits it out
                if (halt := self.store.get_halt()) is not None:  # while everything is halted, it starts halted
                    release = halted(release, halt, now)
                timing.first_deadlines(self.ports, release, now)
                try:
                    self.store.create_release(release)
                except ReleaseExists:  # another apply created it first: read it and compare
                    raise ConflictError(f"release {plan.release} was created meanwhile") from None
                timing.register_dependant(self.store, self.ports, release, now)
                return ApplyResult(plan.release, "created")
            current = snapshot.release.plan
            if current.fingerprint() == plan.fingerprint():
                timing.register_dependant(self.store, self.ports, snapshot.release, self.clock.now())
                return ApplyResult(plan.release, "unchanged")
            change = amendment(current, plan)
            if change.refused:
                raise PlanChangeRefused(
                    f"release {plan.release} is {snapshot.release.state}: only {AMENDABLE} may change while it "
                    f"exists (this plan changes {', '.join(change.refused)}); apply it under a new release name"
                )
            now = self.clock.now()
            self.store.update_plan(snapshot, plan, amended(plan, change, now))
            reschedule(self.ports, snapshot.release.evolve(plan=plan), change, now)
            return ApplyResult(plan.release, "updated")

        return retry_on_conflict(attempt, what=f"release {plan.release}")
