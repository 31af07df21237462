"""Draw docs/observability-trace.png and print the report sample of docs/observability.md, from the flight release
of tests/unit/test_telemetry.py (tests/telemetry_world.py) with its spans read from an in-memory exporter.

    .venv/bin/python tools/trace_picture.py [--png docs/observability-trace.png]

Top: the workloads' states over the story's time (from history, shared/application/figures.py). Bottom: the
trace, one row a span, placed at the story time its message was handled; a line joins each scheduled message's
span to the span that scheduled it, the others hang under the release's root.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

STATE_COLOURS = {
    "replicating": "#c7d2de",
    "testing": "#9fb8d6",
    "ready": "#f2d492",
    "flighting": "#7fc8a9",
    "rolled-back": "#e48f8f",
    "promoted": "#3f9e6e",
}
OUTCOME_COLOURS = {"applied": "#2b6cb0", "ignored": "#a0aec0", "rejected": "#c53030", "duplicate": "#718096"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/trace_picture.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--png", type=Path, default=REPO / "docs" / "observability-trace.png")
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shared.application import telemetry
    from shared.application.figures import from_history
    from shared.application.report import release_report
    from shared.application.report_render import render
    from shared.domain import tracing
    from tests.telemetry_world import Flight, in_memory

    exporter, _ = in_memory()
    flight = Flight(applied_early=45).story()
    telemetry.reset()
    history = flight.w.store.list_history("wave-7")
    start = flight.applied_at

    def minutes(moment) -> float:
        return (moment - start).total_seconds() / 60

    spans = {s.attributes["cloudevents.event_id"]: s for s in exporter.get_finished_spans()}
    rows = [(doc, moment, spans[doc["id"]]) for doc, moment in zip(flight.handled, flight.moments, strict=True)]
    row_of = {span.context.span_id: i for i, (_, _, span) in enumerate(rows)}
    root = tracing.release_context("wave-7")

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 9), sharex=True, gridspec_kw={"height_ratios": [1, 4]}, constrained_layout=True
    )
    figures = from_history(flight.plan, history)
    names = [w.name for w in flight.plan.workloads]
    end = minutes(flight.w.clock.now())
    for interval in figures.states:
        y = names.index(interval.workload)
        top.barh(y, minutes(interval.end) - minutes(interval.start), left=minutes(interval.start), height=0.6,
                 color=STATE_COLOURS.get(interval.name, "#ddd"), edgecolor="white")  # fmt: skip
    for name in names:  # the state each workload is left in, to the end of the story
        last = [e for e in history if e.workload == name and e.from_state != e.to_state][-1]
        y = names.index(name)
        top.barh(y, end - minutes(last.at), left=minutes(last.at), height=0.6,
                 color=STATE_COLOURS.get(str(last.to_state), "#ddd"), edgecolor="white")  # fmt: skip
    top.set_yticks(range(len(names)), names)
    top.invert_yaxis()
    top.set_title("Workloads of release wave-7 (from history)", loc="left", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    top.legend(handles, list(STATE_COLOURS), ncol=6, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12))

    for i, (_, moment, span) in enumerate(rows):
        x = minutes(moment)
        outcome = span.attributes.get("promote.outcome", "applied")
        bottom.plot([x], [i], marker="s", markersize=7, color=OUTCOME_COLOURS.get(outcome, "#333"))
        label = f"{span.name}  {span.attributes.get('promote.workload', '')}"
        bottom.annotate(label, (x, i), xytext=(6, -3), textcoords="offset points", fontsize=7)
        parent = row_of.get(span.parent.span_id)
        if parent is not None:  # a scheduled message: from the span that scheduled it
            bottom.annotate("", xy=(x, i), xytext=(minutes(rows[parent][1]), parent),
                            arrowprops={"arrowstyle": "->", "color": "#805ad5", "lw": 1})  # fmt: skip
        elif span.parent.span_id == root.span_id:
            bottom.plot([-1.5, x], [i, i], color="#e2e8f0", lw=0.8, zorder=0)
        else:  # a sender that continued the release's trace
            bottom.plot([x], [i], marker="o", markersize=10, fillstyle="none", color="#dd6b20")
        if span.links:
            bottom.plot([x], [i], marker="D", markersize=9, fillstyle="none", color="#d53f8c")
    bottom.set_yticks([])
    bottom.invert_yaxis()
    bottom.set_xlabel("minutes since promote apply")
    bottom.set_title(
        f"Trace {root.trace_id:032x} (one trace per release): a span per message; purple arrows: scheduled "
        "messages from the span that scheduled them; pink: linked to a CI pipeline's own trace; orange: "
        "continuing a sender's span",
        loc="left",
        fontsize=8,
        wrap=True,
    )
    bottom.set_xlim(-2, end + 12)
    args.png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}")
    state = flight.w.store.get_release("wave-7").release.state
    print(render(release_report(flight.plan, history, state), "text"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
