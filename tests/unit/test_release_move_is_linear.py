"""Deciding a staged release's move asks each workload's gates a bounded number of times: the cost of the
decision grows with the release's size, not with its square (a release of 5,000 workloads is decided once, on
the whole release, when its last workload becomes ready)."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter

from shared.domain import gates
from shared.domain.machine import decide
from shared.domain.messages import parse_message
from shared.domain.model import WorkloadState, new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, event


def test_the_staged_move_asks_each_workloads_gates_a_bounded_number_of_times(monkeypatch):
    n = 49  # the quadratic shows already: 49 x 49 gate evaluations for one move
    plan = validate_plan(
        {
            "release": "wave",
            "model": "staged",
            "approval": "auto",
            "workloads": [{"name": f"w{i}", "assets": [f"vm-{i}"]} for i in range(n)],
        }
    )
    release = new_release(plan, T0)
    workloads = {}
    for i, (name, w) in enumerate(release.workloads.items()):
        replicated = w.evolve(assets={a: True for a in w.assets})
        last = i == n - 1
        workloads[name] = replicated.evolve(
            state=WorkloadState.TESTING if last else WorkloadState.READY, tests_passed=not last
        )
    release = release.evolve(workloads=workloads)
    asked: Counter[str] = Counter()
    for name, spec in list(gates.GATES.items()):

        def counted(r, w, now, check=spec.check, name=name):
            asked[name] += 1
            return check(r, w, now)

        monkeypatch.setitem(gates.GATES, name, dataclasses.replace(spec, check=counted))
    # the gates to check are cached per question: a cache of this test's own, of the counted ones
    monkeypatch.setattr(gates, "_checks", functools.cache(gates._checks.__wrapped__))
    message = parse_message(event("tests-passed", "wave", f"w{n - 1}", "t-last").encode())
    decision = decide(release, message, T0)
    assert {w.state for w in decision.release.workloads.values()} == {WorkloadState.PROMOTED}
    # about once per gate and workload (451 for 49 workloads), not 49 x 49 times (16,964 before)
    assert sum(asked.values()) >= n, "the counted gates were asked (not a cache of the uncounted ones)"
    assert sum(asked.values()) <= len(gates.GATES) * n, dict(asked)
