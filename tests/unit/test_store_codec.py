"""The table store's field codec (shared/adapters/table_store/codec.py), pure: every workload round-trips, and
the properties written are exactly those the hand-written mapping it replaced wrote (frozen in
store_format.json from that code), so rows already stored read back the same and new rows look the same."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables._serialize import _add_entity_properties  # what the SDK puts on the wire
from hypothesis import given, settings

from shared.adapters.table_store.rows import (
    RELEASE,
    history_entity,
    history_of,
    plan_of,
    release_counters,
    workload_entity,
    workload_of,
)
from shared.domain.model import HistoryEntry, Outcome, Release, Workload, WorkloadState, archive_add
from shared.domain.plan import validate_plan
from tests.model_strategies import workloads

FROZEN = Path(__file__).with_name("store_format.json")
T = datetime(2026, 11, 27, 9, 13, 23, 123456, tzinfo=UTC)
PLAN = validate_plan({"release": "rel", "model": "single-step", "workloads": [{"name": "web", "assets": ["vm-1"]}]})

WORKLOADS = {
    "fresh": Workload(name="web", assets={"vm-1": False, "vm-2": False}, state_since=T),
    "flighting": Workload(
        name="web",
        state=WorkloadState.FLIGHTING,
        assets={"vm-1": True},
        tests_passed=True,
        approved=True,
        flight=2,
        traffic_percent=50,
        flight_started_at=T,
        healthy_flight=1,
        attempt=1,
        trouble_at=T + timedelta(seconds=1),
        state_since=T - timedelta(hours=1),
        deadline_fired="bake:2",
        window_opens_at=T + timedelta(days=1),
        lag_seconds=5,  # a whole number: still stored as Edm.Double
        lag_at=T,
        lag_reports=3,
    ),
    "paused": Workload(
        name="db",
        state=WorkloadState.READY,
        paused=True,
        unhealthy=True,
        assets={"vm-3": True},
        paused_by="ops@contoso.com",
        paused_at=T,
        paused_reason="",  # an empty text that is not the default (None): kept
        alert_while_paused="p95 latency",
        lag_seconds=0.25,
    ),
    "finalized": Workload(  # assets over two 30,000-character properties
        name="big",
        state=WorkloadState.FINALIZED,
        assets={f"vm-{i:05d}-{'x' * 40}": True for i in range(700)},
        tests_passed=True,
        approved=True,
        flight=3,
        traffic_percent=100,
        promoted_at=T,
        finalize_requested_by="ana@contoso.com",
        finalize_requested_at=T + timedelta(minutes=1),
        decommission_error="timed out",
        decommission_failures=2,
        finalized_by="ana@contoso.com",
        finalized_at=T + timedelta(minutes=5),
    ),
}
RELEASES = {
    "fresh": Release(plan=PLAN, workloads={}, after_met=("a", "b")),
    "busy": Release(
        plan=PLAN,
        workloads={},
        access_revoked=True,
        seq=12,
        seen=("00000000000000aa", "00000000000000bb"),
        processed=600,
        archive=archive_add(b"", ["00000000000000cc"]),
        archived=88,
        revoke_attempts=2,  # revoked after two failures: the error is cleared with "" (the row is merged)
        dependants=("x",),  # written by add_dependant, never by a commit
    ),
    "failing": Release(plan=PLAN, workloads={}, revoke_error="403 Forbidden", revoke_attempts=1),
}
HISTORY = {
    "full": HistoryEntry(
        at=T,
        event_id="e-1",
        type="override",
        outcome=Outcome.APPLIED,
        reason="paused",
        workload="web",
        from_state="ready",
        to_state="ready",
        traffic_percent=0,
        actor="ops@contoso.com",
        flight=1,
        source="promote/cli",
        actor_reason="CAB",
    ),
    "minimal": HistoryEntry(  # a reason longer than the stored 8,000 characters
        at=T,
        event_id="invalid:1",
        type="invalid",
        outcome=Outcome.REJECTED,
        reason="x" * 9000,
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    ),
}


def wire(entity: dict[str, Any]) -> dict[str, Any]:
    """The JSON the SDK sends for an entity (values and their Edm types), long texts by length and digest."""
    sent = json.loads(json.dumps(_add_entity_properties(entity)))
    return {
        k: f"sha256:{len(v)}:{hashlib.sha256(v.encode()).hexdigest()}" if isinstance(v, str) and len(v) > 200 else v
        for k, v in sent.items()
    }


def written(entity_of) -> dict[str, dict[str, dict[str, Any]]]:
    """The wire form of every representative record, written by `entity_of` (the codec's, or the old mapping's)."""
    workload, counters, history = entity_of
    return {
        "workloads": {k: wire(workload("rel", w)) for k, w in WORKLOADS.items()},
        "releases": {k: wire(counters(r)) for k, r in RELEASES.items()},
        "history": {k: wire(history("rel", 7, e)) for k, e in HISTORY.items()},
    }


def _fields_only(release: str, w):
    """A workload row's field properties: its key and `hseq` belong to the sharded layout (v3), not the codec."""
    entity = workload_entity(release, w)
    assert entity["RowKey"] == f"w.0000.{w.name}" and entity.pop("hseq") == 0
    entity["RowKey"] = f"s.{w.name}"  # the frozen rows' key, from before shards
    return entity


