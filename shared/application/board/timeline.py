"""A workload's traffic share over time as an SVG step chart, drawn in Python, with its marks (alerts,
verdicts, overrides, rollbacks, deadlines) and a text alternative. Marks carry a letter and a shape as well as
a colour, so the chart reads without colour."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from shared.domain.messages import DEADLINE_TYPE
from shared.domain.model import HistoryEntry, Outcome, WorkloadState

WIDTH, HEIGHT = 760, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 30, 26  # plot margins: marks sit in the band above the plot
MARKS = {  # kind -> (letter, label)
    "alert": ("A", "alert"),
    "verdict": ("V", "verdict"),
    "override": ("O", "override"),
    "rollback": ("R", "rollback"),
    "deadline": ("D", "deadline"),
}


@dataclass
class Timeline:
    workload: str
    points: list[dict[str, Any]]  # {"at", "share", "x", "y"}: one per share change
    marks: list[dict[str, Any]]  # {"at", "kind", "letter", "text", "x"}
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
    if e.type == "override":
        return "override"
    if e.type == DEADLINE_TYPE and e.outcome == Outcome.APPLIED:  # a deadline missed, not a stale timer
        return "deadline"
    return None


def _mark_text(kind: str, e: HistoryEntry) -> str:
    if kind == "override" or (kind == "rollback" and e.type == "override"):
        why = e.actor_reason
        who = f"{e.actor or 'someone'}" + (f' ("{why}")' if why else "")
        return f"{e.type} by {who}: {e.outcome}: {e.reason}"
    if kind == "verdict":
        return f"{e.type} (flight {e.flight or '-'}), {e.outcome}: {e.reason}"  # the judge's values are in reason
    return f"{e.type}, {e.outcome}: {e.reason}"


def timeline(workload: str, entries: list[HistoryEntry], current_share: int, now: datetime) -> Timeline:
    """`entries` are this workload's, oldest first (a window of its history)."""
    points: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    charted: list[tuple[datetime, list[dict[str, Any]]]] = []  # per entry shown: its point and marks
    for e in entries:
        shown: list[dict[str, Any]] = []
        if e.traffic_percent is not None and (not points or points[-1]["share"] != e.traffic_percent):
            points.append({"at": e.at, "share": e.traffic_percent})
            shown.append(points[-1])
        kind = _mark_kind(e)
        if kind:
            marks.append({"at": e.at, "kind": kind, "letter": MARKS[kind][0], "text": _mark_text(kind, e)})
            shown.append(marks[-1])
        if shown:
            charted.append((e.at, shown))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    t0 = charted[0][0] if charted else now
    t1 = charted[-1][0] if charted else now
    _place(charted, t0, t1, plot_w)

    def y(share: int) -> float:
        return round(TOP + plot_h * (1 - share / 100), 1)

    for p in points:
        p["y"] = y(p["share"])
    tl = Timeline(workload, points, marks)
    tl.summary = _summary(workload, points, marks, current_share)
    tl.svg = _svg(tl, float(LEFT + plot_w), y, t0, t1)
    return tl


MIN_GAP = 18.0  # px between successive charted entries, so marks of a burst do not hide each other


def _place(charted: list[tuple[datetime, list[dict[str, Any]]]], t0: datetime, t1: datetime, plot_w: float) -> None:
    """x by time, but never closer than MIN_GAP to the previous entry; the last one sits at 90% of the width,
    the line goes on to the right edge (now)."""
    span = (t1 - t0).total_seconds() or 1.0
    usable = plot_w * 0.9
    xs: list[float] = []
    for at, _ in charted:
        x = usable * (at - t0).total_seconds() / span
        xs.append(max(x, xs[-1] + MIN_GAP) if xs else x)
    if xs and xs[-1] > usable:
        xs = [x * usable / xs[-1] for x in xs]
    for x, (_, shown) in zip(xs, charted, strict=True):
        for item in shown:
            item["x"] = round(LEFT + x, 1)


def _summary(workload: str, points: list[dict], marks: list[dict], share: int) -> str:
    if not points:
        return f"{workload}: no share recorded in this window; now {share}%."
    steps = " then ".join(f"{p['share']}% at {p['at'].strftime('%H:%M:%S')}" for p in points)
    counts: dict[str, int] = {}
    for m in marks:
        counts[MARKS[m["kind"]][1]] = counts.get(MARKS[m["kind"]][1], 0) + 1
    marked = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items()) or "no marks"
    return f"Traffic share of {workload}: {steps}; now {share}%. Marked: {marked}."


def _svg(tl: Timeline, x_end: float, y, t0: datetime, t1: datetime) -> Markup:
    sid = f"tl-{tl.workload}"
    out = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{sid}-title {sid}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{sid}-title">Traffic share of {escape(tl.workload)} over time</title>',
        f'<desc id="{sid}-desc">{escape(tl.summary)}</desc>',
    ]
    for share in (0, 50, 100):  # grid and axis labels
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(share)}" y2="{y(share)}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y(share) + 4}" text-anchor="end">{share}%</text>'
        )
    out.append(
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 6}">{t0.strftime("%Y-%m-%d %H:%M:%SZ")}</text>'
        f'<text class="axis" x="{round(LEFT + (WIDTH - LEFT - RIGHT) * 0.9, 1)}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{t1.strftime("%H:%M:%SZ")}</text>'
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">now</text>'
    )
    if tl.points:
        d = f"M{tl.points[0]['x']},{tl.points[0]['y']}"
        for p in tl.points[1:]:
            d += f" H{p['x']} V{p['y']}"
        d += f" H{x_end}"
        out.append(f'<path class="share" d="{d}"/>')
    for p in tl.points:
        label = f"{p['share']}% from {p['at'].strftime('%Y-%m-%d %H:%M:%SZ')}"
        out.append(
            f'<circle class="share-point" cx="{p["x"]}" cy="{p["y"]}" r="4" data-share="{p["share"]}">'
            f"<title>{escape(label)}</title></circle>"
        )
    for m in tl.marks:
        label = f"{MARKS[m['kind']][1]} at {m['at'].strftime('%Y-%m-%d %H:%M:%SZ')}: {m['text']}"
        out.append(
            f'<g class="mark mark-{m["kind"]}" data-kind="{m["kind"]}"><title>{escape(label)}</title>'
            f'<line class="mark-line" x1="{m["x"]}" x2="{m["x"]}" y1="{TOP - 4}" y2="{HEIGHT - BOTTOM}"/>'
            f'<rect x="{m["x"] - 7}" y="{TOP - 24}" width="14" height="16" rx="3"/>'
            f'<text x="{m["x"]}" y="{TOP - 12}" text-anchor="middle">{m["letter"]}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
