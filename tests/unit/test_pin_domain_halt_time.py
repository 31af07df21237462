"""A release applied while everything is halted (shared/domain/machine/rules/halt.py `halted`): who, why and
when on the release and on every workload; and a dependency notice to a release with nothing left to move
(shared/domain/machine/rules/time.py): no look again is promised."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.machine.rules.halt import halted
from shared.domain.model import new_release
from shared.domain.plan import validate_plan
from tests.unit.test_machine import OPERATOR, make_plan
from tests.unit.test_pin_time_rules import said, timers, waiting  # noqa: F401 - `waiting` is a fixture

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HALT = {"by": "ops@contoso.com", "reason": "datacenter incident", "at": "2026-12-07T08:30:00Z"}


def test_a_release_applied_under_a_halt_starts_halted_by_it():
    plan = validate_plan(
        make_plan("single-step", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}])
    )
    release = halted(new_release(plan, NOW), HALT, NOW)
    assert (release.halted_by, release.halted_reason, release.halted_at) == (
        "ops@contoso.com",
        "datacenter incident",
        "2026-12-07T08:30:00Z",
    )
    assert {n: (w.paused, w.paused_by, w.paused_at, w.paused_reason) for n, w in release.workloads.items()} == {
        "w1": (True, "ops@contoso.com", NOW, "halted: datacenter incident"),
        "w2": (True, "ops@contoso.com", NOW, "halted: datacenter incident"),
    }


def test_a_release_whose_workloads_are_all_over_does_not_look_again_at_a_dependency(waiting):  # noqa: F811
    d = waiting
    assert said(d.override("abort", OPERATOR)) == [
        ("applied", "aborted; traffic on the source system -> aborted; network: already in place")
    ]
    before = timers(d)
    assert said(d.send("dependency-promoted", None, dependency="r0")) == [
        ("ignored", "release r0 is in-progress, not promoted")
    ]
    assert timers(d) == before  # nothing scheduled: nothing is left to move
