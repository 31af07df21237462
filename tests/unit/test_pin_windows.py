"""Change windows (shared/domain/windows.py), at their edges: a slot past midnight, the spring-forward gap and
the repeated autumn hour, denied periods and what `closed` says of each."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.domain.plan import validate_plan
from shared.domain.windows import Closed, _local, closed, is_open, next_opening


def _windows(**section):
    raw = {"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}], "windows": section}
    return validate_plan(raw).windows


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_boundary_in_the_spring_gap_is_the_jump_and_in_the_autumn_hour_its_first_occurrence():
    amsterdam = ZoneInfo("Europe/Amsterdam")
    assert _local(date(2026, 3, 29), time(2, 30), amsterdam) == _utc(2026, 3, 29, 1, 0)
    assert _local(date(2026, 10, 25), time(2, 30), amsterdam) == _utc(2026, 10, 25, 0, 30)
    assert _local(date(2026, 12, 7), time(2, 30), amsterdam) == _utc(2026, 12, 7, 1, 30)
    sunday = _windows(timezone="Europe/Amsterdam", allow=[{"days": ["sun"], "from": "02:30", "to": "04:00"}])
    assert closed(sunday, _utc(2026, 3, 29, 0, 0)) == Closed(
        "outside the allowed slots", _utc(2026, 3, 29, 1, 0), False
    )
    assert is_open(sunday, _utc(2026, 3, 29, 1, 0))
    assert not is_open(sunday, _utc(2026, 3, 29, 2, 0))  # 04:00 CEST


def test_a_slot_past_midnight():
    night = _windows(timezone="UTC", allow=[{"days": ["mon"], "from": "22:00", "to": "02:00"}])
    monday = _utc(2026, 12, 7, 22, 0)
    assert [is_open(night, monday + timedelta(seconds=s)) for s in (-1, 0, 4 * 3600 - 1, 4 * 3600)] == [
        False,
        True,
        True,
        False,
    ]
    assert next_opening(night, monday + timedelta(hours=4)) == _utc(2026, 12, 14, 22, 0)
    assert next_opening(night, monday) == monday


def test_denied_periods_in_the_window_s_zone_both_edges():
    deny = _windows(
        timezone="Europe/Amsterdam",
        deny=[{"from": "2026-12-24T00:00:00", "to": "2026-12-27T00:00:00", "reason": "xmas"}],
    )
    xmas = Closed("denied period: xmas", _utc(2026, 12, 26, 23, 0), True)
    assert closed(deny, _utc(2026, 12, 23, 22, 59, 59)) is None
    assert closed(deny, _utc(2026, 12, 23, 23, 0)) == xmas
    assert closed(deny, _utc(2026, 12, 26, 22, 59, 59)) == xmas
    assert closed(deny, _utc(2026, 12, 26, 23, 0)) is None


def test_a_denied_period_inside_the_slots_opens_at_the_first_slot_after_it():
    both = _windows(
        timezone="UTC",
        allow=[{"days": ["mon"], "from": "22:00", "to": "23:00"}],
        deny=[{"from": "2026-12-07T00:00:00Z", "to": "2026-12-15T00:00:00Z", "reason": "freeze"}],
    )
    assert closed(both, _utc(2026, 12, 7, 22, 30)) == Closed("denied period: freeze", _utc(2026, 12, 21, 22, 0), True)
    year = _windows(
        timezone="UTC",
        allow=[{"days": ["mon"], "from": "22:00", "to": "23:00"}],
        deny=[{"from": "2026-12-01T00:00:00Z", "to": "2027-12-01T00:00:00Z", "reason": "year"}],
    )
    assert closed(year, _utc(2026, 12, 7, 22, 30)) == Closed("denied period: year", _utc(2027, 12, 6, 22, 0), True)


def test_no_windows_is_always_open():
    assert closed(None, _utc(2026, 12, 7)) is None
    assert is_open(None, _utc(2026, 12, 7))
    assert is_open(_windows(timezone="UTC"), _utc(2026, 12, 7))
