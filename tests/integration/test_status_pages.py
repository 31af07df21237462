"""`promote status` a page at a time (contract §14) on a real Azurite with small shards: counts by state,
attention and what holds the release from the summaries, a page of workloads in full from the shards it
covers, the same requests for 12 or 40 workloads, and a release-wide move its shards have not caught up with
shown as moved."""

from __future__ import annotations

import dataclasses

import pytest

from bench.metering import RequestCounter
from shared.adapters.table_store.pages import PageReads
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.status_page import PageError, status_page
from shared.application.views import release_status, status_doc_text
from shared.domain.plan import validate_plan
from tests.fakes import event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


@pytest.fixture
def sharded(settings):
    return dataclasses.replace(settings, shard_size=3)


def plan(name: str, n: int, model: str = "staged") -> dict:
    return {
        "release": name,
        "model": model,
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": f"w{i:02d}", "assets": [f"vm-{i}"]} for i in range(n)],
    }


def ready(stack: Stack, name: str, workloads: list[str]) -> None:
    for w in workloads:
        stack.service.handle(event("asset-replicated", name, w, f"a-{w}", asset=f"vm-{int(w[1:])}"))
        stack.service.handle(event("tests-passed", name, w, f"t-{w}"))


def page(stack: Stack, name: str, **kw) -> dict:
    return status_page(PageReads(stack.table(RELEASES_TABLE)), stack.judge_records, name, stack.clock.now(), **kw)


def test_a_page_shows_counts_holds_attention_and_its_workloads_in_full(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name, 12)))
    ready(stack, release_name, [f"w{i:02d}" for i in range(9)])
    stack.service.handle(
        event("override", release_name, "w10", "p", action="pause", actor=OPERATOR, reason="DBA on leave")
    )
    doc = page(stack, release_name, size=4, page=2)
    assert doc["counts"] == {"replicating": 3, "ready": 9} and doc["total"] == 12
    assert [w["name"] for w in doc["workloads"]] == ["w04", "w05", "w06", "w07"]
    assert doc["workloads"][0]["assets"] == {"vm-4": "replicated"} and doc["workloads"][0]["tests_passed"]
    assert doc["page"] == {"number": 2, "pages": 3, "size": 4, "matching": 12}
    gates = {h["gate"]: h for h in doc["holds"]}
    assert gates["approval"]["workload_count"] == 9
    assert gates["release"]["workloads"] == ["w09", "w10", "w11"]
    assert gates["paused"]["workloads"] == ["w10"]
    # w10 is not on the page: its attention item comes from the summaries (no who or why)
    assert [a["workload"] for a in doc["attention"]] == ["w10"]
    on_page = page(stack, release_name, workload="w10")
    assert "by ops@contoso.com" in on_page["attention"][0]["why"] and "DBA on leave" in on_page["attention"][0]["why"]
    # each workload's gates as the whole release's status shows them, but `release`: on a page, the others
    # that are not ready (approval holds the rest: among the release's holds)
    whole = {
        w["name"]: w
        for w in release_status(stack.store, stack.judge_records, release_name, stack.clock.now())["workloads"]
    }
    for w in doc["workloads"]:
        assert [g for g in w["waiting_for"] if g["gate"] != "release"] == [
            g for g in whole[w["name"]]["waiting_for"] if g["gate"] != "release"
        ]
        assert [g["workloads"] for g in w["waiting_for"] if g["gate"] == "release"] == [["w09", "w10", "w11"]]
    text = status_doc_text(doc)
    assert "3 replicating, 9 ready (12 workloads)" in text
    assert "approval by one of ana@contoso.com (9 ready, not approved)" in text
    assert "3 workload(s) not ready: w09, w10, w11" in text
    assert "workloads 5-8 of 12, page 2 of 3; next: promote status --release" in text and "--page 3" in text


def test_filters_and_pages_past_the_last(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name, 12)))
    ready(stack, release_name, ["w01", "w07", "w11"])
    doc = page(stack, release_name, state="ready")
    assert [w["name"] for w in doc["workloads"]] == ["w01", "w07", "w11"]
    assert doc["filter"] == {"state": "ready"} and doc["page"]["matching"] == 3
    assert page(stack, release_name, state="promoted")["workloads"] == []
    with pytest.raises(PageError, match="page 2 of release .*: there are 1 page"):
        page(stack, release_name, state="ready", page=2)
    with pytest.raises(PageError, match="'nope' is not part of release"):
        page(stack, release_name, workload="nope")


@pytest.mark.parametrize("n", [12, 40])
def test_a_page_costs_the_summaries_and_the_shards_it_covers_whatever_the_release(sharded, release_name, n):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name, n)))
    ready(stack, release_name, ["w02", "w09"])
    counter = RequestCounter()
    reads = PageReads(Stack(sharded, request_hook=counter).table(RELEASES_TABLE))
    reads.table.get_entity  # noqa: B018 - the table client exists before counting
    counter.reset()
    doc = status_page(reads, stack.judge_records, release_name, stack.clock.now(), size=6, page=2)
    assert [w["name"] for w in doc["workloads"]] == [f"w{i:02d}" for i in range(6, 12)]
    assert dict(counter.by_kind) == {"query": 2}  # the summaries, then shards 2 and 3 (adjacent): one range
    counter.reset()
    status_page(reads, stack.judge_records, release_name, stack.clock.now(), state="ready")
    assert dict(counter.by_kind) == {"query": 3}  # the summaries, then shards 0 and 3: one query each


def test_a_release_wide_move_not_caught_up_shows_on_the_page_as_moved(sharded, release_name):
    stack = Stack(sharded)
    stack.service.apply(validate_plan(plan(release_name, 9, model="single-step")))
    store = stack.store

    def crash(read, etags):
        raise RuntimeError("host killed after the commit point")

    store._catch_up = crash
    with pytest.raises(RuntimeError):
        stack.service.handle(
            event("override", release_name, None, "pause-all", action="pause", actor=OPERATOR, reason="freeze")
        )
    rows = {r["RowKey"]: r for r in stack.table(RELEASES_TABLE).query_entities(f"PartitionKey eq '{release_name}'")}
    assert not rows["w.0001.w04"].get("paused")  # the rows lag
    doc = page(Stack(sharded), release_name, size=4, page=2)
    assert [(w["name"], w["paused"], w["paused_by"]) for w in doc["workloads"]] == [
        (f"w{i:02d}", True, OPERATOR) for i in range(4, 8)
    ]
    assert {h["gate"]: h["workload_count"] for h in doc["holds"]} == {"paused": 9}
