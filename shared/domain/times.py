"""Every way promote writes or keys a moment, in one place: JSON times, history stamps, timer keys.

- `iso`:    RFC 3339 in UTC with a `Z`, as precise as the moment (JSON documents, CloudEvents `time`).
- `iso_s`:  the same to the second (what people read in reasons and gates: no microseconds).
- `stamp`:  a full date as history and status show it: `2026-11-27 09:13:23Z`.
- `ms` / `from_ms`: epoch milliseconds, the instant part of timer keys and ids.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_s(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)
