"""Durations as a plan writes them: '30s', '10m', '1h30m', '2d', or a number of seconds."""

from __future__ import annotations

import math
import re
from typing import Any

MAX_BAKE_SECONDS = 7 * 24 * 3600  # a scheduled queue message can wait at most seven days
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _text_seconds(value: str) -> int | None:
    m = _DURATION.match(value.strip()) if value else None
    if m is None or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def parse_duration(value: Any, *, limit: int = MAX_BAKE_SECONDS, what: str = "a bake time") -> int:
    """'30s', '10m', '1h30m', '2d' or a whole number of seconds -> seconds (bakes, deadlines, intervals)."""
    if isinstance(value, bool):
        raise ValueError("a duration is text like 30s, 10m or 1h30m")
    seconds = value if isinstance(value, int) else _text_seconds(value) if isinstance(value, str) else None
    if seconds is None:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 1h30m)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > limit:
        raise ValueError(f"{what} can be at most {limit // 86400}d")
    return seconds


def duration(value: Any, *, limit: int, what: str) -> int:
    """The finishing sections' durations (v2 §8: max_lag, max_age, hypercare): as parse_duration, but a whole
    float (5.0) is taken too and the messages name the field."""
    if isinstance(value, bool):
        raise ValueError(f"{what} is a duration like 30s, 10m or 48h")
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value == int(value)):
        seconds: int | None = int(value)
    else:
        seconds = _text_seconds(value) if isinstance(value, str) else None
    if seconds is None:
        raise ValueError(f"{value!r} is not a duration (use e.g. 5s, 2m, 48h)")
    if seconds < 0:
        raise ValueError(f"{what} cannot be negative")
    if seconds > limit:
        raise ValueError(f"{what} can be at most {limit // 86400}d")
    return seconds
