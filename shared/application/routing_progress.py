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
from datetime import timedelta
from typing import Protocol

from shared.application.ports import Clock
from shared.domain.progress import RoutingProgress

log = logging.getLogger("promote")

EVERY = 3.0  # seconds between two progress writes of one move


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
        self.done = self.writes_done = 0
        self.lock = threading.Lock()
        self.recorded = 0  # writes made (tests, the bench)

    def moved(self, workloads: int, writes: int) -> None:
        """A unit of `workloads` workloads and `writes` writes is carried out; records if one is due."""
        with self.lock:
            self.done += workloads
            self.writes_done += writes
            now = self.monotonic()
            if now - self.last < self.every:
                return
            self.last = now
            progress = self._progress(now, None)
        self._record(progress)  # outside the lock: the other units go on meanwhile

    def finished(self) -> float:
        """Every unit is carried out: record how long the move took, and answer it (seconds)."""
        with self.lock:
            now = self.monotonic()
            took = now - self.began
            progress = self._progress(now, took)
        self._record(progress)
        return took

    def _progress(self, now: float, took: float | None) -> RoutingProgress:
        return RoutingProgress(
            done=self.total if took is not None else min(self.done, self.total),
            total=self.total,
            writes_done=self.writes if took is not None else min(self.writes_done, self.writes),
            writes=self.writes,
            started_at=self.started_at,
            at=self.started_at + timedelta(seconds=now - self.began),
            forecast_s=self.forecast_s,
            took_s=took,
        )

    def _record(self, progress: RoutingProgress) -> None:
        try:
            self.store.record(self.release, progress)
            self.recorded += 1
        except Exception as exc:  # storage away for a moment: the next write, or status after the move, tells
            log.warning("could not record the routing progress of %s: %s", self.release, exc)
