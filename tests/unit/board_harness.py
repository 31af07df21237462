"""A board over the fakes for the pin tests (test_pin_board_*.py): the releases as their summaries and shards
tell them, and a history per release, read as the table store's BoardReads reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.application.board import BoardApp
from shared.domain.errors import UnknownRelease
from shared.domain.model import HistoryEntry, Release, Tally, Workload
from tests.fakes import FakeClock, MemoryStore


@dataclass
class Overview:
    release: Release
    record: dict

    @property
    def tally(self) -> Tally:
        return Tally.of(self.release.workloads.values())

    @property
    def state(self):
        return self.release.state


def summary(release: Release) -> Release:
    """The release as its shards' summaries tell it: each workload's state, pause, share and flight alone."""
    told = {
        n: Workload(n, state=w.state, paused=w.paused, traffic_percent=w.traffic_percent, flight=w.flight)
        for n, w in release.workloads.items()
    }
    return release.evolve(workloads=told)


class Reads:
    def __init__(self, releases: list[Release], history: dict[str, list[HistoryEntry]], now: datetime):
        self.releases = {r.name: r for r in releases}
        self.history, self.now = history, now

    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]:
        # the first listed changed last: the index lists the most recently changed first
        return [(summary(r), self.now - timedelta(minutes=5 * i)) for i, r in enumerate(self.releases.values())]

    def overview(self, name: str) -> Overview:
        if name not in self.releases:
            raise UnknownRelease(name)
        return Overview(summary(self.releases[name]), {"created_at": self.now - timedelta(hours=2)})

    def workloads(self, overview: Overview, names: list[str]) -> Release:
        full = self.releases[overview.release.name]
        return full.evolve(workloads={n: full.workloads[n] for n in names})

    def newest(self, name: str, workloads: list[str], limit: int, before: datetime | None = None):
        found = [
            e
            for e in self.history.get(name, [])
            if (e.workload is None or e.workload in workloads) and (before is None or e.at < before)
        ]
        return sorted(found, key=lambda e: e.at, reverse=True)[:limit]


class Store(MemoryStore):
    """The memory store with the recorded outcomes of messages by their de-duplication key (the table store's
    markers): a release-wide action's outcome is found there."""

    def __init__(self):
        super().__init__()
        self.outcomes: dict[tuple[str, str], HistoryEntry] = {}

    def outcome_of(self, name: str, key: str) -> HistoryEntry | None:
        return self.outcomes.get((name, key))


def board(releases: list[Release], history: dict[str, list[HistoryEntry]], now: datetime, judge=None) -> BoardApp:
    store = Store()
    for r in releases:
        store.create_release(r)
        store.history[r.name] = list(history.get(r.name, []))
    return BoardApp(store, Reads(releases, history, now), FakeClock(now), judge=judge)
