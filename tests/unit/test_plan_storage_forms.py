"""The release record is merged: a plan stored in one form (plain chunks, or deflated in `plan_z` from
PLAN_PACKED_AT characters) and updated to the other must read back as the update, not as the old form."""

from __future__ import annotations

from shared.adapters.table_store.rows import PLAN_PACKED_AT, plan_json, plan_of, plan_properties
from shared.domain.plan import validate_plan


def plan(workloads: int, operators: list[str]):
    return validate_plan({
        "release": "r1", "model": "single-step", "operators": operators,
        "workloads": [{"name": f"w{k}", "assets": [f"vm-{i:03d}-{k}-" + "a" * 240 for i in range(20)]}
                      for k in range(workloads)],
    })  # fmt: skip


def test_a_plan_updated_across_the_packing_size_reads_back_as_the_update_either_way():
    small, large = plan(5, ["ops@contoso.com"]), plan(45, ["ops@contoso.com", "leaver@contoso.com"])
    assert len(plan_json(small)) < PLAN_PACKED_AT <= len(plan_json(large))
    for first, then in ((large, small), (small, large)):
        record = {"PartitionKey": "r1", "RowKey": "s", **plan_properties(first)}
        record.update(plan_properties(then))  # a merge: what the update does not name stays
        assert plan_of(record) == then
