"""Pure parts of the table store no in-process test pinned: a message's outcome as its de-duplication marker
keeps it (history.marker_outcome), a release-wide decision's entries from their JSON and a shard head's
properties (shards.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.adapters.table_store.history import entry_from_json, marker_outcome
from shared.adapters.table_store.shards import (
    caught_up_properties,
    packed,
    unpacked,
    workload_json,
)
from shared.domain.model import HistoryEntry, Outcome, Workload

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


def test_a_workloads_entry_of_a_release_wide_decision_reads_back_from_its_json_with_every_field():
    entry = HistoryEntry(
        at=T,
        event_id="abort-1",
        type="override",
        outcome=Outcome.APPLIED,
        reason="aborted by ops",
        workload="w3",
        from_state="flighting",
        to_state="aborted",
        traffic_percent=25,
        actor="ops@contoso.com",
        flight=2,
        source="promote-cli/override",
        actor_reason="cancelled",
    )
    doc = entry.to_json()
    assert doc["at"] == "2026-11-27T09:13:23.123456Z"
    assert entry_from_json(doc) == entry
    sparse = {"at": "2026-11-27T09:13:23Z", "event_id": "e", "type": "t", "outcome": "ignored", "reason": "r"}
    assert entry_from_json(sparse) == HistoryEntry(
        at=T.replace(microsecond=0),
        event_id="e",
        type="t",
        outcome=Outcome.IGNORED,
        reason="r",
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )


def test_a_caught_up_shard_clears_its_pending_changes():
    assert caught_up_properties(4) == {"epoch": 4, "pending_epoch": 4, "pending": "", "pending_chunks": 1}


def test_a_pending_workloads_times_keep_their_own_zone():
    # equal instants in two zones are equal datetimes: the text of one must not stand for the other
    utc = datetime(2026, 11, 27, 7, 1, 2, 345678, tzinfo=UTC)
    plus_two = utc.astimezone(timezone(timedelta(hours=2)))
    assert utc == plus_two
    assert workload_json(Workload(name="w", state_since=utc))["state_since"] == "2026-11-27T07:01:02.345678+00:00"
    assert workload_json(Workload(name="w", state_since=plus_two))["state_since"] == "2026-11-27T09:01:02.345678+02:00"


def test_packed_json_is_compact_deflated_at_level_6_in_base64():
    assert packed("p", [1, 2]) == {"p": "eJyLNtQxigUAA9UBSA==", "p_chunks": 1}
    doc = {f"w{i}": {"state": "ready", "n": i * i % 7} for i in range(40)}
    assert packed("p", doc) == {
        "p": (
            "eJx90zsOg0AMhOG7uKbI2uTFbZBCmyJBQhHi7hE79T/1yNj+8O6xXWLa47vO6xJTfJb59Ysh3jFdjiG2BmE7w4RwPMOCMM9wdOHV"
            "ffbmBrq7VR6u8ul6NiLq4zYyUmqRGin1oRox6deQk2oJSn1JSjMTlVJrlWSliyGrvlGSlWrJSn3tSSVZKbVWSVaaiqy0EVn12iIr"
            "PSB7V0VWSq1VkZWmIqu+UdkHWGSlvvauiqzyOP5ME10j"
        ),
        "p_chunks": 1,
    }
    assert unpacked(packed("p", doc), "p") == doc
