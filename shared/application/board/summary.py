"""The releases list an operator reads at 3 a.m. (v3 §19): per release what holds it, its overdue workloads and
its `attention` list, and the releases grouped by wave with totals.

What holds a release comes from its workloads' summaries (the index's one query). Deadlines need each
workload's times, which summaries do not keep: for a release still under way the board reads its open
workloads in full, at most CHECKED of them (one query for its record and summaries, one a run of shards), so
the index costs two requests an active release, however large, for the CHECKED_RELEASES most recently changed
ones; beyond CHECKED the count says "at least", beyond CHECKED_RELEASES the list says it did not read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.application.board.acting import whole
from shared.application.gates_view import holds_json
from shared.domain.attention import attention
from shared.domain.gates import waiting_period
from shared.domain.model import TERMINAL, Release, ReleaseState, Workload

CHECKED = 50  # open workloads of a release whose deadlines the index reads
CHECKED_RELEASES = 20  # releases under way whose deadlines the index reads (the most recently changed)
FINISHED = (ReleaseState.PROMOTED, ReleaseState.FINALIZED, ReleaseState.ABORTED)
NO_WAVE = ""


def overdue(release: Release, w: Workload, now: datetime) -> datetime | None:
    """The deadline `w` passed (its current waiting period's), or None."""
    period = waiting_period(release, w)
    deadline = period.deadline if period else None
    return deadline if deadline is not None and now >= deadline else None


def deadline_of(release: Release, w: Workload, now: datetime) -> dict[str, Any] | None:
    """{"at", "overdue", "kind"} of `w`'s current waiting period's deadline, or None when it has none."""
    period = waiting_period(release, w)
    if period is None or period.deadline is None:
        return None
    return {"at": period.deadline, "overdue": now >= period.deadline, "kind": period.kind}


def under_way(summary: Release) -> bool:
    """A release whose deadlines the index reads: not finished, some workload open."""
    return summary.state not in FINISHED and any(w.state not in TERMINAL for w in summary.workloads.values())


def looked_at(reads: Any, summary: Release) -> tuple[Release, bool, datetime | None]:
    """The release with its first CHECKED open workloads read in full (their times: deadlines, why each is
    paused), whether that is every open one, and when it was applied (its record says: the wave's forecast).
    A finished release is its summary."""
    if not under_way(summary):
        return summary, True, None
    open_ = [w.name for w in summary.workloads.values() if w.state not in TERMINAL]
    overview = reads.overview(summary.name)
    created = (getattr(overview, "record", None) or {}).get("created_at")
    started = created if isinstance(created, datetime) else None
    return whole(overview.release, reads.workloads(overview, open_[:CHECKED])), len(open_) <= CHECKED, started


def holds_text(holds: list[dict[str, Any]]) -> list[str]:
    """What holds a release (gates_view.holds_json), in words."""
    said = []
    for h in holds:
        gate, count = h["gate"], h.get("workload_count")
        if gate == "after":
            said.append(f"waits for release {', '.join(h['releases'])}")
        elif gate == "window":
            said.append(f"change window closed ({h['reason']}); opens {h['opens']}")
        elif gate == "approval":
            said.append(f"approval of {count} workload{'s' if count != 1 else ''} by {', '.join(h['approvers'])}")
        elif gate == "release":
            said.append(f"{count} workload{'s' if count != 1 else ''} not ready: {', '.join(h['workloads'])}")
        elif gate == "paused":
            said.append(f"{count} paused: {', '.join(h['workloads'])}")
        else:
            said.append(str(gate))
    return said


def watch(release: Release, complete: bool, now: datetime) -> dict[str, Any]:
    """What the releases list shows of one release beyond its counts: holds, overdue, attention."""
    late = [(w.name, when) for w in release.workloads.values() if (when := overdue(release, w, now)) is not None]
    return {
        "holds": holds_text(holds_json(release, now)),
        "overdue": sorted(late, key=lambda pair: pair[1]),
        "overdue_complete": complete,
        "attention": attention(release),
        "halted": release.halted_by is not None,
    }


@dataclass
class Wave:
    name: str  # NO_WAVE: releases whose plan names none
    rows: list[dict[str, Any]] = field(default_factory=list)
    forecast: dict[str, Any] | None = None  # when it ends (board/forecast.py); None for releases with no wave

    @property
    def totals(self) -> dict[str, int]:
        return {
            "releases": len(self.rows),
            "promoted": sum(r["progress"]["promoted"] for r in self.rows),
            "workloads": sum(r["progress"]["total"] for r in self.rows),
            "finished": sum(1 for r in self.rows if r["state"] in FINISHED),
            "held": sum(1 for r in self.rows if r["holds"]),
            "overdue": sum(len(r["overdue"]) for r in self.rows),
            "attention": sum(len(r["attention"]) for r in self.rows),
        }


def waves(rows: list[dict[str, Any]], now: datetime) -> list[Wave]:
    """Releases grouped by their plan's `wave` (in the rows' order), named waves first, then the rest; a named
    wave with its forecast (board/forecast.py)."""
    from shared.application.board.forecast import wave_forecast

    found: dict[str, Wave] = {}
    for row in rows:
        name = row["wave"] or NO_WAVE
        found.setdefault(name, Wave(name)).rows.append(row)
    for wave in found.values():
        wave.forecast = wave_forecast(wave.rows, FINISHED, now) if wave.name != NO_WAVE else None
    return sorted(found.values(), key=lambda w: (w.name == NO_WAVE, w.name))
