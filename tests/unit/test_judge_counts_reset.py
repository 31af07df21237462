"""The judge counts a check's failed (or silent) evaluations in a row; an unhealthy verdict starts the counts
afresh. Under `on_alert: pause` the flight goes on after resume, and must fail `failure_limit` evaluations
in a row again before the next unhealthy verdict: one more bad evaluation is not enough."""

from __future__ import annotations

import pytest

from shared.domain.plan import validate_plan
from tests.fakes import event, world
from tests.judge_fakes import judge_for

R, OPERATOR = "wave-1", "ops@contoso.com"
HEALTH = {
    "interval": "10s",
    "failure_limit": 2,
    "inconclusive_limit": 2,
    "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 100}],
}


def _flighting():
    w = world()
    w.service.apply(
        validate_plan(
            {
                "release": R,
                "model": "flight",
                "on_alert": "pause",
                "operators": [OPERATOR],
                "flights": [{"percent": 10, "bake": "10m"}, {"percent": 100, "bake": "0s"}],
                "health": HEALTH,
                "workloads": [{"name": "payroll", "assets": ["vm-1"]}],
            }
        )
    )
    w.service.handle(event("asset-replicated", R, "payroll", "rep", asset="vm-1"))
    w.service.handle(event("tests-passed", R, "payroll", "tests"))
    return w


def _bad(source, how: str) -> None:
    if how == "failed":
        source.set("payroll", "errors", 4.5, 900)
    else:
        source.set("payroll", "errors", error="no data")


def _unhealthy(publisher) -> int:
    return sum(1 for e in publisher.published if e["type"] == "flight-unhealthy")


@pytest.mark.parametrize("how", ["failed", "no-data"])
def test_after_an_unhealthy_verdict_the_counts_start_afresh(how):
    w = _flighting()
    judge, _, source, publisher = judge_for(w)
    _bad(source, how)
    for _ in range(2):  # failure_limit (inconclusive_limit) evaluations in a row: unhealthy, paused
        w.clock.advance(10)
        judge.round()
    workload = w.store.get_release(R).release.workloads["payroll"]
    assert (_unhealthy(publisher), workload.paused, workload.state) == (1, True, "flighting")
    w.service.handle(event("override", R, "payroll", "resume", action="resume", actor=OPERATOR, reason="fixed"))
    w.clock.advance(10)
    run = judge.round()  # one more bad evaluation after resume: one in a row, not three
    assert run.evaluated == 1 and _unhealthy(publisher) == 1
    assert not w.store.get_release(R).release.workloads["payroll"].paused
    w.clock.advance(10)
    judge.round()  # the second in a row: unhealthy again
    assert _unhealthy(publisher) == 2
    assert w.store.get_release(R).release.workloads["payroll"].paused
