"""Recording a release-level move's routing progress while the batch runs (contract §15), for status and the
board: a few storage writes per move, never one per Azure write. The first is made once the move has run for
`EVERY` seconds, then at most one every `EVERY` seconds, and one at the end, which records how long it took (a
move shorter than `EVERY` costs that one write). Each goes to a small row of the release's own
(shared/adapters/routing_progress.py), never to the release record a decision commits: a progress write can
neither conflict with a decision nor be lost with one. A write that fails is logged and skipped: progress is
for people, and never holds or fails a move.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from shared.application.ports import Clock
from shared.domain.progress import RoutingProgress

log = logging.getLogger("promote")

EVERY = 3.0  # seconds between two progress writes of one move
BEATS_FOR = 600.0  # the heartbeat stops once no unit has ended for this long (a unit waits out 429s for 300 s)


class ProgressStore(Protocol):
    def record(self, release: str, progress: RoutingProgress) -> None:
        """Replace the release's routing progress."""

    def read(self, release: str) -> RoutingProgress | None:
        """The release's last recorded routing progress (None: no move recorded any)."""


class MoveProgress:
    """One move's progress: `moved` after each unit (from the batch's threads), `finished` once all are."""

    def __init__(
        self,
        store: ProgressStore,
        clock: Clock,
        release: str,
        *,
        total: int,
        writes: int,
        forecast_s: float,
        every: float = EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.store, self.release, self.every, self.monotonic = store, release, every, monotonic
        self.total, self.writes, self.forecast_s = total, writes, forecast_s
        self.started_at, self.began = clock.now(), monotonic()
        self.last = self.began  # when the last write was made (the start: the first waits `every` seconds)
        self.ended = self.began  # when the last unit ended
        self.done = self.writes_done = 0
        self.changed = False  # whether any unit changed routing (a re-assertion finds it all in place)
        self.lock = threading.Lock()
        self.recorded = 0  # writes made (tests, the bench)
        self.over = threading.Event()
        self.closing = threading.Lock()  # the heartbeat's write and the last one, one after the other

    def start(self) -> None:
        """Keep the record fresh while no unit ends (each waiting out a long Retry-After or a long operation): a
        record older than STALE_S reads as a move cut short. Stops at `finished` or `failed`."""
        threading.Thread(target=self._beat, name="routing-progress", daemon=True).start()

    def _beat(self) -> None:
        while not self.over.wait(self.every):
            with self.lock:
                now = self.monotonic()
                if now - self.ended > BEATS_FOR:  # hung: let the record go stale (status: cut short)
                    return
                if not self.changed or now - self.last < self.every:
                    continue
                self.last = now
                progress = self._progress(now, None)
            with self.closing:  # outside the lock (units go on), never after the move's last record
                if not self.over.is_set():
                    self._record(progress)

    def moved(self, workloads: int, writes: int, changed: bool = True) -> None:
        """A unit of `workloads` workloads and `writes` writes is carried out (`changed`: it changed routing);
        records if one is due and the move has changed anything yet (a re-assertion that finds every routing in
        place, however long its reads take, leaves the record of the move that made it alone)."""
        with self.lock:
            self.done += workloads
            self.writes_done += writes
            self.changed = self.changed or changed
            now = self.ended = self.monotonic()
            if now - self.last < self.every or not self.changed:
                return
            self.last = now
            progress = self._progress(now, None)
        self._record(progress)  # outside the lock: the other units go on meanwhile

    def finished(self, changed: bool = True) -> float:
        """Every unit is carried out: record how long the move took, and answer it (seconds). A move that
        `changed` nothing (a redelivered message re-asserting the routing its decision moved) and recorded
        nothing yet leaves a finished record alone: that is the move that made the routing, and how long it took."""
        with self.lock:
            self.over.set()
            now = self.monotonic()
            took = now - self.began
            progress = self._progress(now, took)
            quiet = not (changed or self.changed) and self.recorded == 0
        if not (quiet and self._kept()):
            with self.closing:
                self._record(progress)
        return took

    def failed(self) -> None:
        """The move failed part way and what it moved is put back: recorded as over, never as under way (a stale
        record would say its redelivery carries it on)."""
        with self.lock:
            self.over.set()
            now = self.monotonic()
            progress = self._progress(now, now - self.began, failed=True)
        with self.closing:
            self._record(progress)

    def _kept(self) -> bool:
        try:
            last = self.store.read(self.release)
        except Exception:  # cannot tell: record this move's
            return False
        return last is not None and last.finished and not last.failed

    def _progress(self, now: float, took: float | None, failed: bool = False) -> RoutingProgress:
        over = took is not None and not failed
        return RoutingProgress(
            done=self.total if over else min(self.done, self.total),
            total=self.total,
            writes_done=self.writes if over else min(self.writes_done, self.writes),
            writes=self.writes,
            started_at=self.started_at,
            at=self.started_at + timedelta(seconds=now - self.began),
            forecast_s=self.forecast_s,
            took_s=took,
            failed=failed,
        )

    def _record(self, progress: RoutingProgress) -> None:
        try:
            self.store.record(self.release, progress)
            self.recorded += 1
        except Exception as exc:  # storage away for a moment: the next write, or status after the move, tells
            log.warning("could not record the routing progress of %s: %s", self.release, exc)


def routing_progress_json(progress: ProgressStore, name: str, now: datetime) -> dict | None:
    """v3 §15: the release's last release-level move's routing progress (null if none recorded): done, total,
    started_at, eta while it goes on; took_s once it is over."""
    found = progress.read(name)
    return None if found is None else found.to_json(now)
