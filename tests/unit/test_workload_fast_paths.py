"""The fast paths a release-level move takes over 5,000 workloads make the same workloads as the slow ones:
Workload.of_fields as Workload(...), evolve as dataclasses.replace, a pending change's JSON (only the fields
set) back as the workload, and RowCodec.stored as read."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given

from shared.adapters.table_store.rows import WORKLOAD, workload_entity, workload_of
from shared.adapters.table_store.shards import workload_from_json, workload_json
from shared.domain.model import Workload, WorkloadState
from tests.model_strategies import workloads


@given(workloads())
def test_of_fields_makes_the_workload_init_makes(w):
    values = {f.name: getattr(w, f.name) for f in dataclasses.fields(w) if f.name != "name"}
    made = Workload.of_fields(w.name, values)
    assert made == w and type(made.state) is WorkloadState
    assert Workload.of_fields(w.name, {}) == Workload(name=w.name)


def test_of_fields_gives_each_workload_its_own_lists_and_dicts_and_refuses_unknown_fields():
    a, b = Workload.of_fields("a", {}), Workload.of_fields("b", {})
    assert a.assets is not b.assets and a.approvals is not b.approvals and a.operated_by is not b.operated_by
    with pytest.raises(TypeError, match="Workload has no field colour"):
        Workload.of_fields("a", {"colour": "red"})
    with pytest.raises(ValueError):
        Workload.of_fields("a", {"state": "no-such-state"})


@given(workloads())
def test_evolve_is_replace(w):
    changes = {"state": WorkloadState.PROMOTED, "traffic_percent": 100, "assets": {"vm-9": True}}
    assert w.evolve(**changes) == dataclasses.replace(w, **changes)
    with pytest.raises(TypeError):
        w.evolve(colour="red")


@given(workloads())
def test_a_pending_change_round_trips_and_leaves_out_only_what_is_unset(w):
    doc = workload_json(w)
    assert workload_from_json(doc) == w
    unset = Workload(name=w.name)
    assert {k for k in doc if k not in ("name", "state")} == {
        f.name
        for f in dataclasses.fields(w)
        if f.name not in ("name", "state")
        and (
            getattr(w, f.name) != getattr(unset, f.name) or type(getattr(w, f.name)) is not type(getattr(unset, f.name))
        )
    }


@given(workloads())
def test_a_row_read_through_stored_is_the_row_read_through_read(w):
    entity = workload_entity("rel", w, shard=3, hseq=2)
    assert workload_of(entity) == Workload(name=w.name, **WORKLOAD.read(entity)) == w
