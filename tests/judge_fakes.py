"""Fakes for the health judge's ports: an in-memory JudgeStore with ETags, a scripted batched MetricsSource, and a
publisher that hands verdicts to the service (the topic in between is the identity)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.application.judge import Judge
from shared.domain.errors import ConflictError
from shared.domain.health import JudgeRecord, Reading

_etags = itertools.count(1)


class MemoryJudgeStore:
    def __init__(self):
        self.rows: dict[tuple[str, str], JudgeRecord] = {}
        self.writes = 0

    def load(self, release: str) -> dict[str, JudgeRecord]:
        return {w: r for (rel, w), r in self.rows.items() if rel == release}

    def save(self, release: str, record: JudgeRecord) -> JudgeRecord:
        current = self.rows.get((release, record.workload))
        if (current.etag if current else None) != record.etag:
            raise ConflictError(f"{release}/{record.workload} changed")
        saved = replace(record, etag=next(_etags))
        self.rows[(release, record.workload)] = saved
        self.writes += 1
        return saved


@dataclass
class ScriptedSource:
    """Readings by (workload, check); a value may be an exception to raise for the whole read."""

    readings: dict[tuple[str, str], Reading] = field(default_factory=dict)
    failure: Exception | None = None
    calls: int = 0
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def set(
        self,
        workload: str,
        check: str,
        value: float | None = None,
        samples: int | None = None,
        error: str | None = None,
    ) -> None:
        self.readings[(workload, check)] = Reading(value=value, samples=samples, error=error)

    batches: list[list[str]] = field(default_factory=list)  # the workloads of each read, in order

    def read_many(self, release: str, requests: list, budget=None) -> dict[str, dict[str, Reading]]:
        """One call per release and round, whatever the number of workloads (as the real sources batch)."""
        self.calls += 1
        self.batches.append([w for w, *_ in requests])
        self.windows.extend((start, end) for _, _, start, end in requests)
        if self.failure:
            raise self.failure
        return {
            w: {c.name: self.readings[(w, c.name)] for c in checks if (w, c.name) in self.readings}
            for w, checks, _, _ in requests
        }


@dataclass
class ServicePublisher:
    """Delivers each published event to the service at once (or keeps it, when `hold` is set)."""

    service: object
    published: list[dict] = field(default_factory=list)
    results: list = field(default_factory=list)
    hold: bool = False
    fail_next: int = 0

    def publish(self, event: dict) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("topic unavailable")
        self.published.append(event)
        if not self.hold:
            self.results.append(self.service.handle(json.dumps(event)))  # type: ignore[attr-defined]


def judge_for(
    w,
    records: MemoryJudgeStore | None = None,
    source: ScriptedSource | None = None,
    publisher: ServicePublisher | None = None,
) -> tuple[Judge, MemoryJudgeStore, ScriptedSource, ServicePublisher]:
    records = records or MemoryJudgeStore()
    source = source or ScriptedSource()
    publisher = publisher or ServicePublisher(w.service)
    return (
        Judge(store=w.store, records=records, source=source, publisher=publisher, clock=w.clock),
        records,
        source,
        publisher,
    )


def flighting_release(store, doc: dict, started: datetime, spread: float = 0.0) -> None:
    """A release whose workloads are all flighting (flight 1), written directly: setting up thousands of them
    through messages is not what a judge test or bench measures. The flights began at `started`, or evenly
    over the `spread` seconds from it (workloads moved one after another)."""
    from datetime import timedelta

    from shared.domain.model import new_release
    from shared.domain.plan import validate_plan

    fresh = new_release(validate_plan(doc))
    percent = fresh.plan.flights[0].percent  # type: ignore[index]
    flighting = {
        n: w.evolve(
            state="flighting",
            flight=1,
            traffic_percent=percent,
            flight_started_at=started + timedelta(seconds=spread * i / len(fresh.workloads)),
            tests_passed=True,
            assets={a: True for a in w.assets},
        )
        for i, (n, w) in enumerate(fresh.workloads.items())
    }
    store.create_release(fresh.evolve(workloads=flighting))
