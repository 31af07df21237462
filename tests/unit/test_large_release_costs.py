"""What deciding and showing a release of thousands of workloads costs (issue 22, contract §14: up to 5,000
workloads in every model), counted in operations rather than timed: the count of per-workload work at N and
at 2N workloads must double, not quadruple. Wall-clock figures are bench/domain_scale.py's."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.application.views import status_json
from shared.domain import gates
from shared.domain import messages as m
from shared.domain.attention import attention
from shared.domain.machine import decide
from shared.domain.model import Release, ReleaseState, WorkloadState, new_release
from shared.domain.plan import Plan, validate_plan
from shared.domain.plan.validate import MAX_PLAN_CHARS
from tests.fakes import event
from tests.unit.test_machine import make_plan

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CONTRACT_WORKLOADS = 5_000  # contract §14
N = 60  # small: the counts, not the clock, tell linear from quadratic


def test_a_plan_of_5000_workloads_with_the_shortest_names_fits_the_plan_size_limit():
    """Each workload's canonical form (routing, health, data_sync, decommission spelled out) is about 100
    characters: 5,000 of them must fit MAX_PLAN_CHARS."""
    one = validate_plan({"release": "r1", "model": "flight", "flights": [{"percent": 100, "bake": "0s"}],
                         "workloads": [{"name": "a00", "assets": ["a"]}]})  # fmt: skip
    doc = one.canonical()
    workload = json.dumps(doc["workloads"][0], separators=(",", ":"))
    rest = len(json.dumps({**doc, "workloads": []}, separators=(",", ":")))
    assert rest + CONTRACT_WORKLOADS * (len(workload) + 1) <= MAX_PLAN_CHARS


def _large(model: str, n: int) -> Plan:
    """A plan of `n` workloads, built past the plan's current workload limit (the store's shards hold 5,000)."""
    small = validate_plan({**make_plan(model, approval="auto"), "workloads": [{"name": "w0", "assets": ["a"]}]})
    workloads = [
        small.workloads[0].model_copy(update={"name": f"w{i:05d}", "assets": [f"vm{i:05d}"]}) for i in range(n)
    ]
    return small.model_copy(update={"workloads": workloads})


STATES_WORKED_OUT: list[int] = []


class StateCounted(Release):
    """A release that counts how often its state is worked out (each time over every workload)."""

    @property
    def state(self) -> ReleaseState:
        STATES_WORKED_OUT.append(1)
        return Release.state.fget(self)  # type: ignore[attr-defined]


def _ready(plan: Plan, *, last: WorkloadState = WorkloadState.READY) -> StateCounted:
    release = new_release(plan, NOW)
    workloads = {
        n: w.evolve(state=WorkloadState.READY, assets={a: True for a in w.assets}, tests_passed=True)
        for n, w in release.workloads.items()
    }
    name = plan.workloads[-1].name
    if last != WorkloadState.READY:
        workloads[name] = workloads[name].evolve(state=last, tests_passed=False)
    fields = {f.name: getattr(release, f.name) for f in dataclasses.fields(release)}
    return StateCounted(**{**fields, "workloads": workloads})


def _paused_first(release: Release) -> Release:
    first = release.plan.workloads[0].name
    return release.evolve(workloads={**release.workloads, first: release.workloads[first].evolve(paused=True)})


@pytest.mark.parametrize("model", ["flight", "staged", "single-step"])
def test_the_attention_list_of_a_release_works_out_the_release_state_once(model):
    """attention() worked out the release state once per workload (Tally.of over every workload each time):
    quadratic. The service calls it twice on every decision on a whole release, status once."""
    for n in (N, 2 * N):
        release = _paused_first(_ready(_large(model, n)))
        STATES_WORKED_OUT.clear()
        items = attention(release)
        assert [i["workload"] for i in items] == [release.plan.workloads[0].name]  # it still finds the paused one
        assert len(STATES_WORKED_OUT) == 1, (n, len(STATES_WORKED_OUT))


def _gate_checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every gate check counted as it is asked (each one looks at one workload)."""
    asked: Counter[str] = Counter()
    for name, spec in list(gates.GATES.items()):

        def counted(r, w, now, check=spec.check, name=name):
            asked[name] += 1
            return check(r, w, now)

        monkeypatch.setitem(gates.GATES, name, dataclasses.replace(spec, check=counted))
    # the gates to check are cached per question: a cache of this test's own, of the counted ones
    monkeypatch.setattr(gates, "_checks", functools.cache(gates._checks.__wrapped__))
    return asked


def _grows_linearly(cost) -> None:
    small, double = cost(N), cost(2 * N)
    assert small >= N, "the counted gates were asked (not a cache of the uncounted ones)"
    assert double <= 2 * small + 20, f"{N} workloads: {small} operations; {2 * N}: {double} (quadratic: x4)"


def test_the_staged_release_moves_at_once_at_a_cost_linear_in_its_workloads(monkeypatch):
    """Deciding the staged release's move asks every workload's gates, and the `release` gate of each asked
    every other workload's gates: quadratic (1,000 workloads: about 15 s; 5,000: about 6 minutes)."""
    asked = _gate_checks(monkeypatch)

    def cost(n: int) -> int:
        release = _ready(_large("staged", n), last=WorkloadState.TESTING)
        message = m.parse_message(event("tests-passed", release.name, release.plan.workloads[-1].name, "t-last"))
        asked.clear()
        STATES_WORKED_OUT.clear()
        promoted = decide(release, message, NOW).release
        assert all(w.state == WorkloadState.PROMOTED for w in promoted.workloads.values())
        return sum(asked.values()) + len(STATES_WORKED_OUT) * n  # a state worked out looks at every workload

    _grows_linearly(cost)


def test_the_status_of_a_staged_release_costs_linear_in_its_workloads(monkeypatch):
    asked = _gate_checks(monkeypatch)

    def cost(n: int) -> int:
        release = _paused_first(_ready(_large("staged", n)))
        asked.clear()
        doc = status_json(release, NOW)
        assert len(doc["workloads"]) == n and len(doc["attention"]) == 1
        return sum(asked.values())

    _grows_linearly(cost)
