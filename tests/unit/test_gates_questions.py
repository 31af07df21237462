"""waiting_for asks the gates of one kind of question (skip, holding, terminal) in their order, the list of them
worked out once per question: a skip given as a list asks as the same tuple does."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain import gates
from shared.domain.model import GateName, Release, Workload, WorkloadState
from shared.domain.plan import validate_plan

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_skip_as_a_list_asks_what_the_same_tuple_asks_and_holding_asks_fewer():
    plan = validate_plan({"release": "r", "model": "staged", "approval": "auto", "approvers": ["a@x.com"],
                          "workloads": [{"name": "w", "assets": ["vm"]}]})  # fmt: skip
    w = Workload(name="w", state=WorkloadState.READY, paused=True, assets={"vm": True})
    release = Release(plan=plan, workloads={"w": w})
    every = gates.waiting_for(release, w, NOW)
    assert GateName.PAUSED in {g.gate for g in every}
    assert gates.waiting_for(release, w, NOW, skip=[GateName.PAUSED]) == gates.waiting_for(
        release, w, NOW, skip=(GateName.PAUSED,)
    )
    assert GateName.PAUSED not in {g.gate for g in gates.waiting_for(release, w, NOW, skip=[GateName.PAUSED])}
    asked = {name for name, _ in gates._checks((), True, False)}
    assert asked == {name for name, spec in gates.GATES.items() if spec.holding}
    assert [name for name, _ in gates._checks((), False, True)] == [
        name for name, spec in gates.GATES.items() if spec.terminal
    ]
