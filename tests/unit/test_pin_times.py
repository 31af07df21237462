"""The one time-format module (shared/domain/times.py) and the domain's error texts (shared/domain/errors.py),
pinned with literal values: these strings are what history, JSON documents and timer keys hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.domain.errors import PlanError, PromoteError, UnknownRelease
from shared.domain.times import from_ms, iso, iso_s, ms, stamp

PLUS_TWO = timezone(timedelta(hours=2))
MOMENT = datetime(2026, 11, 27, 11, 13, 23, 456789, tzinfo=PLUS_TWO)  # 09:13:23.456789Z


def test_iso_is_utc_with_a_z_as_precise_as_the_moment():
    assert iso(MOMENT) == "2026-11-27T09:13:23.456789Z"
    assert iso(datetime(2026, 11, 27, 9, 13, 23, tzinfo=UTC)) == "2026-11-27T09:13:23Z"
    assert iso(None) is None


def test_iso_s_is_the_same_to_the_second():
    assert iso_s(MOMENT) == "2026-11-27T09:13:23Z"
    assert iso_s(None) is None


def test_stamp_is_the_date_history_shows():
    assert stamp(MOMENT) == "2026-11-27 09:13:23Z"


def test_ms_and_from_ms_are_epoch_milliseconds():
    assert ms(MOMENT) == 1795770803456
    assert ms(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)) == 1000
    assert from_ms(1795770803456) == datetime(2026, 11, 27, 9, 13, 23, 456000, tzinfo=UTC)
    assert from_ms(1795770803456).tzinfo is UTC
    assert from_ms(1500) == datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)


def test_plan_error_lists_each_problem_and_counts_them():
    one = PlanError([("workloads[0].name", "is required")])
    assert str(one) == "invalid plan (1 problem):\n  workloads[0].name: is required"
    assert one.problems == [("workloads[0].name", "is required")]
    two = PlanError([("", "must be an object"), ("model", "unknown model 'x'")])
    assert str(two) == "invalid plan (2 problems):\n  (plan): must be an object\n  model: unknown model 'x'"
    assert str(PlanError([])) == "invalid plan (0 problems):\n"
    assert isinstance(two, PromoteError)


def test_unknown_release_names_it():
    error = UnknownRelease("r-1")
    assert error.release == "r-1"
    assert str(error) == "release 'r-1' was never applied"
    with pytest.raises(PromoteError):
        raise error


@pytest.fixture
def amsterdam_host(monkeypatch):
    """The host's local time zone is not UTC (a developer's machine running the local stack)."""
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_formats_are_utc_whatever_the_host_s_zone(amsterdam_host):
    assert datetime(2026, 11, 27, 9, 0).astimezone().utcoffset() == timedelta(hours=1)  # the zone took
    assert iso(MOMENT) == "2026-11-27T09:13:23.456789Z"
    assert iso_s(MOMENT) == "2026-11-27T09:13:23Z"
    assert stamp(MOMENT) == "2026-11-27 09:13:23Z"
