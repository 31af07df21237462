"""Stateful property testing against the real store (Azurite): random messages, redeliveries, timers and a
rival writer that commits between our read and our commit. The contract's invariants hold after every step."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shared.application.bootstrap import Stack
from shared.application.service import PromotionService
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, FakeDeadLetters, FakeNetwork, FakeScheduler, event
from tests.support.names import unique_name

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
WORKLOADS = ("w1", "w2")


class RivalStore:
    """The real store, except that now and then another writer commits first (a real ETag conflict)."""

    def __init__(self, inner, rival_turns: list):
        self.inner, self.rival_turns = inner, rival_turns

    def commit(self, snapshot, decision, event_id, now=None):
        if self.rival_turns:
            self.rival_turns.pop()()  # the rival handles its message between our read and our commit
        self.inner.commit(snapshot, decision, event_id, now)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class PromotionMachine(RuleBasedStateMachine):
    stack: Stack = None  # set by the test from the azurite fixture

    @initialize(model=st.sampled_from(["single-step", "staged", "flight"]), manual=st.booleans())
    def apply_plan(self, model, manual):
        self.release = unique_name("stateful")
        doc = {
            "release": self.release,
            "model": model,
            "approvers": [APPROVER],
            "operators": [OPERATOR],
            "approval": "manual" if manual else "auto",
            "workloads": [{"name": w, "assets": [f"{w}-a", f"{w}-b"]} for w in WORKLOADS],
        }
        if model == "flight":
            doc["flights"] = [
                {"percent": 10, "bake": "20s"},
                {"percent": 60, "bake": "0s"},
                {"percent": 100, "bake": "0s"},
            ]
        self.plan = validate_plan(doc)
        self.clock, self.network, self.scheduler = FakeClock(), FakeNetwork(), FakeScheduler()
        self.rival_turns: list = []
        store = RivalStore(self.stack.store, self.rival_turns)
        ports = dict(
            routers=self.network.router,
            scheduler=self.scheduler,
            revoker=self.network,
            dead_letters=FakeDeadLetters(),
            clock=self.clock,
        )
        self.service = PromotionService(store=store, **ports)
        self.rival = PromotionService(store=self.stack.store, **ports)
        self.service.apply(self.plan)
        self.sent: list[str] = []
        self.n = 0

    def _handle(self, body: str, service=None) -> None:
        result = (service or self.service).handle(body)
        assert result.outcome in ("applied", "duplicate", "ignored", "rejected")
        self.sent.append(body)

    def _event(self, type_: str, workload, **data) -> str:
        self.n += 1
        return event(type_, self.release, workload, f"{self.release}-{self.n}", **data)

    @rule(workload=st.sampled_from(WORKLOADS), asset=st.sampled_from(["a", "b"]))
    def replicate(self, workload, asset):
        self._handle(self._event("asset-replicated", workload, asset=f"{workload}-{asset}"))

    @rule(workload=st.sampled_from(WORKLOADS), passed=st.booleans())
    def tests(self, workload, passed):
        self._handle(self._event("tests-passed" if passed else "tests-failed", workload))

    @rule(workload=st.sampled_from(WORKLOADS), flight=st.integers(1, 3), healthy=st.booleans())
    def verdict(self, workload, flight, healthy):
        self._handle(self._event("flight-healthy" if healthy else "flight-unhealthy", workload, flight=flight))

    @rule(
        workload=st.sampled_from(WORKLOADS + (None,)),
        action=st.sampled_from(["pause", "resume", "approve", "advance", "rollback", "abort", "retry"]),
        actor=st.sampled_from([APPROVER, OPERATOR, "eve@contoso.com"]),
    )
    def override(self, workload, action, actor):
        self._handle(self._event("override", workload, action=action, actor=actor, reason="test"))

    @rule(seconds=st.integers(1, 40))
    def time_passes(self, seconds):
        self.clock.advance(seconds)
        for timer in self.scheduler.due(self.clock.now()):
            self._handle(json.dumps(timer))

    @rule(data=st.data())
    def redeliver(self, data):
        if self.sent:
            self._handle(data.draw(st.sampled_from(self.sent)))

    @rule(workload=st.sampled_from(WORKLOADS), asset=st.sampled_from(["a", "b"]))
    def rival_writes_first(self, workload, asset):
        rival_body = self._event("asset-replicated", workload, asset=f"{workload}-{asset}")
        self.rival_turns.append(lambda: self._handle(rival_body, self.rival))
        self._handle(self._event("tests-passed", workload))

    @invariant()
    def routing_matches_state_and_every_id_is_applied_at_most_once(self):
        if not hasattr(self, "release"):
            return
        release = self.stack.store.get_release(self.release).release
        for name, w in release.workloads.items():
            assert self.network.shares.get((self.release, name), 0) == w.traffic_percent
            if w.state == "promoted":
                assert w.all_replicated and w.tests_passed and w.traffic_percent == 100
                assert self.plan.approval == "auto" or w.approved
        applied = Counter(
            (e.event_id, e.workload) for e in self.stack.store.list_history(self.release) if e.outcome == "applied"
        )
        assert all(n == 1 for n in applied.values()), applied.most_common(1)
        handled = {json.loads(b)["id"] for b in self.sent}
        recorded = {e.event_id for e in self.stack.store.list_history(self.release)}
        assert handled <= recorded, "every handled message has a recorded outcome"


def test_stateful_against_the_real_store(azurite, tmp_path):
    from shared.application.config import load_settings

    PromotionMachine.stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}))
    runner = PromotionMachine.TestCase
    # too_slow: every step is a real commit on Azurite (tens of milliseconds), which is the point of this test,
    # not a slow strategy. No other health check is suppressed.
    runner.settings = settings(
        max_examples=15 * settings.default.max_examples // 100,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    runner("runTest").runTest()
