"""When the board says a change window closed (board/timeline.py closed_since), pinned: the latest instant at
or before now right after which the window was closed, a slot's end on the window's own local day, a denied
period beginning one second after another ended, edges that closed nothing, and the 8 days searched back."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.application.board.timeline import closed_since
from shared.domain.plan.time import Windows

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def windows(timezone="UTC", allow=(), deny=()) -> Windows:
    return Windows.model_validate({"timezone": timezone, "allow": list(allow), "deny": list(deny)})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_slot_closes_on_the_windows_local_day_not_utcs():
    """09:00 on 2 December in Auckland is 20:00 on 1 December in UTC: today's slot (local) closed at 08:00."""
    auckland = windows("Pacific/Auckland", allow=[{"days": EVERY_DAY, "from": "06:00", "to": "08:00"}])
    assert closed_since(auckland, utc("2026-12-01T20:00:00")) == utc("2026-12-01T19:00:00")


def test_a_slot_ending_right_now_closed_now():
    paris = windows("Europe/Paris", allow=[{"days": EVERY_DAY, "from": "08:00", "to": "10:00"}])
    assert closed_since(paris, utc("2026-12-02T09:00:00")) == utc("2026-12-02T09:00:00")
    # a second before it: the slot of the day before is the last one that closed
    assert closed_since(paris, utc("2026-12-02T08:59:59")) == utc("2026-12-01T09:00:00")


def test_only_edges_before_now_that_closed_an_open_window_count():
    """A denied period that began while the window was closed already, and one still to come, closed nothing."""
    w = windows(
        allow=[{"days": EVERY_DAY, "from": "08:00", "to": "10:00"}],
        deny=[
            {"from": "2026-12-02T12:00:00", "to": "2026-12-02T13:00:00", "reason": "closed anyway"},
            {"from": "2026-12-03T08:00:00", "to": "2026-12-03T09:00:00", "reason": "tomorrow"},
        ],
    )
    assert closed_since(w, utc("2026-12-02T15:00:00")) == utc("2026-12-02T10:00:00")


def test_a_denied_period_one_second_after_another_closes_the_window_again():
    w = windows(
        deny=[
            {"from": "2026-12-02T08:00:00", "to": "2026-12-02T09:59:59", "reason": "first"},
            {"from": "2026-12-02T10:00:00", "to": "2026-12-02T12:00:00", "reason": "second"},
        ]
    )
    assert closed_since(w, utc("2026-12-02T11:00:00")) == utc("2026-12-02T10:00:00")


def test_none_when_nothing_closed_the_window_before_now():
    ahead = windows(deny=[{"from": "2026-12-03T08:00:00", "to": "2026-12-03T09:00:00", "reason": "tomorrow"}])
    assert closed_since(ahead, utc("2026-12-02T11:00:00")) is None


def test_slots_are_searched_eight_days_back_only():
    """Mondays only; this Monday's slot was denied (from Sunday, while closed): last week's Monday, 9 days
    before this Wednesday, is past the 8 days searched."""
    mondays = windows(
        allow=[{"days": ["mon"], "from": "08:00", "to": "10:00"}],
        deny=[{"from": "2026-11-29T12:00:00", "to": "2026-12-01T00:00:00", "reason": "freeze"}],
    )
    assert closed_since(mondays, utc("2026-12-02T12:00:00")) is None
    assert closed_since(mondays, utc("2026-12-02T12:00:00"), days=9) == utc("2026-11-23T10:00:00")
