"""The judge's records on a real Azurite (shared/adapters/judge_store.py): the row as stored, every field read
back, one release's rows apart from another's, and which refusals are a write conflict."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared.adapters.judge_store import TableJudgeStore
from shared.application.config import JUDGE_TABLE
from shared.domain.errors import ConflictError
from shared.domain.health import CheckResult, JudgeRecord, Streak
from tests.fakes import T0

FAILED = CheckResult(name="errors", value=6.0, samples=900, max=1.0, passed=False, outcome="failed", in_a_row=2)
PASSED = CheckResult(name="p95-ms", value=120.5, samples=50, max=300.0, min_samples=10, passed=True, outcome="passed")
VERDICT = {"type": "flight-unhealthy", "id": "judge:v1", "data": {"flight": 2, "checks": ["errors"]}}


def full_record() -> JudgeRecord:
    return JudgeRecord(
        workload="shop",
        attempt=3,
        flight=2,
        started_ms=1_764_194_400_123,
        evaluation=7,
        at=T0 + timedelta(milliseconds=250),
        streaks={"errors": Streak(2, 0), "p95-ms": Streak(0, 4)},
        results=[FAILED, PASSED],
        verdict=VERDICT,
        published=False,
        done=True,
    )


def test_a_record_is_stored_as_one_row_of_plain_properties(stack, release_name):
    table = stack.table(JUDGE_TABLE)
    TableJudgeStore(table).save(release_name, full_record())
    row = table.get_entity(release_name, "shop")
    assert dict(row) == {
        "PartitionKey": release_name,
        "RowKey": "shop",
        "attempt": 3,
        "flight": 2,
        "started_ms": "1764194400123",  # stored as text
        "evaluation": 7,
        "published": False,
        "done": True,
        "streaks": '{"errors":[2,0],"p95-ms":[0,4]}',
        "results": (
            '[{"name":"errors","value":6.0,"samples":900,"max":1.0,"min":null,"min_samples":1,"passed":false,'
            '"outcome":"failed","in_a_row":2,"error":null},'
            '{"name":"p95-ms","value":120.5,"samples":50,"max":300.0,"min":null,"min_samples":10,"passed":true,'
            '"outcome":"passed","in_a_row":1,"error":null}]'
        ),
        "verdict": '{"type":"flight-unhealthy","id":"judge:v1","data":{"flight":2,"checks":["errors"]}}',
        "at": T0 + timedelta(milliseconds=250),
    }


def test_every_field_reads_back_as_it_was_saved_with_the_new_etag(stack, release_name):
    store = TableJudgeStore(stack.table(JUDGE_TABLE))
    saved = store.save(release_name, full_record())
    assert saved == replace(full_record(), etag=saved.etag) and saved.etag
    assert store.load(release_name) == {"shop": saved}
    loaded = store.load(release_name)["shop"]
    assert loaded.at is not None and loaded.at.tzinfo is not None and type(loaded.at).__name__ == "datetime"


def test_a_fresh_record_has_no_time_and_no_verdict(stack, release_name):
    table = stack.table(JUDGE_TABLE)
    store = TableJudgeStore(table)
    saved = store.save(release_name, JudgeRecord("cart", 0, 1, 5, verdict={}))
    row = table.get_entity(release_name, "cart")
    assert "at" not in row and row["verdict"] == "" and row["streaks"] == "{}" and row["results"] == "[]"
    assert store.load(release_name) == {"cart": JudgeRecord("cart", 0, 1, 5, etag=saved.etag)}


def test_a_row_written_before_streaks_results_and_verdicts_reads_with_none_of_them(stack, release_name):
    table = stack.table(JUDGE_TABLE)
    entity = {"PartitionKey": release_name, "RowKey": "old", "attempt": 1, "flight": 1, "started_ms": "9"}
    table.create_entity({**entity, "evaluation": 2, "published": True, "done": False})
    [record] = TableJudgeStore(table).load(release_name).values()
    assert replace(record, etag=None) == JudgeRecord("old", 1, 1, 9, evaluation=2)


def test_a_release_loads_its_own_records_only(stack, release_name):
    store = TableJudgeStore(stack.table(JUDGE_TABLE))
    other = f"{release_name}-b"
    store.save(release_name, JudgeRecord("shop", 0, 1, 1))
    store.save(release_name, JudgeRecord("cart", 0, 1, 2))
    store.save(other, JudgeRecord("shop", 0, 2, 3))
    assert {k: (r.flight, r.started_ms) for k, r in store.load(release_name).items()} == {
        "shop": (1, 1),
        "cart": (1, 2),
    }
    assert {k: (r.flight, r.started_ms) for k, r in store.load(other).items()} == {"shop": (2, 3)}
    assert store.load(f"{release_name}-none") == {}


def test_a_second_create_and_a_stale_replace_are_conflicts_named_by_release_workload_and_status(stack, release_name):
    store = TableJudgeStore(stack.table(JUDGE_TABLE))
    saved = store.save(release_name, JudgeRecord("shop", 0, 1, 1))
    with pytest.raises(ConflictError) as created:
        store.save(release_name, JudgeRecord("shop", 0, 1, 1))
    assert str(created.value) == f"judge record {release_name}/shop: 409"
    newer = store.save(release_name, replace(saved, evaluation=1))
    assert newer.etag != saved.etag
    with pytest.raises(ConflictError) as stale:
        store.save(release_name, replace(saved, evaluation=2))
    assert str(stale.value) == f"judge record {release_name}/shop: 412"
    store.save(release_name, replace(newer, evaluation=2, done=True))  # the current etag: replaced
    assert store.load(release_name)["shop"].evaluation == 2 and store.load(release_name)["shop"].done


def test_a_replace_writes_the_whole_row(stack, release_name):
    table = stack.table(JUDGE_TABLE)
    store = TableJudgeStore(table)
    saved = store.save(release_name, full_record())
    store.save(release_name, replace(saved, at=None, verdict=None, streaks={}, results=[]))
    row = table.get_entity(release_name, "shop")
    assert "at" not in row and (row["verdict"], row["streaks"], row["results"]) == ("", "{}", "[]")


def test_other_refusals_are_not_conflicts(stack, release_name):
    missing = stack.table_service.get_table_client(f"pinnone{uuid.uuid4().hex[:12]}")  # never created
    with pytest.raises(ResourceNotFoundError):
        TableJudgeStore(missing).save(release_name, JudgeRecord("shop", 0, 1, 1))
