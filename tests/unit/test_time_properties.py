"""Property-based: random message sequences and clock jumps against plans with windows, deadlines and `after`.

- no move onto the migrated system happens outside an allowed window or before the releases in `after`
  are promoted (an approver's `advance` outside a denied period is the one deliberate exception);
- every deadline fires at most once per waiting period, and never before it is due;
- `waiting_for` is empty exactly when the workload is terminal or could move now (an oracle written apart
  from the gates restates the rules).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.gates import waiting_for, waiting_period
from shared.domain.model import TERMINAL, Release, Workload
from shared.domain.plan import validate_plan
from shared.domain.windows import closed, is_open, next_opening
from tests.fakes import event, world

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
WORKLOADS = ["w1", "w2"]
ASSETS = {"w1": ["a", "b"], "w2": ["c"]}
# T0 is Thursday 2026-11-26 22:00Z: the slot is open for its first ten minutes, then a day later; Friday
# evening (UTC) is denied
WINDOWS = {
    "timezone": "UTC",
    "allow": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "22:00", "to": "22:10"}],
    "deny": [{"from": "2026-11-27T21:00", "to": "2026-11-27T23:00", "reason": "freeze"}],
}
DEADLINES = {"replicating": "30m", "testing": "20m", "approval": "20m", "verdict": "10m"}
FLIGHTS = [{"percent": 10, "bake": "30s"}, {"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "20s"}]

PLANS = {
    "single-step-window-after": {"model": "single-step", "windows": WINDOWS, "after": ["dep"], "deadlines": DEADLINES},
    "single-step-manual-window": {
        "model": "single-step",
        "approval": "manual",
        "windows": WINDOWS,
        "deadlines": DEADLINES,
        "on_deadline": "pause",
    },
    "staged-after-window": {
        "model": "staged",
        "windows": WINDOWS,
        "after": ["dep"],
        "deadlines": DEADLINES,
        "on_deadline": "pause",
    },
    "flight-window-rollback": {
        "model": "flight",
        "flights": FLIGHTS,
        "windows": WINDOWS,
        "deadlines": DEADLINES,
        "on_deadline": "rollback",
    },
    "flight-after-pause": {
        "model": "flight",
        "approval": "manual",
        "flights": FLIGHTS,
        "after": ["dep"],
        "windows": {**WINDOWS, "advance_when_denied": True},
        "deadlines": DEADLINES,
        "on_deadline": "pause",
    },
}


def build_plan(kind: str):
    return validate_plan(
        {
            "release": "r1",
            "approvers": [APPROVER],
            "operators": [OPERATOR],
            "workloads": [{"name": w, "assets": ASSETS[w]} for w in WORKLOADS],
            **PLANS[kind],
        }
    )


workload = st.sampled_from(WORKLOADS * 3 + ["w2"])
ids = st.integers(0, 120).map(lambda n: f"id-{n}")
message = st.one_of(
    st.tuples(st.just("asset-replicated"), workload, ids, st.sampled_from(["a", "b", "c"]).map(lambda a: {"asset": a})),
    st.tuples(st.sampled_from(["tests-passed"] * 3 + ["tests-failed"]), workload, ids, st.just({})),
    st.tuples(
        st.sampled_from(["flight-healthy"] * 4 + ["flight-unhealthy"]),
        workload,
        ids,
        st.sampled_from([1, 1, 2, 3]).map(lambda f: {"flight": f}),
    ),
    st.tuples(st.just("alert"), workload, ids, st.just({})),
    st.tuples(
        st.just("override"),
        st.sampled_from(WORKLOADS + [None]),
        ids,
        st.fixed_dictionaries(
            {
                "action": st.sampled_from(
                    ["pause", "resume", "resume", "approve", "approve", "advance", "rollback", "abort", "retry"]
                ),
                "actor": st.sampled_from([APPROVER, OPERATOR]),
                "reason": st.just("because"),
            }
        ),
    ),
    st.tuples(
        st.just("tick"),
        st.just(None),
        st.just(""),
        st.sampled_from([1, 5, 20, 31, 61, 130, 310, 700, 1300, 23 * 3600 + 1800]).map(lambda s: {"seconds": s}),
    ),
    st.tuples(st.just("promote-dep"), st.just(None), st.just(""), st.just({})),
    # timers delivered twice, the second under another id (a decision made again after a crash)
    st.tuples(
        st.just("tick-doubled"),
        st.just(None),
        st.just(""),
        st.sampled_from([61, 700, 1300, 2000]).map(lambda s: {"seconds": s}),
    ),
)


@st.composite
def sequences(draw):
    kind = draw(st.sampled_from(sorted(PLANS)))
    steps = []
    for step in _happy_path():  # random messages around the ones that carry the release through
        steps += draw(st.lists(message, max_size=3))
        if draw(st.integers(0, 5)):
            steps.append(step)
    return kind, steps + draw(st.lists(message, max_size=4))


def _happy_path() -> list[tuple]:
    steps: list[tuple] = [("asset-replicated", w, f"h-{w}-{a}", {"asset": a}) for w in WORKLOADS for a in ASSETS[w]]
    steps += [("tests-passed", w, f"h-{w}-tests", {}) for w in WORKLOADS]
    steps += [
        ("override", None, "h-approve", {"action": "approve", "actor": APPROVER, "reason": "go"}),
        ("promote-dep", None, "", {}),
    ]
    for flight in (1, 2, 3):
        steps += [("flight-healthy", w, f"h-{w}-f{flight}", {"flight": flight}) for w in WORKLOADS]
        steps.append(("tick", None, "", {"seconds": 61}))
    return steps


def can_move(release: Release, w: Workload, now: datetime) -> bool:
    """The rules restated apart from the gates: may `w` take its next step now?"""
    plan = release.plan
    if w.paused:
        return False
    window_ok = is_open(plan.windows, now)
    approval_ok = plan.approval == "auto" or w.approved
    after_ok = set(plan.after) <= set(release.after_met)
    if w.state == "replicating":
        return all(w.assets.values())
    if w.state == "testing":
        return w.tests_passed
    if w.state == "ready":
        if not (approval_ok and after_ok and window_ok):
            return False
        if plan.model == "staged":
            return all(
                o.state == "ready" and not o.paused and (plan.approval == "auto" or o.approved)
                for o in release.workloads.values()
                if o.state not in TERMINAL
            )
        return True
    if w.state == "flighting":
        bake = plan.flights[w.flight - 1].bake
        last = w.flight == len(plan.flights)
        return (
            w.healthy_flight == w.flight
            and now >= w.flight_started_at + timedelta(seconds=bake)
            and (last or window_ok)
        )
    return False  # rolled-back: only an operator's retry moves it


def run(kind: str, steps):
    w = world()
    w.service.apply(
        validate_plan({"release": "dep", "model": "single-step", "workloads": [{"name": "d1", "assets": ["x"]}]})
    )
    plan = build_plan(kind)
    w.service.apply(plan)
    observations = []

    def handle(body: str) -> None:
        doc = json.loads(body)
        if doc["data"]["release"] != "r1":
            w.service.handle(body)
            return
        before = w.store.get_release("r1").release
        count = len(w.store.list_history("r1"))
        result = w.service.handle(body)
        after = w.store.get_release("r1").release
        observations.append((doc, before, after, result, w.store.list_history("r1")[count:], w.clock.now()))

    for type_, target, id_, data in steps:
        if type_ in ("tick", "tick-doubled"):
            w.clock.advance(data["seconds"])
            for e in w.scheduler.due(w.clock.now()):
                handle(json.dumps(e))
                if type_ == "tick-doubled":
                    handle(json.dumps({**e, "id": e["id"] + ":again"}))
        elif type_ == "promote-dep":
            handle(event("asset-replicated", "dep", "d1", "dep-1", asset="x"))
            handle(event("tests-passed", "dep", "d1", "dep-2"))
            for e in w.scheduler.due(w.clock.now()):  # the dependency notice is sent for now
                handle(json.dumps(e))
        else:
            handle(event(type_, "r1", target, id_, **data))
    return plan, observations, (w, handle)


def settle_at_next_opening(w, handle, plan) -> None:
    """Let time run to the next window opening and deliver whatever is due, as the transport would."""
    for _ in range(3):
        opens = next_opening(plan.windows, w.clock.now()) if plan.windows else w.clock.now()
        w.clock.current = max(w.clock.now(), opens) + timedelta(seconds=1)
        for e in w.scheduler.due(w.clock.now()):
            handle(json.dumps(e))


@settings(max_examples=settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences())
def test_moves_happen_only_inside_the_window_and_after_the_dependencies(case):
    kind, steps = case
    plan, observations, _ = run(kind, steps)
    for doc, before, after, _result, _entries, now in observations:
        for name in WORKLOADS:
            b, a = before.workloads[name], after.workloads[name]
            if a.traffic_percent <= b.traffic_percent:
                continue
            by_hand = doc["type"] == "override" and doc["data"]["action"] == "advance"
            why = closed(plan.windows, now)
            if by_hand:
                assert why is None or not why.denied or plan.windows.advance_when_denied, "advance in a freeze"
            else:
                assert why is None, f"{name} moved {b.traffic_percent}->{a.traffic_percent} at {now}: {why}"
            if b.traffic_percent == 0:
                assert set(plan.after) <= set(after.after_met), "a first move before the dependencies"


@settings(max_examples=settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences())
def test_every_deadline_fires_at_most_once_per_waiting_period_and_never_early(case):
    kind, steps = case
    plan, observations, _ = run(kind, steps)
    fired: dict[str, list[str]] = {name: [] for name in WORKLOADS}
    for doc, before, after, _result, entries, now in observations:
        for entry in entries:
            if entry.type != "deadline" or entry.outcome != "applied":
                continue
            b, a = before.workloads[entry.workload], after.workloads[entry.workload]
            period = waiting_period(before, b)
            assert period is not None and period.deadline is not None and now >= period.deadline
            assert a.deadline_fired == period.key == doc["data"]["period"]
            fired[entry.workload].append(period.key)
    for name, keys in fired.items():
        assert len(keys) == len(set(keys)), f"{name}: a deadline fired twice for one waiting period: {keys}"


@settings(max_examples=settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences())
def test_waiting_for_is_empty_exactly_when_the_workload_can_move_or_is_terminal(case):
    kind, steps = case
    plan, observations, (world_, handle) = run(kind, steps)
    for _doc, _before, after, _result, _entries, now in observations:
        for name in WORKLOADS:
            w = after.workloads[name]
            gates = waiting_for(after, w, now, holding=True)
            assert (gates == []) == (w.state in TERMINAL or can_move(after, w, now)), (w, gates)
            # and at rest, only a timer still to come (a bake, or a window opening due in the same batch)
            # leaves a workload able to move unmoved
            if gates == [] and w.state not in TERMINAL:
                assert w.state == "flighting" or (w.window_opens_at is not None and w.window_opens_at <= now), (w, now)
    # nothing is stuck silently: once the window opens and what is due is delivered, a workload that is not
    # terminal is held by a gate it names
    settle_at_next_opening(world_, handle, plan)
    release = world_.store.get_release("r1").release
    for name, w in release.workloads.items():
        now = world_.clock.now()
        assert w.state in TERMINAL or waiting_for(release, w, now), f"{name} could move but nothing moves it: {w}"
