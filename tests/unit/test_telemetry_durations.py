"""Release and workload durations (issue 28's "Metrics: release and workload duration"): the metrics exported
while a flight release with a rollback and a retry runs to its end, read back from an in-memory exporter, equal
what its history says, and the report and the board show the same figures.

A workload's duration runs from the message that moved it out of its initial state (replicating) to the one that
moved it to finalized or aborted; a release's from its first workload's start to each end it reaches (finalized,
aborted, rolled back). The expected figures are read off the history here, not from figures.py."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared.adapters.table_store.rows import workload_entity, workload_of
from shared.application import telemetry
from shared.application.board import BoardApp
from shared.application.figures import from_decision, from_history
from shared.application.report import WaveReport, release_report
from shared.application.report_render import render
from shared.application.telemetry_metrics import Instruments
from shared.domain.model import HistoryEntry, Workload, WorkloadState
from shared.domain.plan import validate_plan
from tests.telemetry_world import APPROVER, PLAN, Flight, in_memory, points

S = WorkloadState


@pytest.fixture
def metrics():
    _, reader = in_memory()
    yield reader
    telemetry.reset()


def moves(history: list[HistoryEntry]) -> list[HistoryEntry]:
    return [e for e in history if e.outcome == "applied" and e.from_state != e.to_state and e.workload]


def workload_durations(history: list[HistoryEntry]) -> dict[tuple[str, str], float]:
    """(workload, end state) -> seconds, straight from the history's state changes."""
    found = {}
    for name in {e.workload for e in moves(history)}:
        mine = [e for e in moves(history) if e.workload == name]
        start = next(e.at for e in mine if e.from_state == S.REPLICATING)
        found.update(
            {(name, e.to_state): (e.at - start).total_seconds() for e in mine if e.to_state in ("finalized", "aborted")}
        )
    return found


def release_ends(history: list[HistoryEntry]) -> list[tuple[str, float]]:
    """(end state, seconds) for each end the release reached: both workloads rolled back (one may be promoted
    meanwhile), or every workload finalized or aborted."""
    states = {"payroll": "replicating", "ledger": "replicating"}
    start, ends, was = None, [], None
    for e in moves(history):
        states[e.workload] = e.to_state
        if e.from_state == S.REPLICATING and start is None:
            start = e.at
        values = set(states.values())
        now = (
            "finalized"
            if values <= {"finalized", "aborted"} and "finalized" in values
            else "rolled-back"
            if "rolled-back" in values and values <= {"rolled-back", "promoted", "aborted", "finalized"}
            else None
        )
        if now is not None and now != was:
            ends.append((now, (e.at - start).total_seconds()))
        was = now
    return ends


@pytest.mark.parametrize("shard_size", [None, 1], ids=["one-partition", "a-shard-per-workload"])
def test_release_and_workload_durations_equal_what_the_history_says(metrics, shard_size):
    flight = Flight(applied_early=45, shard_size=shard_size).story().finish()
    history = flight.w.store.list_history("wave-7")
    found = points(metrics)
    workloads = {
        p.attributes["promote.state"]: (p.sum, p.count, p.attributes["deployment.status"])
        for p in found["promote.workload.duration"]
    }
    expected = workload_durations(history)
    assert workloads == {
        "finalized": (expected["payroll", "finalized"], 1, "succeeded"),
        "aborted": (expected["ledger", "aborted"], 1, "failed"),
    }
    # the story's own numbers: payroll from 22:02:45 (its last asset) to 00:25:54 across its retry; ledger to
    # its abort at 23:55:54
    assert (workloads["finalized"][0], workloads["aborted"][0]) == (8589.0, 6729.0)
    releases = {
        p.attributes["promote.release.state"]: (p.sum, p.count, p.min, p.max, p.attributes["deployment.status"])
        for p in found["promote.release.duration"]
    }
    ends = release_ends(history)
    assert ends == [("rolled-back", 901.0), ("rolled-back", 3188.0), ("finalized", 8589.0)]
    assert releases == {
        "rolled-back": (901.0 + 3188.0, 2, 901.0, 3188.0, "failed"),  # both rolled back; after the retry, again
        "finalized": (8589.0, 1, 8589.0, 8589.0, "succeeded"),
    }
    for p in [*found["promote.workload.duration"], *found["promote.release.duration"]]:
        assert {k: p.attributes[k] for k in ("deployment.id", "deployment.name", "deployment.environment.name")} == {
            "deployment.id": "wave-7",
            "deployment.name": "wave-7",
            "deployment.environment.name": "production",
        }
        assert p.attributes["promote.model"] == "flight"


