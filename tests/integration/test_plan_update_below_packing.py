"""A plan update that crosses the size from which the plan is stored deflated (issue 22): the release record is
merged, and the plan it held before must not be read back instead of the update."""

from __future__ import annotations

import json

from shared.adapters.table_store.rows import PLAN_PACKED_AT
from shared.application.bootstrap import Stack
from shared.domain.plan import validate_plan
from tests.fakes import event

OPERATOR, LEAVER = "ops@contoso.com", "leaver-" + "x" * 230 + "@contoso.com"


def _doc(name: str, operators: list[str], last: int, filler: int) -> dict:
    """39 workloads of long asset names (`last` assets in the last one) and an operator of `filler` characters
    that stays: together they put the plan's size where the test wants it."""
    assets = [f"vm-{i:03d}-" + "a" * 240 for i in range(20)]
    workloads = [{"name": f"w{k}", "assets": [f"{a}-{k}" for a in assets]} for k in range(38)]
    workloads.append({"name": "w38", "assets": [f"{a}-38" for a in assets[:last]]})
    stays = ["f" * filler + "@contoso.com"] if filler else []
    return {"release": name, "model": "single-step", "operators": [*operators, *stays], "workloads": workloads}


def _size(doc: dict) -> int:
    return len(json.dumps(validate_plan(doc).canonical(), separators=(",", ":")))


def test_an_operator_removed_by_a_plan_update_that_shrinks_the_plan_below_the_packing_size_may_not_pause(
    stack: Stack, release_name: str
):
    # a plan just above the size from which it is stored deflated (plan_z), and the same plan without one
    # operator just below it: stored as plain chunks, merged into the record that still holds plan_z
    last = next(n for n in range(20, 0, -1) if _size(_doc(release_name, [OPERATOR, LEAVER], n, 0)) < PLAN_PACKED_AT)
    filler = PLAN_PACKED_AT + 5 - _size(_doc(release_name, [OPERATOR, LEAVER], last, 0)) - len(',"@contoso.com"')
    before = _doc(release_name, [OPERATOR, LEAVER], last, filler)
    after = _doc(release_name, [OPERATOR], last, filler)
    assert _size(before) >= PLAN_PACKED_AT > _size(after)
    stack.service.apply(validate_plan(before))
    assert stack.service.apply(validate_plan(after)).action == "updated"
    # (the plan as read back still names the leaver: the record keeps the old plan_z beside the new chunks)
    result = stack.service.handle(
        event("override", release_name, "w1", "pause-by-leaver", action="pause", actor=LEAVER, reason="gone")
    )
    assert result.outcome == "rejected", result.reason
