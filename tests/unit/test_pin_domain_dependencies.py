"""Dependencies between releases (shared/domain/machine/rules/time.py `on_dependency`): the list still waited
for, an unknown release, and a notice read too early left unremembered by decide(); a promoted workload that may
still be paused (machine/rules/finish.py `finalize_pending`); and the message-id archive's bit positions, kept
in stored release records (model.py)."""

from __future__ import annotations

import json

from shared.domain import messages as m
from shared.domain.machine.decide import decide
from shared.domain.model import ARCHIVE_BITS, archive_add, archive_may_contain
from shared.domain.plan import validate_plan
from tests.fakes import event, world
from tests.unit.test_machine import Driver, make_plan
from tests.unit.test_pin_migrate_rules import said


def _waiting_for_three() -> Driver:
    """r1 waits for r0, r9 and r5."""
    d = Driver.__new__(Driver)
    d.w, d.n = world(), 0
    for name in ("r0", "r9", "r5"):
        d.w.service.apply(validate_plan({**make_plan("single-step"), "release": name}))
    d.plan = validate_plan(make_plan("single-step", after=["r0", "r9", "r5"]))
    d.w.service.apply(d.plan)
    return d


def test_the_releases_still_waited_for_are_listed():
    d = _waiting_for_three()
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "a"}), ("asset-replicated", {"asset": "b"}), ("tests-passed", {})]
    ):
        d.w.service.handle(event(type_, "r0", "w1", f"r0-{i}", **data))
    assert said(d.send("dependency-promoted", None, dependency="r0")) == [
        ("applied", "release r0 is promoted; still waiting for r9, r5")
    ]


def test_decide_does_not_remember_a_notice_read_before_the_promotion_nor_one_of_an_unknown_release():
    d = _waiting_for_three()
    now = d.w.clock.now()

    def decided(state: str | None):
        data = {"release": "r1", "dependency": "r0", **({"state": state} if state else {})}
        notice = m.new_event("dependency-promoted", data, id="n1", source="promote/r0", time=now)
        return decide(d.release, m.parse_message(json.dumps(notice)), now)

    early = decided("in-progress")
    assert (early.outcome, early.remember, early.release.seen, early.release.processed) == (
        "ignored",
        False,
        d.release.seen,
        d.release.processed,
    )
    unknown = decided(None)  # the service found no such release
    assert [(e.outcome, e.reason) for e in unknown.entries] == [
        ("ignored", "release r0 is unknown, not promoted; looking again at 2026-11-26T22:00:30Z")
    ]
    late = decided("promoted")
    assert (late.outcome, late.remember, late.release.processed) == ("applied", True, d.release.processed + 1)


def test_a_promoted_workload_that_will_still_finalize_may_be_paused():
    one_second = make_plan("single-step", hypercare="1s", decommission={"approval": "manual"})
    auto = make_plan("single-step", decommission={"approval": "auto"})
    manual = make_plan("single-step", decommission={"approval": "manual"})
    found = []
    for plan in (one_second, auto, manual):
        d = Driver(plan)
        d.replicate()
        d.send("tests-passed")
        found += said(d.override("pause"))
    assert found == [("applied", "paused at 100%"), ("applied", "paused at 100%"), ("ignored", "workload is promoted")]


def test_the_archive_sets_the_bits_of_its_stored_format():
    # double hashing: the first 8 hex digits start, the next 8 (made odd) step, 7 bits of 32,768
    digest = "00000010" + "0000abcd" + "f" + "0" * 47
    archive = archive_add(b"", [digest])
    assert len(archive) == ARCHIVE_BITS // 8 == 4096
    bits = {i for i in range(ARCHIVE_BITS) if archive[i >> 3] & (1 << (i & 7))}
    assert bits == {16, 11229, 22442, 887, 12100, 23313, 1758}
    assert archive_may_contain(archive, digest)
    assert not archive_may_contain(archive, "00000011" + "0000abcd" + "f" + "0" * 47)
    even = "00000010" + "0000abce" + "0" * 48  # an even step is made odd: the same bits as 0000abcf
    assert archive_add(b"", [even]) == archive_add(b"", ["00000010" + "0000abcf" + "0" * 48])