def test_no_duration_before_an_end(metrics):
    Flight(applied_early=45).flighting()  # payroll in its first flight: started, not ended
    found = points(metrics)
    assert "promote.workload.duration" not in found and "promote.release.duration" not in found


def test_the_report_and_the_board_show_the_same_durations(metrics):
    flight = Flight(applied_early=45, wave="wave-a").story().finish()
    history = flight.w.store.list_history("wave-7")
    release = flight.w.store.get_release("wave-7").release
    r = release_report(flight.plan, history, release.state)
    found = points(metrics)
    metric = {p.attributes["promote.state"]: p.sum for p in found["promote.workload.duration"]}
    payroll, ledger = r.workloads
    assert (payroll.state, payroll.seconds, ledger.state, ledger.seconds) == (
        "finalized",
        metric["finalized"],
        "aborted",
        metric["aborted"],
    )
    assert (r.state, r.seconds) == ("finalized", 8589.0)
    assert [(e.state, e.seconds, e.status) for e in r.ends] == [
        ("rolled-back", 901.0, "failed"),
        ("rolled-back", 3188.0, "failed"),
        ("finalized", 8589.0, "succeeded"),
    ]
    assert sorted(e.seconds for e in r.ends) == sorted(
        x for p in found["promote.release.duration"] for x in ([p.min, p.max] if p.count == 2 else [p.sum])
    )
    doc = json.loads(render(r, "json"))
    assert (doc["started"], doc["done"], doc["seconds"]) == ("2026-11-26T22:02:45Z", "2026-11-27T00:25:54Z", 8589.0)
    assert [(e["state"], e["status"], e["seconds"]) for e in doc["ends"]][-1] == ("finalized", "succeeded", 8589.0)
    assert {w["name"]: w["seconds"] for w in doc["workloads"]} == {"payroll": 8589.0, "ledger": 6729.0}
    rows = list(csv.DictReader(io.StringIO(render(r, "csv"))))
    assert [(row["name"], float(row["seconds"])) for row in rows if row["section"] == "end"] == [
        ("rolled-back", 901.0),
        ("rolled-back", 3188.0),
        ("finalized", 8589.0),
    ]
    assert {row["workload"]: float(row["seconds"]) for row in rows if row["section"] == "workload"} == {
        "payroll": 8589.0,
        "ledger": 6729.0,
    }
    assert next(float(row["seconds"]) for row in rows if row["section"] == "release") == 8589.0
    text = render(r, "text")
    assert "to 2026-11-27 00:25:54Z: 2h23m9s" in text  # 8589 s
    assert "ends: rolled-back at 2026-11-26 22:17:46Z after 15m1s" in text
    assert "finalized at 2026-11-27 00:25:54Z after 2h23m9s" in text
    assert "payroll                  finalized       2h23m9s" in text
    assert "ledger                   aborted         1h52m9s" in text  # 6729 s
    html = render(r, "html")
    assert '<strong class="report-duration">2h23m9s</strong>' in html
    board = BoardApp(flight.w.store, None, flight.w.clock)
    for path in ("releases/wave-7/report", "waves/wave-a/report"):
        body = board.handle(path, {}).body.decode()
        assert '<strong class="report-duration">2h23m9s</strong>' in body, path
        assert '<th scope="row">payroll</th><td>finalized</td><td class="n">2h23m9s</td>' in body, path
        assert '<th scope="row">ledger</th><td>aborted</td><td class="n">1h52m9s</td>' in body, path
    wave = board.handle("waves/wave-a/report", {}).body.decode()
    assert "duration <strong>2h23m9s</strong>" in wave  # the wave: its one release, from start to end


def test_a_workload_keeps_its_start_across_a_retry_and_the_store_keeps_it():
    flight = Flight(applied_early=45).story()
    release = flight.w.store.get_release("wave-7").release
    payroll, ledger = release.workloads["payroll"], release.workloads["ledger"]
    # payroll left replicating at 22:02:45, was rolled back, retried (testing again): its start stays
    assert (payroll.started_at, ledger.started_at) == (datetime.fromisoformat("2026-11-26T22:02:45+00:00"),
                                                       datetime.fromisoformat("2026-11-26T22:03:45+00:00"))  # fmt: skip
    row = workload_entity("wave-7", payroll)
    assert row["started_at"] == payroll.started_at and workload_of(row) == payroll
    old = {k: v for k, v in row.items() if not k.startswith("started_at")}  # a row written before starts were kept
    assert workload_of(old).started_at is None and workload_of(old) == payroll.evolve(started_at=None)
    fresh = Workload(name="web", assets={"vm-1": False})  # never moved: nothing stored
    assert "started_at" not in workload_entity("rel", fresh) and workload_of(workload_entity("rel", fresh)) == fresh


