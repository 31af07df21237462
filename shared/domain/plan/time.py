"""The plan's time sections (contract §9): deadlines of the waiting states, and change windows.

A window's `timezone` is an IANA region name, spelt exactly as the tz database does: `Area/Location`
(Europe/Amsterdam, America/Argentina/Buenos_Aires) with Area one of its geographic areas or `Etc` (Etc/UTC,
Etc/GMT-2), or plain `UTC`. validate_plan refuses other names zoneinfo may load, because what they mean
depends on the host: `localtime` (the machine's own zone), `posixrules`, `Factory`, the `posix/` and `right/`
copies, another spelling a case-insensitive file system finds (europe/amsterdam), and the old aliases
(`US/Eastern`, `GB`, `EST5EDT`, `Japan`) the database keeps only for compatibility. The model itself accepts
any zone zoneinfo loads, so a release stored before this rule still reads.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from functools import lru_cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shared.domain.plan.base import Strict
from shared.domain.plan.durations import parse_duration

MAX_DEADLINE_SECONDS = 90 * 24 * 3600  # a later timer arrives early on a 7-day queue and is rescheduled
MAX_DENY_SECONDS = 366 * 24 * 3600
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# The tz database's geographic areas, and Etc (its fixed offsets): every canonical zone is Area/Location.
ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Etc",
    "Europe",
    "Indian",
    "Pacific",
)
_REGION = re.compile(rf"^(?:{'|'.join(ZONE_AREAS)})(?:/[A-Za-z0-9_+-]+){{1,2}}$|^UTC$")


class Deadlines(Strict):
    """How long a workload may wait in each waiting state before `on_deadline` acts (each optional)."""

    replicating: int | None = None
    testing: int | None = None
    approval: int | None = None
    verdict: int | None = None  # counts from the end of the flight's bake

    @field_validator("replicating", "testing", "approval", "verdict", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int | None:
        if value is None:
            return None
        seconds = parse_duration(value, limit=MAX_DEADLINE_SECONDS, what="a deadline")
        if seconds == 0:
            raise ValueError("a deadline must be longer than 0s")
        return seconds


def _clock(value: Any) -> str:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a time of day HH:MM (00:00-23:59, or 24:00 for `to`)")
    return value


def clock_time(value: str) -> time:
    """'HH:MM' -> a time; '24:00' is midnight at the end of the day (00:00, and `to` <= `from` means next day)."""
    hours, minutes = (int(part) for part in value.split(":"))
    return time(hours % 24, minutes)


class AllowSlot(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, max_length=7)
    from_: str = Field(alias="from")  # HH:MM, local time of the window's timezone
    to: str  # HH:MM; not after `from`: the slot runs past midnight into the next day

    _times = field_validator("from_", "to")(_clock)

    @field_validator("days")
    @classmethod
    def _unique_days(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError("days must be unique")
        return days

    @model_validator(mode="after")
    def _not_empty(self) -> AllowSlot:
        if self.from_ == "24:00":
            raise ValueError("`from` must be 00:00-23:59")
        if clock_time(self.from_) == clock_time(self.to) and self.to != "24:00":
            raise ValueError("`from` and `to` are equal: the slot would be empty (use 00:00-24:00 for a whole day)")
        return self

    @property
    def start(self) -> time:
        return clock_time(self.from_)

    @property
    def end(self) -> time:
        return clock_time(self.to)


class DenyPeriod(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: datetime = Field(alias="from")  # local time of the window's timezone, unless it names an offset
    to: datetime
    reason: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _ordered(self) -> DenyPeriod:
        if (self.from_.tzinfo is None) != (self.to.tzinfo is None):
            raise ValueError("`from` and `to` must both be local times, or both carry an offset")
        if self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        if (self.to - self.from_).total_seconds() > MAX_DENY_SECONDS:
            raise ValueError("a denied period can be at most 366 days")
        return self


class Windows(Strict):
    """Moves onto the migrated system happen only inside `allow` (if any) and never inside `deny`."""

    timezone: str = Field(min_length=1, max_length=64)
    allow: list[AllowSlot] = Field(default_factory=list, max_length=50)
    deny: list[DenyPeriod] = Field(default_factory=list, max_length=50)
    advance_when_denied: bool = False  # whether an approver's `advance` may grow a flight inside a denied period

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Amsterdam, UTC)") from None
        return value


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    from zoneinfo import available_timezones

    return frozenset(available_timezones())  # the names as spelt, from the OS's tz database and tzdata's


def zone_problem(name: str) -> str | None:
    """Why a window's timezone is refused at apply (None: an IANA region name every host reads alike)."""
    if _REGION.match(name) and name in _known_zones():
        return None
    return (
        f"{name!r} is not an IANA region name: use Area/Location as the tz database spells it (e.g. "
        "Europe/Amsterdam, America/New_York, Etc/GMT-2) or UTC, not a host's own name or an old alias"
    )
