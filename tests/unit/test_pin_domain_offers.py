"""The release-wide offers' effects (shared/domain/offers.py): halt counts the workloads it would pause, in
words ("1 workload", "2 workloads"), and unhalt says what it lifts."""

from __future__ import annotations

from shared.domain.actors import Principal
from shared.domain.offers import offers
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan


def _release_offers(d: Driver, actor: str) -> list[tuple[str, str | None, str]]:
    return [(o.action, o.workload, o.effect) for o in offers(d.release, Principal(actor), d.w.clock.now(), None)]


def test_halt_of_one_workload_says_workload():
    d = Driver(make_plan("single-step"))
    assert _release_offers(d, OPERATOR) == [
        ("halt", None, "halts release r1: pauses 1 workload where they stand until an approver unhalts it")
    ]


def test_halt_of_two_workloads_says_workloads_and_unhalt_what_it_lifts():
    d = Driver(make_plan("single-step", workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]))
    assert _release_offers(d, OPERATOR) == [
        ("halt", None, "halts release r1: pauses 2 workloads where they stand until an approver unhalts it")
    ]
    d.override("halt", workload=None)
    assert _release_offers(d, APPROVER) == [
        ("unhalt", None, "lifts the halt of release r1: resumes the workloads the halt paused")
    ]
