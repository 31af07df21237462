"""A release-level move's routing progress (contract §15): recorded a few times per move, never once per write;
its ETA from the budget's forecast and the pace kept; the words status and the board print."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from shared.application.routing_progress import MoveProgress
from shared.domain.progress import RoutingProgress, progress_text, took_in, took_words
from tests.fakes import T0, FakeClock


class Store:
    def __init__(self, fail: bool = False):
        self.rows: list[RoutingProgress] = []
        self.fail = fail

    def record(self, release: str, progress: RoutingProgress) -> None:
        if self.fail:
            raise ConnectionError("storage away")
        self.rows.append(progress)

    def read(self, release: str) -> RoutingProgress | None:
        return self.rows[-1] if self.rows else None


class Ticks:
    def __init__(self):
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def move(store: Store, ticks: Ticks, total: int = 100, writes: int = 100) -> MoveProgress:
    return MoveProgress(store, FakeClock(), "r", total=total, writes=writes, forecast_s=10.0, monotonic=ticks)


def test_progress_is_recorded_every_few_seconds_and_at_the_end_not_once_a_unit():
    store, ticks = Store(), Ticks()
    tracker = move(store, ticks, total=40, writes=40)
    for _ in range(40):  # a unit every 0.25 s for 10 s
        ticks.t += 0.25
        tracker.moved(1, 1)
    assert tracker.finished() == pytest.approx(10.0)
    assert len(store.rows) == 4, "at 3 s, 6 s, 9 s and the end: 4 writes for 40 units"
    during, last = store.rows[0], store.rows[-1]
    assert (during.done, during.writes_done, during.took_s) == (12, 12, None)
    assert during.at == T0 + timedelta(seconds=3) and during.started_at == T0
    assert (last.done, last.total, last.writes_done) == (40, 40, 40) and last.took_s == pytest.approx(10.0)


def test_a_move_shorter_than_the_interval_costs_one_write_and_a_failed_write_fails_nothing():
    store, ticks = Store(), Ticks()
    tracker = move(store, ticks, total=2, writes=1)
    ticks.t += 0.5
    tracker.moved(2, 1)
    tracker.finished()
    assert len(store.rows) == 1 and store.rows[0].took_s == pytest.approx(0.5)
    broken = move(Store(fail=True), ticks)
    ticks.t += 5
    broken.moved(1, 1)
    assert broken.finished() == pytest.approx(5.0) and broken.recorded == 0


def progress(done: int, elapsed: float, forecast: float = 60.0, took: float | None = None) -> RoutingProgress:
    return RoutingProgress(done, 5000, done // 10, 500, T0, T0 + timedelta(seconds=elapsed), forecast, took)


def test_the_eta_is_the_forecast_unless_the_move_is_slower_than_it():
    assert progress(2000, 2).eta() == T0 + timedelta(seconds=60), "the burst is spent at once: the forecast holds"
    assert progress(2500, 60).eta() == T0 + timedelta(seconds=120), "half the writes in 60 s: 60 s more"
    assert progress(0, 70).eta() == T0 + timedelta(seconds=70), "never in the past of its own record"
    assert progress(5000, 50, took=50).eta() is None


def test_status_words_a_move_under_way_and_one_over():
    under_way = progress(2500, 20).to_json(T0 + timedelta(seconds=20))
    assert (under_way["eta"], under_way["eta_s"], under_way["started_at"]) == (
        "2026-11-26T22:01:00Z",
        40,
        "2026-11-26T22:00:00Z",
    )
    assert progress_text(under_way) == "routing: 2,500 / 5,000 workloads (250 / 500 Azure writes), ETA 40 s"
    later = progress(2500, 20, forecast=200).to_json(T0 + timedelta(seconds=20))
    assert progress_text(later).endswith("ETA 3 min")
    over = progress(5000, 82.4, took=82.4).to_json(T0 + timedelta(seconds=90))
    assert over["took_s"] == 82.4 and over["eta"] is None
    assert progress_text(over) == "routing took 82 s (5,000 workloads, 500 Azure writes)"
    cut_short = progress(2500, 20).to_json(T0 + timedelta(seconds=200))
    assert cut_short["stale"] and "cut short" in progress_text(cut_short)


def test_a_notice_finds_how_long_the_move_took_in_its_history_words():
    words = took_words(5000, 795, 82.94)
    assert words == "routing of 5000 workloads: 795 Azure writes in 82.9s"
    assert took_in(f"promoted; network: {words}; access revoked") == words
    assert took_in("promoted; network: routes/a: 10.0.0.4 -> 10.1.0.4") is None


def test_a_move_that_found_every_routing_in_place_keeps_the_record_of_the_move_that_made_it():
    # a redelivered message re-asserts the routing its decision moved: nothing to write, nothing to record over
    store, ticks = Store(), Ticks()
    real = move(store, ticks, total=16, writes=14)
    ticks.t += 5.5
    real.moved(16, 14)
    real.finished()
    kept = len(store.rows)
    again = move(store, ticks, total=16, writes=2)
    ticks.t += 0.1
    again.moved(16, 2, changed=False)
    again.finished(changed=False)
    assert len(store.rows) == kept and store.read("r").took_s == pytest.approx(5.5)
    # ... but a move cut short (its last record under way) is finished by the attempt that finds it all in place
    cut = move(store, ticks, total=16, writes=14)
    ticks.t += 3.5
    cut.moved(8, 7)
    again = move(store, ticks, total=16, writes=14)
    ticks.t += 0.2
    again.finished(changed=False)
    assert store.read("r").finished and store.read("r").took_s == pytest.approx(0.2)


def test_a_move_that_failed_and_was_put_back_is_recorded_as_such_not_as_under_way():
    store, ticks = Store(), Ticks()
    tracker = move(store, ticks, total=300, writes=300)
    ticks.t += 4
    tracker.moved(120, 120)
    ticks.t += 1
    tracker.failed()
    last = store.read("r")
    assert last is not None and last.failed and last.done == 120 and last.took_s == pytest.approx(5.0)
    doc = last.to_json(T0 + timedelta(seconds=600))
    assert doc["failed"] and not doc["stale"] and doc["eta"] is None
    assert progress_text(doc) == "routing failed after 120 / 300 workloads (120 / 300 Azure writes) in 5 s: put back"


def test_a_long_reassertion_that_changes_nothing_records_nothing_while_it_goes_on():
    # a duplicate of a 5,000-workload move reads every workload's routing under the read budget for minutes
    store, ticks = Store(), Ticks()
    real = move(store, ticks, total=40, writes=40)
    ticks.t += 2
    real.moved(40, 40, changed=True)
    real.finished()
    again = move(store, ticks, total=40, writes=40)
    for _ in range(40):
        ticks.t += 1
        again.moved(1, 1, changed=False)
    again.finished(changed=False)
    assert len(store.rows) == 1 and store.read("r").took_s == pytest.approx(2.0)


def test_a_move_whose_units_all_wait_long_keeps_its_record_fresh_and_stops_once_over():
    # every unit waiting out a 60 s Retry-After, or a long operation: no unit ends for a minute, and a record
    # 60 s old would read 'cut short' while the move goes on
    store = Store()
    tracker = MoveProgress(store, FakeClock(), "r", total=10, writes=10, forecast_s=1.0, every=0.05)
    tracker.start()
    tracker.moved(1, 1)
    time.sleep(0.4)
    beats = len(store.rows)
    assert beats >= 2 and all(not row.finished for row in store.rows)
    assert store.rows[-1].at > store.rows[0].at
    tracker.finished()
    over = len(store.rows)
    time.sleep(0.2)
    assert len(store.rows) == over and store.read("r").finished


def test_the_heartbeat_of_a_move_whose_units_stopped_ending_long_ago_stops_and_lets_it_read_as_cut_short():
    store, ticks = Store(), Ticks()
    tracker = MoveProgress(store, FakeClock(), "r", total=10, writes=10, forecast_s=1.0, every=0.02, monotonic=ticks)
    tracker.moved(1, 1)
    tracker.start()
    ticks.t += 5
    time.sleep(0.1)
    assert store.rows, "beats while a unit ended recently"
    ticks.t += 3600  # no unit has ended for an hour: a hung process, not a move waiting out a Retry-After
    time.sleep(0.1)
    beats = len(store.rows)
    ticks.t += 5
    time.sleep(0.1)
    assert len(store.rows) == beats