def _history_fields_only(release: str, seq: int, e):
    """A history row's field properties: its key counts down since v3 (newest first), its `seq` does not."""
    entity = history_entity(release, seq, e)
    assert entity["RowKey"] == f"h.{e.workload or '~'}.{9_999_999_999 - seq:010d}" and entity["seq"] == seq
    entity["RowKey"] = f"h.{e.workload or '~'}.{seq:010d}"  # the frozen rows' key
    return entity


def test_the_codec_writes_exactly_the_properties_the_hand_written_mapping_wrote():
    frozen = json.loads(FROZEN.read_text())
    now = written((_fields_only, release_counters, _history_fields_only))
    for group, records in frozen.items():
        for name, expected in records.items():
            assert now[group][name] == expected, f"{group}/{name}"
    assert json.dumps(now, sort_keys=True) == json.dumps(frozen, sort_keys=True)  # bools stay bools, ints ints


def test_the_representative_records_read_back_identically():
    """What the codec writes (the frozen properties) reads back as the record it came from."""
    for w in WORKLOADS.values():
        assert workload_of(workload_entity("rel", w)) == w
    for r in RELEASES.values():
        head = {**release_counters(r), "dependants": " ".join(r.dependants)}
        stored = {**head, **_plan_props()}  # a record read back, as layout.py reads it
        assert Release(plan=plan_of(stored), workloads={}, **RELEASE.read(stored)) == r.evolve(workloads={})
    for e in HISTORY.values():
        back = history_of(history_entity("rel", 7, e))
        assert back == dataclasses.replace(e, reason=e.reason[:8000])


def _plan_props() -> dict[str, Any]:
    from shared.adapters.table_store.rows import plan_properties

    return plan_properties(PLAN)


@settings(max_examples=5 * settings.default.max_examples, deadline=None)
@given(workloads())
def test_every_workload_round_trips_through_the_codec(w):
    entity = workload_entity("rel", w)
    assert all(v is not None for v in entity.values())  # Table Storage has no null
    back = workload_of(entity)
    assert back == w
    assert [type(getattr(back, f.name)) for f in dataclasses.fields(Workload)] == [
        type(getattr(w, f.name)) if f.name != "lag_seconds" or w.lag_seconds is None else float
        for f in dataclasses.fields(Workload)
    ]


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_a_field_left_at_none_is_an_absent_property(name):
    w = WORKLOADS[name]
    entity = workload_entity("rel", w)
    for f in dataclasses.fields(Workload):
        value = getattr(w, f.name)
        if value is None or value == "" and f.default == "":
            assert f.name not in entity, f.name
