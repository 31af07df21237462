"""Change windows, pure: is a move onto the migrated system allowed at an instant, and when does it open next.

Allowed slots are local wall-clock times of the plan's timezone (zoneinfo). Each slot of each local day is
turned into one UTC interval whose boundaries are the first instants the wall clock shows their time: a
boundary inside the spring-forward gap is the jump itself (02:30 on a day the clock jumps 02:00 -> 03:00
is the instant it shows 03:00), one inside the repeated autumn hour is its first occurrence. A slot whose
`to` is not after its `from` runs past midnight into the next day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # only types: the plan does not need this module to validate
    from shared.domain.plan import DenyPeriod, Windows

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 8  # a weekly slot opens within 8 local days, unless a denied period is in the way
MAX_SEARCH_DAYS = 800  # denied periods are at most 366 days (plan), so an opening is always found in this


@dataclass(frozen=True)
class Closed:
    """Why the window is closed now, and when it opens next (None: it never opens again)."""

    reason: str
    opens: datetime | None
    denied: bool  # inside a denied period (not just outside the allowed slots)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant the wall clock of `zone` shows `at` (or later) on `day`, in UTC."""
    naive = datetime.combine(day, at)
    instant = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of a repeated hour
    if instant.astimezone(zone).replace(tzinfo=None) == naive:
        return instant
    # `at` does not exist that day (the clock jumps over it): the boundary is the jump. fold=1 resolves it to
    # an instant before the jump, fold=0 to one after; bisect between them to the second.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _slot_intervals(windows: Windows, zone: ZoneInfo, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    day = first
    while day <= last:
        weekday = DAYS[day.weekday()]
        for slot in windows.allow:
            if weekday in slot.days:
                start = _local(day, slot.start, zone)
                end_day = day if slot.end > slot.start else day + timedelta(days=1)
                end = _local(end_day, slot.end, zone)
                if end > start:
                    yield start, end
        day += timedelta(days=1)


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    """A denied period's bound: local to the window's timezone unless it names an offset."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return _local(moment.date(), moment.time(), zone)


def _denied(windows: Windows, zone: ZoneInfo, now: datetime) -> tuple[DenyPeriod, datetime] | None:
    for period in windows.deny:
        start, end = _instant(period.from_, zone), _instant(period.to, zone)
        if start <= now < end:
            return period, end
    return None


def _in_allowed_slot(windows: Windows, zone: ZoneInfo, now: datetime) -> bool:
    if not windows.allow:
        return True
    today = now.astimezone(zone).date()
    return any(start <= now < end for start, end in _slot_intervals(windows, zone, today - timedelta(days=1), today))


def is_open(windows: Windows | None, now: datetime) -> bool:
    if windows is None:
        return True
    zone = ZoneInfo(windows.timezone)
    return _denied(windows, zone, now) is None and _in_allowed_slot(windows, zone, now)


def next_opening(windows: Windows, now: datetime) -> datetime | None:
    """The first instant at or after `now` at which the window is open (None if it never opens again)."""
    zone = ZoneInfo(windows.timezone)
    if is_open(windows, now):
        return now
    candidates: set[datetime] = set()
    horizon = now
    for period in windows.deny:
        end = _instant(period.to, zone)
        if end > now:
            candidates.add(end)
            horizon = max(horizon, end)
    today = now.astimezone(zone).date()
    last = horizon.astimezone(zone).date() + timedelta(days=SEARCH_DAYS)
    last = min(last, today + timedelta(days=MAX_SEARCH_DAYS))
    for start, _end in _slot_intervals(windows, zone, today - timedelta(days=1), last):
        if start > now:
            candidates.add(start)
    for candidate in sorted(candidates):
        if is_open(windows, candidate):
            return candidate
    return None


def closed(windows: Windows | None, now: datetime) -> Closed | None:
    """None when a move may happen now; otherwise why not and when it may."""
    if windows is None:
        return None
    zone = ZoneInfo(windows.timezone)
    denied = _denied(windows, zone, now)
    if denied is None and _in_allowed_slot(windows, zone, now):
        return None
    opens = next_opening(windows, now)
    if denied is not None:
        period, _ = denied
        return Closed(reason=f"denied period: {period.reason}", opens=opens, denied=True)
    return Closed(reason="outside the allowed slots", opens=opens, denied=False)
