"""The health judge (contract §10): every `interval` from the start of a flight, read each flighting workload's
checks, keep the consecutive counts in the judge's own record, and publish an ordinary verdict when one is due.

One round: list releases; per release one read of the lifecycle rows and one of the judge records; ONE Monitor
read of the release's due evaluations together (one Log Analytics query per check and window, `summarize` by
workload; metrics in batches of 50 resources: shared/adapters/metrics), then per evaluation ONE guarded write of
the record (the evaluation is claimed), then the verdict is published. Lifecycle events are untouched: the judge
writes only its own table. A read Monitor's budget held back (429, or the judge's own pacing) is no evaluation:
it is made in a later round, never counted as no data.

- Two judges at once: both may read, only one record write wins (ETag); the loser drops its evaluation.
- A judge killed after the write and before the publish: the record holds the verdict unpublished, and the
  next round publishes it (same id). Killed after the publish, before marking it: published again, same id,
  recorded as a duplicate. Verdict ids are deterministic per evaluation, so no evaluation is published twice.
- A flight is judged again after its healthy verdict only when the release voided that verdict (an alert under
  `on_alert: pause`, recorded as the workload's `trouble_at`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from shared.application.monitor_budget import BatchedMetricsSource, MonitorBudget
from shared.application.ports import JudgeStore, Publisher
from shared.domain import messages as m
from shared.domain.errors import ConflictError, PromoteError
from shared.domain.health import (
    JUDGE_SOURCE,
    CheckResult,
    Evaluation,
    Health,
    JudgeRecord,
    Reading,
    Streak,
    due_evaluation,
    evaluate,
    verdict_id,
    window_start,
)
from shared.domain.machine import CLOCK_SKEW
from shared.domain.model import Release, Workload, WorkloadState
from shared.domain.query_budget import anchor_ms
from shared.domain.times import from_ms, iso_s
from shared.domain.times import ms as _ms

log = logging.getLogger("promote.judge")
FIRST_MINUTE = 60  # seconds: a young flight's window starts at its start rounded up to this (one query per minute)


@dataclass
class JudgeRun:
    """What one round did."""

    judged: int = 0  # flighting workloads with health checks
    evaluated: int = 0  # evaluations carried out (and claimed)
    published: list[str] = field(default_factory=list)  # verdict ids published (first time or again)
    conflicts: int = 0  # evaluations another judge claimed first
    throttled: int = 0  # evaluations left to a later round: Monitor's budget held their reads back
    failures: list[str] = field(default_factory=list)
    next_due: datetime | None = None

    def due(self, moment: datetime) -> None:
        self.next_due = moment if self.next_due is None else min(self.next_due, moment)


@dataclass
class _Due:
    """An evaluation due in this round: what it reads (none before the flight's data can be in)."""

    w: Workload
    health: Health
    record: JudgeRecord
    evaluation: int
    started: datetime
    anchor: datetime  # where its evaluations are counted from
    end: datetime
    start: datetime | None  # the window's start; None: no complete data yet, nothing is read


class Judge:
    def __init__(
        self,
        *,
        store: Any,
        records: JudgeStore,
        source: BatchedMetricsSource,
        publisher: Publisher,
        clock: Any,
        budget: MonitorBudget | None = None,
    ):
        self.store, self.records, self.source, self.publisher, self.clock = store, records, source, publisher, clock
        # one per process: Monitor's budgets are per principal, across every release judged
        self.budget = budget or MonitorBudget(clock)
        # Releases whose plan has no health checks: a plan's checks never change once applied, so these are
        # read once per process, not once per round.
        self.unjudged: set[str] = set()
        # Releases whose reads the budget held back, and since when: judged first in the next rounds, so a
        # budget too small for every release delays each in turn instead of starving the last ones listed.
        self.held: dict[str, datetime] = {}

    def round(self, now: datetime | None = None) -> JudgeRun:
        """Evaluate every due check of every flighting workload; a failure of one release spares the others."""
        now = now or self.clock.now()
        run = JudgeRun()
        names = list(self.store.list_releases())
        names.sort(key=lambda n: (n not in self.held, self.held.get(n, now)))  # stable: else as listed
        for gone in set(self.held) - set(names):
            del self.held[gone]
        for name in names:
            if name in self.unjudged:
                continue
            try:
                release = self.store.get_release(name).release
                if not any(release.plan.health_of(w) for w in release.workloads):
                    self.unjudged.add(name)
                    continue
                self.judge_release(release, now, run)
            except PromoteError as exc:
                run.failures.append(f"{name}: {exc}")
        return run

    def judge_release(self, release: Release, now: datetime, run: JudgeRun) -> None:
        """The release's due evaluations read together (one Monitor read of every check for all of them), then
        each claimed and its verdict published."""
        judged = [
            (w, health)
            for w in release.workloads.values()
            if w.state == WorkloadState.FLIGHTING
            and w.flight_started_at is not None
            and (health := release.plan.health_of(w.name)) is not None
        ]
        if not judged:
            return
        records = self.records.load(release.name)
        due: list[_Due] = []
        for w, health in judged:
            run.judged += 1
            found = self._due(release, w, health, records.get(w.name), now, run)
            if found is not None:
                due.append(found)
        # the longest without an evaluation asks first: when the budget holds some reads back, the ones listed first
        # do not take every query round after round while the rest are never evaluated
        due.sort(key=lambda d: (d.record.at is not None, d.record.at or now))
        readings = self._read(release, [d for d in due if d.start is not None])
        throttled = run.throttled
        for d in due:
            self._evaluate(release, d, readings.get(d.w.name, {}), now, run)
        if run.throttled > throttled:
            self.held.setdefault(release.name, now)
        else:
            self.held.pop(release.name, None)

    def _due(
        self, release: Release, w: Workload, health: Health, record: JudgeRecord | None, now: datetime, run: JudgeRun
    ) -> _Due | None:
        started = w.flight_started_at
        assert started is not None  # a flighting workload always has its flight's start
        started_ms = _ms(started)
        instance = (w.attempt, w.flight, started_ms)
        if record is None or record.instance() != instance:
            record = JudgeRecord(w.name, *instance, etag=record.etag if record else None)
        if not record.published:  # claimed by an earlier round that did not get to publish it
            self._publish(release.name, record, run)
            return None
        if record.done:
            if not self._verdict_voided(w, record):
                return None  # its healthy verdict holds, or is still on its way
            # the healthy verdict was handled and later voided (an alert under on_alert: pause while a data-sync
            # or window hold kept the flight from growing): the flight needs a fresh verdict, judged anew
            record = replace(record, done=False, streaks={})
        # evaluations are counted from the flight's start rounded up to the interval: every flight of a release
        # is due at the same moments, and its evaluations are read together
        anchor = from_ms(anchor_ms(started_ms, health.interval))
        due = due_evaluation(_ms(anchor), health.interval, _ms(now))
        run.due(anchor + timedelta(seconds=health.interval * (max(due, record.evaluation) + 1)))
        if w.paused or due <= record.evaluation:
            return None  # paused: nothing is judged until resume; or this evaluation is done already
        # Monitor's data arrives late: the window ends `delay` before now, where the data is in. The bake is over
        # for the judge once that data covers it.
        end = now - timedelta(seconds=health.delay)
        start = window_start(anchor, end, health.interval) if end > anchor else None
        if start is not None and start <= anchor:
            # a window reaching the anchor reaches back to the flight's first whole minute: what came right after
            # the traffic moved is read too, never what came before it; flights begun in one minute share it
            start = min(anchor, from_ms(anchor_ms(started_ms, FIRST_MINUTE)))
        return _Due(w, health, record, due, started, anchor, end, start)

    def _read(self, release: Release, due: list[_Due]) -> dict[str, dict[str, Reading]]:
        if not due:
            return {}
        self.budget.limits[release.name] = release.plan.azure_budgets.logs_queries_per_30s
        asking = [(d.w.name, list(d.health.checks), d.start, d.end) for d in due]
        try:
            return self.source.read_many(release.name, asking, self.budget)
        except Exception as exc:  # the source's own failure is no data, never a verdict
            error = Reading(error=f"{type(exc).__name__}: {exc}"[:300])
            return {d.w.name: {c.name: error for c in d.health.checks} for d in due}

    def _evaluate(self, release: Release, d: _Due, readings: dict[str, Reading], now: datetime, run: JudgeRun) -> None:
        w, health, record, due, started = d.w, d.health, d.record, d.evaluation, d.started
        bake = release.plan.flights[w.flight - 1].bake  # type: ignore[index]
        if d.start is None:
            outcome = _waiting(health, record.streaks, d.anchor + timedelta(seconds=health.delay))
        else:
            held = [r for r in readings.values() if r.throttled]
            if held:  # Monitor's budget: not an evaluation, made in a later round
                run.throttled += 1
                run.due(now + timedelta(seconds=max(max(r.retry_after or 0 for r in held), 1)))
                return
            outcome = evaluate(health, record.streaks, readings, bake_over=d.end >= started + timedelta(seconds=bake))
        started_ms = _ms(started)
        verdict = None
        if outcome.verdict:
            verdict = m.new_event(
                f"flight-{outcome.verdict}",
                {
                    "release": release.name,
                    "workload": w.name,
                    "flight": w.flight,
                    "evaluation": due,
                    "cause": outcome.cause,
                    "checks": [r.model_dump(mode="json") for r in outcome.results],
                },
                id=verdict_id(release.name, w.name, w.attempt, w.flight, started_ms, due),
                source=JUDGE_SOURCE,
                time=now,
            )
        # An unhealthy verdict starts the counts afresh (a paused flight is judged anew after resume).
        streaks = {} if outcome.verdict == "unhealthy" else outcome.streaks
        claimed = replace(
            record,
            evaluation=due,
            at=now,
            streaks=streaks,
            results=outcome.results,
            verdict=verdict or record.verdict,
            published=verdict is None,
            done=outcome.verdict == "healthy",
        )
        try:
            claimed = self.records.save(release.name, claimed)
        except ConflictError:
            run.conflicts += 1  # another judge claimed this evaluation (or a newer one) first
            return
        run.evaluated += 1
        if verdict is not None:
            self._publish(release.name, claimed, run)

    @staticmethod
    def _verdict_voided(w: Workload, record: JudgeRecord) -> bool:
        """The workload no longer holds a healthy verdict for the flight, and an alert (or unhealthy verdict)
        voided one after this record's verdict was claimed: recorded on the workload, so it holds however
        many messages came since."""
        # two hosts' clocks (the service's and the judge's) may differ by CLOCK_SKEW: judging once more is
        # harmless (a verdict the release does not need is ignored), never judging again leaves it stuck
        trouble = w.flight_trouble_at
        return (
            w.healthy_flight != w.flight
            and trouble is not None
            and record.at is not None
            and trouble >= record.at - CLOCK_SKEW
        )

    def _publish(self, release: str, record: JudgeRecord, run: JudgeRun) -> None:
        assert record.verdict is not None
        self.publisher.publish(record.verdict)
        run.published.append(record.verdict["id"])
        log.info(
            "judge: %s %s/%s flight %s (%s)",
            record.verdict["type"],
            release,
            record.workload,
            record.flight,
            record.verdict["id"],
        )
        try:
            self.records.save(release, replace(record, published=True))
        except ConflictError:
            pass  # another judge marked (or superseded) it: the id is the same either way


def _waiting(health: Health, streaks: dict[str, Streak], ready: datetime) -> Evaluation:
    """An evaluation before any of the flight's data can be in: every check inconclusive, so never healthy; the
    counts stay as they are, since a delay that is Monitor's design is no sign of trouble."""
    why = f"no complete data yet: Monitor's data is in {health.delay}s late (ingestion_delay); first at {iso_s(ready)}"
    results = [
        CheckResult(
            name=c.name,
            max=c.max,
            min=c.min,
            min_samples=c.min_samples,
            passed=False,
            outcome="inconclusive",
            in_a_row=0,
            error=why,
        )
        for c in health.checks
    ]
    return Evaluation(results, dict(streaks))
