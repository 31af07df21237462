"""A release's or a wave's report (report.py) as text, JSON, CSV or HTML: the same figures in each."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from shared.application.report import GATES, PHASES, ReleaseReport, WaveReport
from shared.domain.machine.rules.time import span
from shared.domain.times import iso, stamp

FORMATS = ("text", "html", "csv", "json")
NOTE = "the apply is not in history: a workload's first phase counts from its first message"


def render(report: ReleaseReport | WaveReport, fmt: str) -> str:
    releases = report.releases if isinstance(report, WaveReport) else [report]
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if fmt == "csv":
        return _csv(releases)
    if fmt == "html":
        return html_page(report)
    return "\n".join(_text(r) for r in releases) + (_wave_text(report) if isinstance(report, WaveReport) else "")


def _seconds(value: float | None) -> str:
    return "-" if value is None else span(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _ordered(values: dict[str, float], order: tuple) -> list[tuple[str, float]]:
    known = [(str(k), values[k]) for k in order if k in values]
    return known + sorted((k, v) for k, v in values.items() if k not in order)


# -- text ------------------------------------------------------------------------------------------
def _text(r: ReleaseReport) -> str:
    lines = [
        f"Release {r.release} ({r.model}{f', wave {r.wave}' if r.wave else ''}): {r.state or '-'}",
        f"  from {stamp(r.started) if r.started else '-'} to {stamp(r.done) if r.done else '(not done)'}: "
        f"{_seconds(r.seconds)}; {r.entries} history entries",
        *([f"  ends: {_ends(r)}"] if r.ends else []),
        f"  changes {r.changes}, rollbacks {len(r.rollbacks)}, change failure rate {_rate(r.change_failure_rate)}",
        "",
        "Workloads",
    ]
    for w in r.workloads:
        lines.append(f"  {w.name:<24} {w.state or '-':<12} {_seconds(w.seconds):>10}  attempts {w.attempts}")
    lines += ["", "Time per phase (all workloads)"]
    lines += [f"  {k:<12} {_seconds(v):>10}" + (" *" if k in r.partial else "") for k, v in _ordered(r.phases, PHASES)]
    if r.partial:
        lines.append(f"  * {NOTE}")
    lines += ["", "Waits by gate"]
    lines += [f"  {k:<12} {_seconds(v):>10}" for k, v in _ordered(r.gates, GATES)]
    if r.flights:
        lines += ["", "Flights"]
        lines += [f"  flight {k:<5} {_seconds(s):>10}  ({n}x)" for k, (s, n) in r.flights.items()]
    lines += ["", "Rollbacks"]
    lines += [
        f"  {stamp(b.at)}  {b.workload:<16} {b.cause:<9} from {b.from_state} at {b.share_before}%"
        + (f", {_seconds(b.after_trouble)} after the alert" if b.after_trouble is not None else "")
        + (f" (by {b.actor})" if b.actor else "")
        for b in r.rollbacks
    ] or ["  none"]
    lines += ["", "Approvals"]
    lines += [
        f"  {stamp(a.at)}  {a.workload:<16} by {a.actor or '-'}"
        + (", counted toward the quorum" if a.counted else "")
        + (f", after {_seconds(a.waited)} in ready" if a.waited is not None else "")
        + (f': "{a.actor_reason}"' if a.actor_reason else "")
        for a in r.approvals
    ] or ["  none"]
    if r.pauses:
        lines += ["", "Pauses"]
        lines += [f"  {stamp(p.start)}  {p.workload:<16} {_seconds(p.seconds)}" for p in r.pauses]
    lines += ["", "Traffic"]
    lines += [f"  {stamp(m.at)}  {m.workload:<16} {m.before:>3}% -> {m.after:>3}%  {m.state or ''}" for m in r.traffic]
    return "\n".join(lines) + "\n"


def _ends(r: ReleaseReport) -> str:
    return ", ".join(f"{e.state} at {stamp(e.end)} after {_seconds(e.seconds)}" for e in r.ends)


def _wave_text(w: WaveReport) -> str:
    lines = [
        f"Wave {w.wave}: {len(w.releases)} releases, from {stamp(w.started) if w.started else '-'} to "
        f"{stamp(w.done) if w.done else '(not done)'}: {_seconds(w.seconds)}",
        f"  changes {w.changes}, rollbacks {len(w.rollbacks)}, change failure rate {_rate(w.change_failure_rate)}",
        "  waits by gate: " + ", ".join(f"{k} {_seconds(v)}" for k, v in _ordered(w.total("gates"), GATES)),
    ]
    return "\n" + "\n".join(lines) + "\n"


# -- JSON ------------------------------------------------------------------------------------------
def to_json(report: ReleaseReport | WaveReport) -> dict[str, Any]:
    if isinstance(report, WaveReport):
        return {
            "wave": report.wave,
            "started": iso(report.started),
            "done": iso(report.done),
            "seconds": report.seconds,
            "changes": report.changes,
            "rollbacks": len(report.rollbacks),
            "change_failure_rate": report.change_failure_rate,
            "gates": report.total("gates"),
            "phases": report.total("phases"),
            "releases": [to_json(r) for r in report.releases],
        }
    r = report
    return {
        "release": r.release,
        "model": r.model,
        "wave": r.wave,
        "state": r.state,
        "started": iso(r.started),
        "done": iso(r.done),
        "seconds": r.seconds,
        "ends": [{"state": e.state, "status": e.status, "at": iso(e.end), "seconds": e.seconds} for e in r.ends],
        "entries": r.entries,
        "changes": r.changes,
        "change_failure_rate": r.change_failure_rate,
        "workloads": [
            {
                "name": w.name,
                "state": w.state,
                "started": iso(w.started),
                "done": iso(w.done),
                "seconds": w.seconds,
                "attempts": w.attempts,
            }
            for w in r.workloads
        ],
        "phases": r.phases,
        "partial_phases": r.partial,
        "gates": r.gates,
        "flights": {str(k): {"seconds": s, "times": n} for k, (s, n) in r.flights.items()},
        "rollbacks_by_cause": r.rollbacks_by_cause,
        "rollbacks": [
            {
                "at": iso(b.at),
                "workload": b.workload,
                "cause": b.cause,
                "from": b.from_state,
                "share_before": b.share_before,
                "flight": b.flight,
                "seconds_after_alert": b.after_trouble,
                "event_id": b.event_id,
                "actor": b.actor,
                "reason": b.reason,
            }
            for b in r.rollbacks
        ],
        "approvals": [
            {
                "at": iso(a.at),
                "workload": a.workload,
                "actor": a.actor,
                "seconds_waited": a.waited,
                "counted": a.counted,
                "actor_reason": a.actor_reason,
            }
            for a in r.approvals
        ],
        "pauses": [
            {"from": iso(p.start), "to": iso(p.end), "workload": p.workload, "seconds": p.seconds} for p in r.pauses
        ],
        "traffic": [
            {"at": iso(m.at), "workload": m.workload, "from": m.before, "to": m.after, "state": m.state}
            for m in r.traffic
        ],
    }


# -- CSV: one row a figure, the same columns for every section ------------------------------------
CSV_COLUMNS = ("release", "section", "workload", "name", "at", "seconds", "value", "actor", "detail")


def _csv(releases: list[ReleaseReport]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in releases:
        writer.writerows(_csv_rows(r))
    return out.getvalue()


def _csv_rows(r: ReleaseReport) -> list[list[str]]:
    rows: list[list[str]] = []

    def row(section: str, workload="", name="", at=None, seconds=None, value: object = "", actor="", detail="") -> None:
        number = "" if seconds is None else f"{seconds:g}"
        rows.append([r.release, section, workload, name, iso(at) or "", number, str(value), actor or "", detail])

    cfr = f"change failure rate {_rate(r.change_failure_rate)}"
    row("release", name=r.state or "", at=r.started, seconds=r.seconds, value=r.changes, detail=cfr)
    for e in r.ends:
        row("end", name=e.state, at=e.end, seconds=e.seconds, detail=e.status)
    for w in r.workloads:
        row("workload", w.name, w.state or "", w.started, w.seconds, w.attempts)
    for k, v in _ordered(r.phases, PHASES):
        row("phase", name=k, seconds=v, detail="partial" if k in r.partial else "")
    for k, v in _ordered(r.gates, GATES):
        row("gate", name=k, seconds=v)
    for flight, (s, n) in r.flights.items():
        row("flight", name=str(flight), seconds=s, value=n)
    for b in r.rollbacks:
        row("rollback", b.workload, b.cause, b.at, b.after_trouble, b.share_before, b.actor, b.reason)
    for a in r.approvals:
        row(
            "approval",
            a.workload,
            "counted" if a.counted else "approve",
            a.at,
            a.waited,
            "",
            a.actor,
            a.actor_reason or "",
        )
    for p in r.pauses:
        row("pause", p.workload, "paused", p.start, p.seconds)
    for m in r.traffic:
        row("traffic", m.workload, m.state or "", m.at, None, m.after, "", f"{m.before}% -> {m.after}%")
    return rows


# -- HTML ------------------------------------------------------------------------------------------
def html_page(report: ReleaseReport | WaveReport) -> str:
    """A whole page (`promote report --format html`); the board renders the same section in its own page."""
    title = f"wave {report.wave}" if isinstance(report, WaveReport) else f"release {report.release}"
    body = html_section(report)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>promote report: {_escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}td.n{text-align:right}</style>"
        f"</head><body><h1>promote report: {_escape(title)}</h1>\n{body}</body></html>\n"
    )


def html_section(report: ReleaseReport | WaveReport) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("shared.application.board", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["span"] = _seconds
    env.filters["rate"] = _rate
    env.filters["when"] = lambda moment: stamp(moment) if moment else "-"
    releases = report.releases if isinstance(report, WaveReport) else [report]
    return env.get_template("report.html.j2").render(
        releases=releases,
        wave=report if isinstance(report, WaveReport) else None,
        phases=lambda r: _ordered(r.phases, PHASES),
        gates=lambda r: _ordered(r.gates, GATES),
        note=NOTE,
    )


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
