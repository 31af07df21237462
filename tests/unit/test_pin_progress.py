"""A move's routing progress as status --json sends it and status and the board word it (contract §15), pinned
whole, with each boundary on both sides: the ETA's pace, the stale record (60 s), and the durations' units
(90 s, 90 min)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.progress import RoutingProgress, progress_text, took_in, took_words

START = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def progress(**fields) -> RoutingProgress:
    base = {"done": 0, "total": 5000, "writes_done": 0, "writes": 800, "started_at": START, "at": at(10),
            "forecast_s": 120.0}  # fmt: skip
    return RoutingProgress(**{**base, **fields})


def test_a_move_under_way_in_status_json():
    p = progress(done=1234, writes_done=200, at=at(40))
    # 40 s for a quarter of the writes: 160 s at this pace, slower than the 120 s forecast
    assert p.to_json(at(50)) == {
        "done": 1234,
        "total": 5000,
        "started_at": "2026-03-02T12:00:00Z",
        "eta": "2026-03-02T12:02:40Z",
        "eta_s": 110,
        "writes_done": 200,
        "writes": 800,
        "recorded_at": "2026-03-02T12:00:40Z",
        "stale": False,
        "took_s": None,
        "failed": False,
    }


def test_a_finished_move_has_no_eta_and_rounds_what_it_took():
    p = progress(done=5000, writes_done=800, at=at(83.26), took_s=83.26)
    assert p.eta() is None
    assert p.to_json(at(4000)) == {
        "done": 5000,
        "total": 5000,
        "started_at": "2026-03-02T12:00:00Z",
        "eta": None,
        "eta_s": None,
        "writes_done": 800,
        "writes": 800,
        "recorded_at": "2026-03-02T12:01:23Z",
        "stale": False,
        "took_s": 83.3,
        "failed": False,
    }
    assert progress(took_s=2.0, failed=True).to_json(at(10))["failed"] is True


def test_the_eta_follows_the_forecast_the_pace_and_never_the_past():
    assert progress(at=at(10)).eta() == at(120)  # nothing done yet: the forecast
    assert progress(writes_done=400, at=at(30)).eta() == at(120)  # faster than the forecast: the forecast
    assert progress(writes_done=400, at=at(100)).eta() == at(200)  # half the writes in 100 s: 200 s
    # without writes (a move of re-assertions only), the workloads tell the pace
    assert progress(writes=0, done=1000, at=at(60)).eta() == at(300)
    # past its forecast with nothing done: not earlier than now
    assert progress(at=at(500)).eta() == at(500)
    # a record from before its start (clocks apart) counts no elapsed time
    assert progress(writes_done=400, at=at(-30)).eta() == at(120)


def test_the_seconds_to_go_are_never_negative():
    p = progress(at=at(10))
    assert p.to_json(at(119))["eta_s"] == 1
    assert p.to_json(at(125))["eta_s"] == 0


def test_a_record_is_stale_only_past_sixty_seconds_and_never_once_finished():
    p = progress(at=at(10))
    assert p.to_json(at(70))["stale"] is False
    assert p.to_json(at(70.5))["stale"] is True
    assert progress(at=at(10), took_s=1.0).to_json(at(500))["stale"] is False


def doc(**fields) -> dict:
    return {"done": 1234, "total": 5000, "writes_done": 310, "writes": 795, "eta_s": 200, "took_s": None,
            "failed": False, "stale": False, "recorded_at": "2026-03-02T12:00:40Z", **fields}  # fmt: skip


def test_status_words_each_kind_of_move():
    assert progress_text(doc()) == "routing: 1,234 / 5,000 workloads (310 / 795 Azure writes), ETA 3 min"
    assert progress_text(doc(eta_s=0)) == "routing: 1,234 / 5,000 workloads (310 / 795 Azure writes), ETA any moment"
    assert progress_text(doc(eta_s=None)) == "routing: 1,234 / 5,000 workloads (310 / 795 Azure writes), ETA any moment"
    assert progress_text(doc(stale=True)) == (
        "routing: 1,234 / 5,000 workloads (310 / 795 Azure writes) when last recorded at 2026-03-02T12:00:40Z: "
        "the move was cut short; its redelivery carries it on"
    )
    assert progress_text(doc(took_s=82.0, done=5000, writes=1795)) == (
        "routing took 82 s (5,000 workloads, 1,795 Azure writes)"
    )
    assert progress_text(doc(failed=True, took_s=12.0)) == (
        "routing failed after 1,234 / 5,000 workloads (310 / 795 Azure writes) in 12 s: put back"
    )
    assert progress_text(doc(failed=True, took_s=None)) == (
        "routing failed after 1,234 / 5,000 workloads (310 / 795 Azure writes) in 0 s: put back"
    )


def test_durations_change_unit_at_ninety_seconds_and_ninety_minutes():
    def took(seconds: float) -> str:
        return progress_text(doc(took_s=seconds))

    assert took(89.4) == "routing took 89 s (5,000 workloads, 795 Azure writes)"
    assert took(90) == "routing took 2 min (5,000 workloads, 795 Azure writes)"
    assert took(5399) == "routing took 90 min (5,000 workloads, 795 Azure writes)"
    assert took(5400) == "routing took 1.5 h (5,000 workloads, 795 Azure writes)"


def test_the_words_history_keeps_and_finds_again():
    words = took_words(5000, 795, 82.04)
    assert words == "routing of 5000 workloads: 795 Azure writes in 82.0s"
    assert took_in(f"moved to 50%; {words}; access revoked") == words
    assert took_in("routing of 12 workloads: 3 Azure writes in 7s") == "routing of 12 workloads: 3 Azure writes in 7s"
    assert took_in("moved to 50%") is None


class Store:
    def __init__(self, reads_fail: bool = False):
        self.rows: list[RoutingProgress] = []
        self.reads_fail = reads_fail

    def record(self, release: str, progress: RoutingProgress) -> None:
        assert release == "wave-9"
        self.rows.append(progress)

    def read(self, release: str) -> RoutingProgress | None:
        assert release == "wave-9"
        if self.reads_fail:
            raise ConnectionError("storage away")
        return self.rows[-1] if self.rows else None


class Ticks:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def tracker(store: Store, ticks: Ticks, total: int = 20, writes: int = 8):
    from shared.application.routing_progress import MoveProgress
    from tests.fakes import FakeClock

    return MoveProgress(store, FakeClock(START), "wave-9", total=total, writes=writes, forecast_s=30.0, monotonic=ticks)


def test_a_move_records_once_every_three_seconds_from_its_start_clamped_to_its_size():
    store, ticks = Store(), Ticks()
    move = tracker(store, ticks)
    ticks.t += 2.99
    move.moved(15, 5)
    assert store.rows == []
    ticks.t += 0.01  # three seconds since the start: due
    move.moved(15, 5)  # more than the move's size, as a retried unit may report: clamped
    assert store.rows == [RoutingProgress(20, 20, 8, 8, START, at(3.0), 30.0)]
    ticks.t += 2.5
    move.moved(1, 1)
    assert len(store.rows) == 1 and move.recorded == 1
    ticks.t += 1.5
    assert move.finished() == 7.0
    assert store.rows[-1] == RoutingProgress(20, 20, 8, 8, START, at(7.0), 30.0, took_s=7.0)
    assert move.recorded == 2


def test_a_failed_move_records_what_it_had_done_and_a_quiet_one_records_when_storage_cannot_say():
    store, ticks = Store(), Ticks()
    move = tracker(store, ticks)
    ticks.t += 1
    move.moved(4, 2)
    ticks.t += 1
    move.failed()
    assert store.rows == [RoutingProgress(4, 20, 2, 8, START, at(2.0), 30.0, took_s=2.0, failed=True)]
    cannot_say = Store(reads_fail=True)
    quiet = tracker(cannot_say, ticks)
    ticks.t += 1
    quiet.finished(changed=False)
    assert cannot_say.rows == [RoutingProgress(20, 20, 8, 8, START, at(1.0), 30.0, took_s=1.0)]
    after_failure = tracker(store, ticks)
    ticks.t += 1
    after_failure.finished(changed=False)  # the last record is a failed move's: this one's replaces it
    assert store.rows[-1] == RoutingProgress(20, 20, 8, 8, START, at(1.0), 30.0, took_s=1.0)


def test_a_move_that_changes_nothing_keeps_the_record_of_the_move_that_did():
    store, ticks = Store(), Ticks()
    done = RoutingProgress(20, 20, 8, 8, START, at(5.0), 30.0, took_s=5.0)
    store.rows.append(done)
    again = tracker(store, ticks)
    ticks.t += 4
    again.moved(20, 8, changed=False)  # due, but it changed nothing: no record
    assert again.finished(changed=False) == 4.0
    assert store.rows == [done]
    by_default = tracker(store, ticks)  # a move is taken to have changed routing unless told otherwise
    ticks.t += 1
    by_default.finished()
    assert store.rows[-1] == RoutingProgress(20, 20, 8, 8, START, at(1.0), 30.0, took_s=1.0)
    once = tracker(store, ticks)
    ticks.t += 3
    once.moved(10, 4)  # recorded under way: its end is recorded even if the last unit changed nothing
    ticks.t += 1
    once.finished(changed=False)
    assert store.rows[-2:] == [
        RoutingProgress(10, 20, 4, 8, START, at(3.0), 30.0),
        RoutingProgress(20, 20, 8, 8, START, at(4.0), 30.0, took_s=4.0),
    ]
