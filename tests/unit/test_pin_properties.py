"""Table Storage property helpers (shared/adapters/properties.py): long text over several properties and back,
stored times as plain UTC datetimes, and quotes inside an OData filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.adapters.properties import chunks, quote, unchunk, when


def test_text_up_to_30000_characters_is_one_property_with_its_count():
    assert chunks("plan", "") == {"plan": "", "plan_chunks": 1}
    assert chunks("plan", "x" * 30_000) == {"plan": "x" * 30_000, "plan_chunks": 1}


def test_longer_text_goes_on_in_numbered_properties():
    text = "a" * 30_000 + "b" * 30_000 + "c"
    assert chunks("plan", text) == {"plan": "a" * 30_000, "plan_1": "b" * 30_000, "plan_2": "c", "plan_chunks": 3}
    assert unchunk(chunks("plan", text), "plan") == text


def test_only_ascii_text_is_chunked():
    with pytest.raises(AssertionError, match="chunked text must be ASCII"):
        chunks("plan", "é")


def test_unchunk_reads_as_many_chunks_as_the_count_says_ignoring_a_longer_writes_surplus():
    entity = {"plan": "ab", "plan_1": "cd", "plan_2": "stale", "plan_chunks": 2}
    assert unchunk(entity, "plan") == "abcd"
    assert unchunk({"plan": "ab", "plan_1": "cd"}, "plan") == "ab"  # no count: one property (rows before chunking)
    assert unchunk({}, "plan") == ""
    with pytest.raises(KeyError):
        unchunk({"plan": "ab", "plan_chunks": 2}, "plan")  # a chunk missing is an error, not a shorter text


def test_a_stored_time_is_a_plain_utc_datetime_to_the_microsecond():
    class Stored(datetime):  # what the SDK returns: a datetime subclass
        pass

    stored = Stored(2026, 11, 26, 22, 1, 2, 345678, tzinfo=UTC)
    got = when(stored)
    assert got == datetime(2026, 11, 26, 22, 1, 2, 345678, tzinfo=UTC)
    assert type(got) is datetime and got.tzinfo is UTC
    # the wall-clock fields are taken as they are: the store keeps UTC
    assert when(datetime(2026, 1, 2, 3, 4, 5, 6)) == datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert when(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))).hour == 3


def test_a_quote_inside_a_filter_literal_is_doubled():
    assert quote("o'brien's") == "o''brien''s"
    assert quote("plain") == "plain"