def test_a_workload_aborted_before_it_moved_has_no_duration(metrics):
    flight = Flight(applied_early=45)
    flight.tick(60)
    flight.override("abort", "ledger")
    assert flight.w.store.get_release("wave-7").release.workloads["ledger"].started_at is not None
    assert "promote.workload.duration" not in points(metrics)
    r = release_report(flight.plan, flight.w.store.list_history("wave-7"))
    assert [(w.name, w.state, w.seconds) for w in r.workloads] == [("payroll", None, None), ("ledger", "aborted", None)]


def test_rows_from_before_starts_were_kept_give_no_duration_rather_than_a_wrong_one():
    flight = Flight(applied_early=45).story()
    flight.tick(60)
    flight.override("abort", "ledger")
    flight.override("finalize", "payroll", actor=APPROVER)
    before = flight.w.store.get_release("wave-7").release  # payroll promoted, finalize requested; ledger aborted
    flight.tick(0)  # the decommission: payroll finalized, and with it the release
    last = [e for e in flight.w.store.list_history("wave-7") if e.event_id == flight.handled[-1]["id"]]
    assert [(e.workload, e.to_state) for e in last] == [("payroll", "finalized")]
    figures = from_decision(before, last)
    assert [(r.workload, r.seconds) for r in figures.workloads] == [("payroll", 3249.0)]  # 22:02:45 -> 22:56:54
    assert [(r.state, r.seconds) for r in figures.releases] == [("finalized", 3249.0)]

    def without_start(*names: str):
        return before.evolve(
            workloads={n: w.evolve(started_at=None) if n in names else w for n, w in before.workloads.items()}
        )

    figures = from_decision(without_start("payroll", "ledger"), last)
    assert (figures.workloads, figures.releases) == ([], [])
    figures = from_decision(without_start("ledger"), last)  # payroll's start is known; the release's first is not
    assert ([r.workload for r in figures.workloads], figures.releases) == (["payroll"], [])


DOCS = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


class _Meter:
    """Notes the instruments made: (name, unit)."""

    def __init__(self):
        self.made: list[tuple[str, str]] = []

    def _make(self, name: str, unit: str = "", **kwargs):
        self.made.append((name, unit))
        return self

    create_counter = create_histogram = _make


