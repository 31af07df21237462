"""A workload's traffic share over time as an SVG step chart, drawn in Python to scale (x is time, with labelled
ticks), with its marks (alerts, verdicts, overrides, approvals, rollbacks, deadlines), its spans (pauses, and
the holds on it now: window, after, data-sync, ttl, rehearsal) and a text alternative. Marks carry a letter and
a shape as well as a colour, spans a label, so the chart reads without colour."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup

from shared.domain.messages import DEADLINE_TYPE
from shared.domain.model import HistoryEntry, Outcome, WorkloadState

MARKS = {  # kind -> (letter, label)
    "alert": ("A", "alert"),
    "verdict": ("V", "verdict"),
    "override": ("O", "override"),
    "approval": ("Y", "approval"),
    "rollback": ("R", "rollback"),
    "deadline": ("D", "deadline"),
}
HOLDS = ("window", "after", "data-sync", "ttl", "rehearsal")  # gates drawn as spans while they hold
# a pause begins with an applied entry saying "paused at N%" (an override, on_alert, on_deadline, a halt) and
# ends with one saying "resumed" (resume, unhalt) or with a move out of the state it was paused in. Only where
# the rules put those words: an alert's description (free text from outside) is inside its reason too
_PAUSED = re.compile(r"^(halt: )?paused at \d+%|[;:] paused at \d+% \(on_(alert|deadline): pause\)$")
_RESUMED = re.compile(r"^(unhalt: )?resumed\b")
FUTURE_SHARE = 0.5  # a hold's end later than now widens the chart by at most this share of its past


@dataclass
class Timeline:
    workload: str
    points: list[dict[str, Any]]  # {"at", "share", "x", "y"}: one per share change
    marks: list[dict[str, Any]]  # {"at", "kind", "letter", "text", "x", "row"}
    # {"kind", "start", "end", "open", "text", "x0", "x1"}; past the chart's end also "beyond" and "lifts" (when)
    spans: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)  # {"at", "x", "label"}
    start: datetime | None = None
    now_x: float = 0.0
    end: datetime | None = None
    svg: Markup = field(default_factory=lambda: Markup(""))
    summary: str = ""


def _mark_kind(e: HistoryEntry) -> str | None:
    if e.outcome == Outcome.DUPLICATE:
        return None  # a redelivery changed nothing: the first delivery carries the mark
    rolled = WorkloadState.ROLLED_BACK
    if e.to_state == rolled and e.from_state != rolled and e.outcome == Outcome.APPLIED:
        return "rollback"
    if e.type == "alert":
        return "alert"
    if e.type in ("flight-healthy", "flight-unhealthy"):
        return "verdict"
    if e.type == "override" and e.outcome == Outcome.APPLIED and e.reason.startswith(("approved", "approval counted")):
        return "approval"
    if e.type == "override":
        return "override"
    if e.type == DEADLINE_TYPE and e.outcome == Outcome.APPLIED:  # a deadline missed, not a stale timer
        return "deadline"
    return None


def _mark_text(kind: str, e: HistoryEntry) -> str:
    if kind in ("override", "approval") or (kind == "rollback" and e.type == "override"):
        why = e.actor_reason
        who = f"{e.actor or 'someone'}" + (f' ("{why}")' if why else "")
        return f"{e.type} by {who}: {e.outcome}: {e.reason}"
    if kind == "verdict":
        return f"{e.type} (flight {e.flight or '-'}), {e.outcome}: {e.reason}"  # the judge's values are in reason
    return f"{e.type}, {e.outcome}: {e.reason}"


def pauses(
    entries: list[HistoryEntry], paused_at: datetime | None, now: datetime, paused_why: str | None = None
) -> list[dict[str, Any]]:
    """The stretches this window of history shows the workload paused; one still open when it is paused now
    (`paused_at`: when, from its record, also when the pause's own entry is older than the window or there is
    none, as for a release applied while everything was halted; `paused_why`: who and why, from its record)."""
    found: list[dict[str, Any]] = []
    start: datetime | None = None
    state, why = None, "paused"
    for e in entries:
        if e.outcome != Outcome.APPLIED:
            continue
        if start is None and _PAUSED.search(e.reason):
            start, state = e.at, e.to_state
            why = f"by {e.actor}" + (f": {e.actor_reason}" if e.actor_reason else "") if e.actor else e.reason
        elif start is not None and (_RESUMED.search(e.reason) or (e.to_state and e.to_state != state)):
            found.append({"kind": "paused", "start": start, "end": e.at, "open": False, "text": why})
            start = None
    if paused_at is not None:
        text = why if start is not None else paused_why or "since before this window of history"
        found.append({"kind": "paused", "start": start or paused_at, "end": now, "open": True, "text": text})
    return found


def holds(waiting: list[dict[str, Any]], since: datetime | None, now: datetime, windows: Any = None) -> list[dict]:
    """The holds on the workload now (board.waiting's gates) as spans: from when it entered its state (when
    known; a window's from when it closed, if later) to when the hold lifts (when the gate says: a window
    opens, a TTL runs out), else open-ended."""
    found = []
    for g in waiting:
        if g["gate"] not in HOLDS:
            continue
        until = g.get("until")
        later = until is not None and until > now
        start = since or now
        if g["gate"] == "window" and windows is not None:
            start = max(start, closed_since(windows, now) or start)
        found.append(
            {
                "kind": str(g["gate"]),
                "start": start,
                "end": until if later else now,
                "open": not later,
                "text": g["detail"],
            }
        )
    return found


def closed_since(windows: Any, now: datetime, days: int = 8) -> datetime | None:
    """When the change window, closed now, closed: the latest denied period's start or allowed slot's end before
    now right after which it was closed (searched `days` back; None: closed all that time)."""
    from zoneinfo import ZoneInfo

    from shared.domain.windows import _instant, _slot_intervals, is_open

    zone = ZoneInfo(windows.timezone)
    edges = {_instant(p.from_, zone) for p in windows.deny}
    today = now.astimezone(zone).date()
    edges |= {end for _, end in _slot_intervals(windows, zone, today - timedelta(days=days), today)}
    second = timedelta(seconds=1)
    return max(
        (e for e in edges if e <= now and is_open(windows, e - second) and not is_open(windows, e)), default=None
    )


def timeline(
    workload: str,
    entries: list[HistoryEntry],
    current_share: int,
    now: datetime,
    spans: list[dict[str, Any]] | None = None,
) -> Timeline:
    """`entries` are this workload's, oldest first (a window of its history); `spans`: its holds now (holds())."""
    from shared.application.board.timeline_svg import draw, place, summary_of

    points: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for e in entries:
        if e.traffic_percent is not None and (not points or points[-1]["share"] != e.traffic_percent):
            points.append({"at": e.at, "share": e.traffic_percent})
        kind = _mark_kind(e)
        if kind:
            marks.append({"at": e.at, "kind": kind, "letter": MARKS[kind][0], "text": _mark_text(kind, e)})
    drawn = list(spans or [])
    times = [p["at"] for p in points] + [m["at"] for m in marks] + [s["start"] for s in drawn]
    start = min([*times, now - timedelta(minutes=1)]) if times else now - timedelta(minutes=1)
    past = (now - start).total_seconds()
    later = max([s["end"] for s in drawn if s["end"] > now], default=now)
    end = min(later, now + timedelta(seconds=past * FUTURE_SHARE))  # what lies ahead, not more than half the past
    for s in drawn:
        if s["end"] > end:  # drawn to the chart's edge; its words keep when it really lifts
            s["lifts"], s["end"], s["beyond"] = s["end"], end, True
    tl = Timeline(workload, points, marks, drawn, start=start, end=end)
    place(tl, now)
    tl.summary = summary_of(tl, current_share, now)
    tl.svg = draw(tl, now)
    return tl
