"""When a wave ends (v3 §19), forecast from the pace so far, on the board's releases page.

Each release of the wave still under way has a pace: the workloads it promoted (or finalized) over the time
since it was applied. Its remaining workloads at that pace give when it ends; the wave ends when its last
release does. No forecast, and why, when there is no basis: a release that has promoted nothing yet (a wave
whose later releases wait for earlier ones via `after` has none until they begin), or one whose start the
page did not read (only the most recently changed releases under way are read: board/summary.py). Pure: the
rows and `now` are given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.domain.model import TERMINAL, ReleaseState


def left(row: dict[str, Any]) -> int:
    """The release's workloads still to do: not promoted, finalized or aborted (an aborted one left it)."""
    return sum(n for state, n in row["by_state"] if state not in TERMINAL)


def release_end(row: dict[str, Any], now: datetime) -> tuple[datetime | None, str | None]:
    """(when the release ends at its pace so far, None) or (None, why there is no forecast)."""
    done, total, remaining = row["progress"]["promoted"], row["progress"]["total"], left(row)
    if remaining == 0:
        return now, None
    if row["state"] == ReleaseState.ROLLED_BACK:  # every workload done or rolled back: no pace goes on
        return None, f"{row['name']} is rolled back: nothing moves until a workload is retried"
    started = row.get("started")
    if started is None:
        return None, f"{row['name']}'s start was not read here (open the release)"
    if done == 0:
        return None, f"{row['name']} has promoted nothing yet, so there is no pace to go by"
    elapsed = (now - started).total_seconds()
    if elapsed <= 0:
        return None, f"{row['name']} has only just started"
    try:
        return now + timedelta(seconds=remaining * elapsed / done), None
    except OverflowError:  # a pace of centuries (a release left alone for months, a skewed start)
        days = int(elapsed // 86400)
        return (
            None,
            f"{row['name']} at its pace so far ({done} of {total} in {days} days) would not end before the year 9999",
        )


def wave_forecast(rows: list[dict[str, Any]], finished: Any, now: datetime) -> dict[str, Any]:
    """{"state": "finished" | "forecast" | "none", "at", "remaining", "why"} of the wave whose releases are `rows`
    (`finished`: the release states that count as done)."""
    open_rows = [r for r in rows if r["state"] not in finished]
    if not open_rows:
        return {"state": "finished", "at": None, "remaining": None, "why": None}
    ends, missing = [], []
    for row in open_rows:
        end, why = release_end(row, now)
        if end is None:
            missing.append(why)
        else:
            ends.append(end)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        return {"state": "none", "at": None, "remaining": None, "why": f"{missing[0]}{more}"}
    remaining = sum(left(r) for r in open_rows)
    return {"state": "forecast", "at": max(ends), "remaining": remaining, "why": None}
