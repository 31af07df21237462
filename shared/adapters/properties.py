"""Table Storage property helpers every table of promote uses: long text over several properties, and stored
times read back as plain UTC datetimes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

CHUNK = 30_000  # characters per string property (the service's limit is 32K UTF-16 code units)


def chunks(name: str, text: str) -> dict[str, Any]:
    """`text` (ASCII: one UTF-16 unit a character) split over properties, with their count: a merge that
    writes fewer chunks than before leaves the old surplus chunks behind, and the count says to ignore them."""
    assert text.isascii(), "chunked text must be ASCII (JSON with ensure_ascii)"
    parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    return {**{name if i == 0 else f"{name}_{i}": part for i, part in enumerate(parts)}, f"{name}_chunks": len(parts)}


def unchunk(entity: Mapping[str, Any], name: str) -> str:
    count = entity.get(f"{name}_chunks", 1)
    return entity.get(name, "") + "".join(entity[f"{name}_{i}"] for i in range(1, count))


def when(value: Any) -> datetime:
    """A stored time (the SDK's TablesEntityDatetime, a datetime subclass) as a plain UTC datetime."""
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond, tzinfo=UTC
    )


def quote(value: str) -> str:
    """A string literal inside an OData filter."""
    return value.replace("'", "''")
