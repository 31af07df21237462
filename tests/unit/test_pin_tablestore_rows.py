"""Pure parts of the table store no in-process test reached: a message's outcome as its de-duplication marker
keeps it (history.marker_outcome), the shard arithmetic (shards.py) and a release read from its rows
(rows.release_of), whole or partial."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.adapters.table_store.history import marker_outcome
from shared.adapters.table_store.rows import plan_properties, release_counters, release_of
from shared.adapters.table_store.shards import shard_of, shard_range
from shared.domain.model import HistoryEntry, Outcome, new_release
from shared.domain.plan import validate_plan

T = datetime(2026, 11, 27, 9, 13, 23, 123456, tzinfo=UTC)


class StoredTime(datetime):
    """What the SDK gives for an Edm.DateTime (TablesEntityDatetime): a datetime subclass."""


def test_a_marker_reads_back_as_the_outcome_it_keeps():
    marker = {
        "PartitionKey": "rel",
        "RowKey": "m.0f",
        "event_id": "lag-7",
        "at": StoredTime(2026, 11, 27, 9, 13, 23, 123456, tzinfo=UTC),
        "type": "lag-report",
        "outcome": "ignored",
        "reason": "lag within bounds",
        "workload": "w0",
    }
    entry = marker_outcome(marker)
    assert entry == HistoryEntry(
        at=T,
        event_id="lag-7",
        type="lag-report",
        outcome=Outcome.IGNORED,
        reason="lag within bounds",
        workload="w0",
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
    assert type(entry.at) is datetime and entry.outcome is Outcome.IGNORED


def test_a_release_level_marker_has_no_workload_and_missing_texts_read_as_empty():
    entry = marker_outcome({"at": T, "outcome": "applied", "workload": ""})
    assert entry == HistoryEntry(
        at=T,
        event_id="",
        type="",
        outcome=Outcome.APPLIED,
        reason="",
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )


@pytest.mark.parametrize("marker", [{"event_id": "old"}, {"event_id": "old", "at": T, "outcome": ""}])
def test_a_marker_without_an_outcome_tells_none(marker):
    # written before markers kept outcomes (or by a commit with no entry): no outcome to tell
    assert marker_outcome(marker) is None


def test_a_workload_index_falls_in_the_shard_of_its_whole_quotient():
    assert [shard_of(i, 97) for i in (0, 96, 97, 193, 194)] == [0, 0, 1, 1, 2]
    assert type(shard_of(5, 2)) is int


def test_a_shards_rows_are_one_key_range_from_its_head():
    assert shard_range(0) == ("w.0000", "w.0000/")
    assert shard_range(12) == ("w.0012", "w.0012/")


PLAN = validate_plan(
    {
        "release": "rel",
        "model": "single-step",
        "workloads": [{"name": "w0", "assets": ["vm-0"]}, {"name": "w1", "assets": ["vm-1"]}],
    }
)


def test_a_release_is_read_whole_unless_partial():
    release = new_release(PLAN, T)
    head = {**release_counters(release), **plan_properties(PLAN)}
    assert release_of(head, dict(release.workloads)) == release
    # partial: the workloads read, in the plan's order
    only = {"w1": release.workloads["w1"]}
    assert release_of(head, only, partial=True) == release.evolve(workloads=only)
    # whole (the default): a workload of the plan not read is an error, not a smaller release
    with pytest.raises(KeyError, match="w0"):
        release_of(head, only)
