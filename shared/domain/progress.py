"""A release-level move's routing progress (contract §15): how many of its workloads are moved, of how many, and
when it will be done; once it is over, how long it took. Pure: the times are passed in.

The executor (shared/application/routing_progress.py) records one of these now and then while a batch moves;
status and the board read the last one. The ETA comes from the same budget the forecast and the pacing use
(shared/domain/budget.py): never earlier than the move's forecast, and never earlier than the pace it has kept
so far (a bucket shared with callers promote cannot see, 429s waited out, slow operations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.times import iso_s

STALE_S = 60.0  # an unfinished move not recorded for this long was cut short (its redelivery carries it on)


@dataclass(frozen=True)
class RoutingProgress:
    done: int  # workloads whose routing is in place
    total: int
    writes_done: int  # Azure writes spent so far (coalesced: a route table's routes are one)
    writes: int
    started_at: datetime
    at: datetime  # when this was recorded
    forecast_s: float  # the move's forecast under its budget, from its start
    took_s: float | None = None  # set once every unit is carried out (or the move failed)
    failed: bool = False  # the move failed part way and what it moved was put back (effects.carry_out)

    @property
    def finished(self) -> bool:
        return self.took_s is not None

    def eta(self) -> datetime | None:
        """When the move will be done: its forecast, or the pace it has kept so far if that is slower."""
        if self.finished:
            return None
        elapsed = max(0.0, (self.at - self.started_at).total_seconds())
        seconds = self.forecast_s
        done, total = (self.writes_done, self.writes) if self.writes else (self.done, self.total)
        if done:
            seconds = max(seconds, elapsed * total / done)
        return self.started_at + timedelta(seconds=max(seconds, elapsed))

    def to_json(self, now: datetime) -> dict[str, Any]:
        """status --json's `routing_progress` (contract §15: done, total, started_at, eta), with the writes, the
        seconds still to go as of `now`, and, once over, the seconds it took."""
        eta = self.eta()
        return {
            "done": self.done,
            "total": self.total,
            "started_at": iso_s(self.started_at),
            "eta": iso_s(eta),
            "eta_s": None if eta is None else max(0, round((eta - now).total_seconds())),
            "writes_done": self.writes_done,
            "writes": self.writes,
            "recorded_at": iso_s(self.at),
            "stale": not self.finished and (now - self.at).total_seconds() > STALE_S,
            "took_s": None if self.took_s is None else round(self.took_s, 1),
            "failed": self.failed,
        }


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def progress_text(doc: dict[str, Any]) -> str:
    """One line of status and the board: `routing: 1,234 / 5,000 workloads (310 / 795 Azure writes), ETA 3 min`
    while the move goes on, `routing took 82 s (5,000 workloads, 795 Azure writes)` once it is over."""
    if doc.get("failed"):
        writes = f"{doc['writes_done']:,} / {doc['writes']:,} Azure writes"
        done = f"{doc['done']:,} / {doc['total']:,} workloads ({writes})"
        return f"routing failed after {done} in {_duration(doc['took_s'] or 0)}: put back"
    if doc.get("took_s") is not None:
        return f"routing took {_duration(doc['took_s'])} ({doc['total']:,} workloads, {doc['writes']:,} Azure writes)"
    writes = f"{doc['writes_done']:,} / {doc['writes']:,} Azure writes"
    line = f"routing: {doc['done']:,} / {doc['total']:,} workloads ({writes})"
    if doc.get("stale"):
        return (
            f"{line} when last recorded at {doc['recorded_at']}: the move was cut short; its redelivery carries it on"
        )
    eta = doc.get("eta_s")
    return f"{line}, ETA {'any moment' if not eta else _duration(eta)}"


# How history words a batch's routing (effects.py), so a notice can carry the time it took (notices.py).
def took_words(workloads: int, writes: int, seconds: float) -> str:
    return f"routing of {workloads} workloads: {writes} Azure writes in {seconds:.1f}s"


_TOOK = re.compile(r"routing of \d+ workloads: \d+ Azure writes in \d+(?:\.\d+)?s")


def took_in(reason: str) -> str | None:
    """The words of `took_words` in a history reason, if there are any."""
    found = _TOOK.search(reason)
    return found.group(0) if found else None