def test_the_docs_list_every_metric_the_code_makes_with_its_unit():
    meter = _Meter()
    Instruments(meter)
    section = DOCS.read_text().split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(promote\.[a-z_.]+)` \| ([^|]+) \|", section, re.M)
    assert sorted((name, unit.strip()) for name, unit in rows) == sorted(meter.made)
    assert {"promote.workload.duration", "promote.release.duration"} <= {name for name, _ in meter.made}


def test_the_docs_report_sample_is_what_the_report_prints():
    flight = Flight(applied_early=45).story()
    release = flight.w.store.get_release("wave-7").release
    text = render(release_report(flight.plan, flight.w.store.list_history("wave-7"), release.state), "text")
    sample = DOCS.read_text().split("The report of the release pictured above:\n\n```\n", 1)[1].split("```\n", 1)[0]
    assert sample == text


def test_the_release_state_is_looked_at_per_decision_as_live():
    """History holds one entry per workload a decision moved: the release's state is that after the whole
    decision (what the live metric sees), never one between two entries of the same decision."""
    plan = validate_plan({**PLAN, "workloads": [{"name": "a", "assets": ["x"]}, {"name": "b", "assets": ["y"]}]})
    t = datetime.fromisoformat("2026-11-26T22:00:00+00:00")

    def moved(at: int, event: str, workload: str, before: str, after: str) -> HistoryEntry:
        return HistoryEntry(t + timedelta(seconds=at), event, "override", "applied", "r", workload, before, after, 0)

    story = [
        moved(0, "e1", "a", "replicating", "testing"),
        moved(10, "e2", "b", "replicating", "testing"),
        moved(20, "e3", "a", "testing", "aborted"),
        # one decision: b aborted, then (same decision) a second entry that leaves the end at once is not one
        moved(30, "e4", "b", "testing", "aborted"),
        moved(30, "e4", "b", "aborted", "aborted"),
    ]
    figures = from_history(plan, story)
    assert [(r.state, r.seconds) for r in figures.releases] == [("aborted", 30.0)]
    split = [*story[:3], moved(30, "e4", "b", "testing", "rolled-back"), moved(30, "e4", "b", "rolled-back", "aborted")]
    figures = from_history(plan, split)
    assert [(r.state, r.seconds) for r in figures.releases] == [("aborted", 30.0)]  # not rolled-back, then aborted


@pytest.mark.parametrize("shard_size", [None, 1], ids=["one-partition", "a-shard-per-workload"])
def test_an_abort_before_a_workload_started_starts_no_release_clock(metrics, shard_size):
    """ledger is aborted before it ever moved (it has no duration); payroll starts an hour later and is aborted
    600 s after: the release ran 600 s, not from ledger's abort. A release aborted before anything started has no
    duration at all (not 0 s)."""
    flight = Flight(applied_early=45, shard_size=shard_size)
    flight.tick(60)
    flight.override("abort", "ledger")
    flight.tick(3600)
    flight.flighting("payroll")  # its last asset replicated: its clock starts
    flight.tick(600)
    flight.override("abort", "payroll")
    found = points(metrics)
    assert [(p.sum, p.count) for p in found["promote.workload.duration"]] == [(600.0, 1)]
    assert [(p.attributes["promote.release.state"], p.sum, p.count) for p in found["promote.release.duration"]] == [
        ("aborted", 600.0, 1)
    ]
    r = release_report(flight.plan, flight.w.store.list_history("wave-7"), "aborted")
    assert [(e.state, e.seconds) for e in r.ends] == [("aborted", 600.0)] and r.seconds == 600.0
    assert [(w.name, w.started, w.seconds) for w in r.workloads][1] == ("ledger", None, None)


def test_a_release_aborted_before_anything_started_has_no_duration(metrics):
    flight = Flight(applied_early=45)
    flight.tick(60)
    flight.override("abort", None)
    assert flight.w.store.get_release("wave-7").release.state == "aborted"
    assert "promote.release.duration" not in points(metrics)
    r = release_report(flight.plan, flight.w.store.list_history("wave-7"), "aborted")
    assert (r.ends, r.started, r.seconds) == ([], None, None)
    assert r.done == flight.moments[-1]  # it ended all the same: a wave it is part of can be done
    finished = Flight(applied_early=45).story().finish()
    other = release_report(finished.plan, finished.w.store.list_history("wave-7"), "finalized")
    wave = WaveReport("wave-a", [r, other])
    assert (wave.started, wave.done) == (other.started, max(other.done, r.done))


def _lines_run_in_figures(n: int) -> int:
    """Lines figures.py runs to walk the history of `n` workloads that each moved three times, one decision a
    move (counted, not timed: the machine is shared)."""
    import sys

    from shared.application import figures

    plan = validate_plan({**PLAN, "workloads": [{"name": f"w{i:04d}", "assets": ["a"]} for i in range(n)]})
    t, entries = datetime.fromisoformat("2026-11-26T22:00:00+00:00"), []
    for before, after in (("replicating", "testing"), ("testing", "ready"), ("ready", "flighting")):
        for i in range(n):
            at = t + timedelta(seconds=len(entries))
            entries.append(HistoryEntry(at, f"e{len(entries)}", "x", "applied", "r", f"w{i:04d}", before, after, 0))
    lines = [0]

    def trace(frame, event, arg):
        if frame.f_code.co_filename != figures.__file__:
            return None
        if event == "line":
            lines[0] += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        from_history(plan, entries)
    finally:
        sys.settrace(previous)
    return lines[0]


def test_the_report_walk_costs_the_same_per_decision_however_large_the_release():
    """The release's state after each decision is worked out without looking at every workload again: a
    release of 5,000 workloads has tens of thousands of decisions, and the report (the board's page too)
    must stay linear in its history. Twice the workloads (and twice the history) cost about twice the work."""
    small, large = _lines_run_in_figures(60), _lines_run_in_figures(120)
    assert large < 2.3 * small, (small, large)


def test_the_docs_name_every_attribute_each_metric_carries(metrics):
    """The metrics table's attributes, plus `deployment.name` and `promote.model` on the instruments the text
    says carry them, are exactly the attributes the exported points of a release run to its end carry."""
    Flight(applied_early=45).story().finish()
    carried = {name: set().union(*(p.attributes.keys() for p in found)) for name, found in points(metrics).items()}
    section = DOCS.read_text().split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    listed = {
        name: set(re.findall(r"`([a-z_.]+)`", attributes))
        for name, attributes in re.findall(r"^\| `(promote\.[a-z_.]+)` \| [^|]+ \|([^|]*)\|", section, re.M)
    }
    said = re.search(r"Every instrument (?:but ((?:`[a-z_.]+`(?:, )?)+) )?carries `deployment.name`", section)
    assert said is not None
    but = set(re.findall(r"`([a-z_.]+)`", said.group(1) or ""))
    common = {"deployment.name", "promote.model"}
    assert set(carried) == set(listed)
    assert {name: listed[name] | (set() if name in but else common) for name in listed} == carried
