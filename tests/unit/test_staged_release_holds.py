"""A staged release moves all its workloads at once: a paused workload holds that move for every workload,
however the others stand, and says so on each; its resume lets the release move."""

from __future__ import annotations

import pytest

from shared.application.views import status_json
from shared.domain.plan import validate_plan
from tests.fakes import event, world

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


class Staged:
    def __init__(self, approval: str):
        self.w = world()
        self.w.service.apply(
            validate_plan(
                {
                    "release": "r1",
                    "model": "staged",
                    "approval": approval,
                    "approvers": [APPROVER],
                    "operators": [OPERATOR],
                    "workloads": [{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}],
                }
            )
        )
        self.n = 0

    def send(self, type_: str, workload: str | None, **data):
        self.n += 1
        return self.w.service.handle(event(type_, "r1", workload, f"m{self.n}", **data))

    def ready(self, workload: str, asset: str):
        self.send("asset-replicated", workload, asset=asset)
        return self.send("tests-passed", workload)

    def override(self, action: str, workload: str | None, actor: str = OPERATOR):
        return self.send("override", workload, action=action, actor=actor, reason="checking the database")

    def states(self) -> dict[str, tuple[str, int]]:
        release = self.w.store.get_release("r1").release
        return {n: (w.state, w.traffic_percent) for n, w in release.workloads.items()}

    def waiting(self) -> dict[str, list]:
        release = self.w.store.get_release("r1").release
        doc = status_json(release, self.w.clock.now())
        return {w["name"]: [(g["gate"], g.get("workloads")) for g in w["waiting_for"]] for w in doc["workloads"]}


def test_a_paused_workload_holds_the_release_wide_approval_of_a_staged_release():
    s = Staged("manual")
    s.ready("w1", "a")
    s.ready("w2", "b")
    assert s.override("pause", "w1").outcome == "applied"
    approve = s.override("approve", None, actor=APPROVER)
    assert approve.outcome == "applied"  # recorded for both: each is approved
    assert s.states() == {"w1": ("ready", 0), "w2": ("ready", 0)}
    assert s.w.network.writes == [] and s.w.network.revoked == []
    # the paused one is held by its pause; the other by the release, which names who holds it
    assert s.waiting() == {"w1": [("paused", None)], "w2": [("release", ["w1"])]}
    resume = s.override("resume", "w1")
    assert resume.outcome == "applied" and "promoted with the release" in resume.reason
    assert s.states() == {"w1": ("promoted", 100), "w2": ("promoted", 100)}
    assert sorted(s.w.network.writes) == [("r1", "w1", 100), ("r1", "w2", 100)]


@pytest.mark.parametrize("paused, last", [("w1", "w2"), ("w2", "w1")])
def test_with_automatic_approval_the_last_workload_ready_does_not_move_a_release_with_a_paused_one(paused, last):
    s = Staged("auto")
    assets = {"w1": "a", "w2": "b"}
    s.ready(paused, assets[paused])
    s.override("pause", paused)
    assert s.ready(last, assets[last]).outcome == "applied"
    assert s.states() == {"w1": ("ready", 0), "w2": ("ready", 0)} and s.w.network.writes == []
    assert s.waiting() == {paused: [("paused", None)], last: [("release", [paused])]}
    s.override("resume", paused)
    assert s.states() == {"w1": ("promoted", 100), "w2": ("promoted", 100)}
