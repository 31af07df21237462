"""A release-wide override has one outcome for the message, combined from its workloads' outcomes: `applied`
if it applied to any, else `rejected` if it was refused for any (a refusal must not read as harmless),
else `ignored`. Each workload's history entry keeps its own outcome."""

from __future__ import annotations

from shared.domain.plan import validate_plan
from tests.fakes import event, world

OPERATOR = "ops@contoso.com"


def _release():
    """w1 aborted, w2 promoted, w3 still replicating."""
    w = world()
    w.service.apply(
        validate_plan(
            {
                "release": "r1",
                "model": "single-step",
                "operators": [OPERATOR],
                "workloads": [{"name": n, "assets": ["a"]} for n in ("w1", "w2", "w3")],
            }
        )
    )
    w.service.handle(event("override", "r1", "w1", "abort-w1", action="abort", actor=OPERATOR, reason="out"))
    w.service.handle(event("asset-replicated", "r1", "w2", "rep-w2", asset="a"))
    w.service.handle(event("tests-passed", "r1", "w2", "tests-w2"))
    assert {n: x.state for n, x in w.store.get_release("r1").release.workloads.items()} == {
        "w1": "aborted",
        "w2": "promoted",
        "w3": "replicating",
    }
    return w


def _outcomes(result) -> dict[str, str]:
    return {e.workload: e.outcome for e in result.entries}


def test_rejected_outranks_ignored():
    w = _release()
    # abort: w1 is already aborted (ignored), w2 is promoted (rejected: roll back instead)
    w.service.handle(event("override", "r1", "w3", "abort-w3", action="abort", actor=OPERATOR, reason="out"))
    result = w.service.handle(event("override", "r1", None, "abort-all", action="abort", actor=OPERATOR, reason="r"))
    assert _outcomes(result) == {"w1": "ignored", "w2": "rejected", "w3": "ignored"}
    assert result.outcome == "rejected"
    assert "use override rollback" in result.reason


def test_applied_outranks_rejected_and_ignored():
    w = _release()
    result = w.service.handle(event("override", "r1", None, "abort-all", action="abort", actor=OPERATOR, reason="r"))
    assert _outcomes(result) == {"w1": "ignored", "w2": "rejected", "w3": "applied"}
    assert result.outcome == "applied"
