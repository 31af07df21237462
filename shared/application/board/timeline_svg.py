"""Drawing a timeline (board/timeline.py) to scale: x is time from its first entry to now (or a little past
now, when a hold says when it lifts), ticks at a round step with their times, marks in two rows above the plot
so marks close in time do not hide each other, spans in lanes below it (spans one after another share one)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

WIDTH = 760
LEFT, RIGHT = 44, 16
MARK_ROWS = 2
TOP = 8 + 18 * MARK_ROWS  # the marks' band above the plot
PLOT_H = 110
LANE = 16  # a span's lane below the time axis
AXIS = 20  # the tick labels' row
MARK_W = 15  # px a mark's box needs before the next one fits in the same row
SPAN_GAP = 2  # px between two spans sharing a lane
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)
MAX_TICKS = 7


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ")


def tick_step(seconds: float) -> int:
    """The smallest round step (s) that puts at most MAX_TICKS ticks over `seconds`; beyond STEPS, whole weeks
    (a workload months in hypercare, an entry stamped by a skewed clock)."""
    week = STEPS[-1]
    return next((s for s in STEPS if seconds / s <= MAX_TICKS), week * math.ceil(seconds / week / MAX_TICKS))


def ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Round times between start and end (UTC, aligned on the step), each with its label: seconds shown only
    when the step is under a minute, the date when the day changes (and on the first tick of a multi-day span),
    with its year when the span crosses one."""
    step = tick_step((end - start).total_seconds())
    first = math.ceil(start.timestamp() / step) * step  # not before start (its time may have a fraction)
    out, day = [], start.date()
    at = datetime.fromtimestamp(first, UTC)
    days = "%m-%d" if start.year == end.year else "%Y-%m-%d"
    while at <= end:
        label = at.strftime("%H:%M:%S" if step < 60 else "%H:%M")
        if step >= 86400 or at.date() != day:
            label = at.strftime(days) if step >= 86400 else at.strftime("%m-%d %H:%M")
        out.append((at, label))
        day = at.date()
        at += timedelta(seconds=step)
    return out


def place(tl: Any, now: datetime) -> None:
    """x of every point, mark, span and tick, proportional to time; each mark's row."""
    assert tl.start is not None and tl.end is not None
    total = (tl.end - tl.start).total_seconds() or 1.0
    plot_w = WIDTH - LEFT - RIGHT

    def x(at: datetime) -> float:
        return round(LEFT + plot_w * min(max((at - tl.start).total_seconds() / total, 0.0), 1.0), 1)

    for p in tl.points:
        p["x"], p["y"] = x(p["at"]), y(p["share"])
    last: list[dict[str, Any] | None] = [None] * MARK_ROWS  # the mark last drawn in each row
    for m in tl.marks:
        m["x"], m["more"] = x(m["at"]), 0
        row = next((r for r, mk in enumerate(last) if mk is None or m["x"] - mk["x"] >= MARK_W), None)
        if row is None:  # no room: folded into the latest mark drawn, which counts it ("+2"); the table lists it
            shown = max((mk for mk in last if mk is not None), key=lambda mk: mk["x"])
            m["row"], m["folded"] = shown["row"], True
            shown["more"] += 1
            continue
        m["row"], m["folded"], last[row] = row, False, m
    ends: list[float] = []  # each lane's last span's end: spans one after another share a lane (a flapping pause)
    for s in tl.spans:
        s["x0"], s["x1"] = x(s["start"]), max(x(s["end"]), x(s["start"]) + 2)
        s["lane"] = next((i for i, end in enumerate(ends) if end + SPAN_GAP <= s["x0"]), len(ends))
        ends[s["lane"] : s["lane"] + 1] = [s["x1"]]
    for i, s in enumerate(tl.spans):  # a label runs until the next span in its lane, else the chart's edge
        s["room"] = next((t["x0"] for t in tl.spans[i + 1 :] if t["lane"] == s["lane"]), WIDTH - RIGHT) - s["x0"]
    tl.ticks = [{"at": at, "x": x(at), "label": label} for at, label in ticks(tl.start, tl.end)]
    tl.now_x = x(now)


def y(share: int) -> float:
    return round(TOP + PLOT_H * (1 - share / 100), 1)


def summary_of(tl: Any, share: int, now: datetime) -> str:
    from shared.application.board.timeline import MARKS

    span = f"From {_when(tl.start)} to {'now' if tl.end <= now else _when(tl.end)}" if tl.start else ""
    if not tl.points:
        said = f"{tl.workload}: no share recorded in this window; now {share}%."
    else:
        steps = " then ".join(f"{p['share']}% at {p['at'].strftime('%H:%M:%S')}" for p in tl.points)
        said = f"Traffic share of {tl.workload}: {steps}; now {share}%."
    counts: dict[str, int] = {}
    for m in tl.marks:
        counts[MARKS[m["kind"]][1]] = counts.get(MARKS[m["kind"]][1], 0) + 1
    marked = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items()) or "no marks"
    spans = "; ".join(_span_text(s) for s in tl.spans)
    return f"{said} Marked: {marked}." + (f" Spans: {spans}." if spans else "") + (f" {span}." if span else "")


