"""The store's queries read the service's JSON and convert it with the SDK's own converter (table_store/query.py):
the entities are the SDK's, page after page, and a failure is the SDK's error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.data.tables import EdmType, EntityProperty

from bench.metering import RequestCounter
from shared.adapters.table_store import query
from shared.application.bootstrap import Stack


@pytest.fixture
def counted(settings):
    counter = RequestCounter()
    return Stack(settings, request_hook=counter).table(f"query{uuid.uuid4().hex[:12]}"), counter


def test_every_kind_of_property_reads_as_the_sdk_reads_it(counted):
    table, _ = counted
    table.create_entity(
        {
            "PartitionKey": "p'1",
            "RowKey": "a",
            "text": "ünïcode ' quote",
            "small": 7,
            "big": EntityProperty(2**40, EdmType.INT64),
            "ratio": 2.5,
            "flag": True,
            "at": datetime(2026, 12, 7, 19, 0, 1, 123456, tzinfo=UTC),
            "packed": b"\x00\x01zlib",
            "id": uuid.UUID(int=5),
        }
    )
    table.create_entity({"PartitionKey": "p'1", "RowKey": "b", "only": "one"})
    table.create_entity({"PartitionKey": "other", "RowKey": "a", "only": "elsewhere"})
    sdk = list(table.query_entities("PartitionKey eq 'p''1'"))
    ours = query.entities(table, "PartitionKey eq 'p''1'")
    assert [dict(e) for e in ours] == [dict(e) for e in sdk] and len(ours) == 2
    assert [e.metadata for e in ours] == [e.metadata for e in sdk]
    assert ours[0]["packed"] == b"\x00\x01zlib" and ours[0]["big"] == EntityProperty(2**40, EdmType.INT64)
    selected = query.entities(table, "PartitionKey eq 'p''1'", select=["only"])
    assert [dict(e) for e in selected] == [
        dict(e) for e in table.query_entities("PartitionKey eq 'p''1'", select=["only"])
    ]
    assert [e.get("only") for e in selected] == [None, "one"]


def test_a_query_of_more_than_a_page_follows_the_continuation(counted):
    table, counter = counted
    for first in range(0, 1203, 100):
        table.submit_transaction(
            [
                ("create", {"PartitionKey": "p", "RowKey": f"r{i:05d}", "i": i})
                for i in range(first, min(first + 100, 1203))
            ]
        )
    counter.reset()
    rows = query.entities(table, "PartitionKey eq 'p' and RowKey ge 'r00001'")
    assert [r["i"] for r in rows] == list(range(1, 1203))
    assert counter.by_kind["query"] == 2  # 1,000 and 202: a page is at most 1,000 entities


def test_a_failed_query_raises_the_sdks_error(settings):
    missing = Stack(settings).table(f"query{uuid.uuid4().hex[:12]}")
    missing.delete_table()
    with pytest.raises(ResourceNotFoundError) as ours:
        query.entities(missing, "PartitionKey eq 'p'")
    with pytest.raises(ResourceNotFoundError) as sdk:
        list(missing.query_entities("PartitionKey eq 'p'"))
    assert ours.value.error_code == sdk.value.error_code == "TableNotFound"
    table = Stack(settings).table(f"query{uuid.uuid4().hex[:12]}")
    with pytest.raises(HttpResponseError) as bad:
        query.entities(table, "PartitionKey eq")  # not a filter
    assert bad.value.status_code == 400


class Paging:
    """A wrapper that answers queries itself (as the tests' paging tables and fault injectors do)."""

    def __init__(self, inner):
        self.inner, self.asked = inner, 0

    def query_entities(self, query_filter, **kwargs):
        self.asked += 1
        return self.inner.query_entities(query_filter, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Delegating:
    """A wrapper that only intercepts writes: its reads go through the client it wraps."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_wrapper_that_answers_queries_is_asked_and_one_that_only_delegates_reads_through_its_client(counted):
    table, _ = counted
    table.create_entity({"PartitionKey": "p", "RowKey": "a"})
    paging = Paging(table)
    assert [r["RowKey"] for r in query.entities(paging, "PartitionKey eq 'p'")] == ["a"] and paging.asked == 1
    assert [r["RowKey"] for r in query.entities(Delegating(table), "PartitionKey eq 'p'")] == ["a"]


def test_the_next_page_is_asked_for_in_the_callers_context(settings):
    import contextvars

    whose = contextvars.ContextVar("whose", default="nobody")
    seen: list[str] = []
    table = Stack(settings, request_hook=lambda request: seen.append(whose.get())).table(
        f"query{uuid.uuid4().hex[:12]}"
    )
    for first in range(0, 2100, 100):
        table.submit_transaction(
            [("create", {"PartitionKey": "p", "RowKey": f"r{i:05d}"}) for i in range(first, first + 100)]
        )
    seen.clear()
    whose.set("the message")
    assert len(query.entities(table, "PartitionKey eq 'p'")) == 2100
    assert seen == ["the message"] * 3  # 1,000 + 1,000 + 100: the last two asked for ahead, on another thread