def _span_text(s: dict[str, Any]) -> str:
    lifts = s.get("lifts", s["end"])
    until = "still" if s["open"] else f"until {_when(lifts)}" + (" (beyond the chart)" if s.get("beyond") else "")
    return f"{s['kind']} from {_when(s['start'])} {until}: {s['text']}"


def draw(tl: Any, now: datetime) -> Markup:
    from shared.application.board.timeline import MARKS

    lanes = 1 + max((s["lane"] for s in tl.spans), default=-1)
    height = TOP + PLOT_H + AXIS + LANE * lanes + 4
    sid = f"svg-{tl.workload}"  # a prefix of its own: with tl-, open-x's title was x-title's fold (tl-open-x-title)
    out = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{sid}-title {sid}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{sid}-title">Traffic share of {escape(tl.workload)} over time, to scale</title>',
        f'<desc id="{sid}-desc">{escape(tl.summary)}</desc>',
    ]
    bottom = TOP + PLOT_H
    for s in tl.spans:  # shaded behind the line: while paused or held, the share stood still
        out.append(
            f'<rect class="span-shade span-shade-{s["kind"]}" x="{s["x0"]}" y="{TOP}" '
            f'width="{round(s["x1"] - s["x0"], 1)}" height="{PLOT_H}"/>'
        )
    for share in (0, 50, 100):
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(share)}" y2="{y(share)}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y(share) + 4}" text-anchor="end">{share}%</text>'
        )
    for t in tl.ticks:
        out.append(
            f'<g class="tick" data-at="{t["at"].isoformat()}"><line class="tick-line" x1="{t["x"]}" x2="{t["x"]}" '
            f'y1="{TOP}" y2="{bottom + 4}"/><text class="axis" x="{t["x"]}" y="{bottom + 15}" '
            f'text-anchor="middle">{escape(t["label"])}</text></g>'
        )
    out.append(
        f'<line class="now-line" x1="{tl.now_x}" x2="{tl.now_x}" y1="{TOP}" y2="{bottom}"/>'
        f'<text class="axis now" x="{tl.now_x - 3}" y="{bottom - 4}" text-anchor="end">now</text>'
    )
    if tl.points:
        d = f"M{tl.points[0]['x']},{tl.points[0]['y']}"
        for p in tl.points[1:]:
            d += f" H{p['x']} V{p['y']}"
        out.append(f'<path class="share" d="{d} H{tl.now_x}"/>')
    for p in tl.points:
        label = f"{p['share']}% from {_when(p['at'])}"
        out.append(
            f'<circle class="share-point" cx="{p["x"]}" cy="{p["y"]}" r="4" data-share="{p["share"]}">'
            f"<title>{escape(label)}</title></circle>"
        )
    for m in tl.marks:
        label = f"{MARKS[m['kind']][1]} at {_when(m['at'])}: {m['text']}"
        top = 4 + 18 * m["row"]
        line = f'<line class="mark-line" x1="{m["x"]}" x2="{m["x"]}" y1="{top + 16}" y2="{bottom}"/>'
        if m["folded"]:  # its line only; the mark it is folded into says how many more there are
            out.append(
                f'<g class="mark mark-{m["kind"]} folded" data-kind="{m["kind"]}">'
                f"<title>{escape(label)}</title>{line}</g>"
            )
            continue
        more = f'<text class="more" x="{m["x"] + 9}" y="{top + 12}">+{m["more"]}</text>' if m["more"] else ""
        out.append(
            f'<g class="mark mark-{m["kind"]}" data-kind="{m["kind"]}"><title>{escape(label)}</title>{line}'
            f'<rect x="{m["x"] - 7}" y="{top}" width="14" height="16" rx="{7 if m["kind"] == "approval" else 3}"/>'
            f'<text x="{m["x"]}" y="{top + 12}" text-anchor="middle">{m["letter"]}</text>{more}</g>'
        )
    for s in tl.spans:
        top = bottom + AXIS + LANE * s["lane"]
        text = f"{s['kind']}: {s['text']}"
        room = int((s["room"] - 6) / 6.2)  # characters that fit right of the span's start
        shown = text if len(text) <= room else text[: max(room - 1, 0)] + "…"
        end = "▸" if s["open"] or s.get("beyond") else ""
        out.append(
            f'<g class="span span-{s["kind"]}" data-kind="{s["kind"]}" data-open="{str(s["open"]).lower()}">'
            f"<title>{escape(_span_text(s))}</title>"
            f'<rect x="{s["x0"]}" y="{top + 2}" width="{round(s["x1"] - s["x0"], 1)}" height="{LANE - 4}" rx="2"/>'
            f'<text class="span-label" x="{s["x0"] + 3}" y="{top + LANE - 4}">{escape(shown)}{end}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
