"""The health judge (contract §10): every `interval` from the start of a flight, read each flighting workload's
checks, keep the consecutive counts in the judge's own record, and publish an ordinary verdict when one is due.

One round: list releases; per release one read of the lifecycle rows and one of the judge records; per due
evaluation the Monitor reads, then ONE guarded write of the record (the evaluation is claimed), then the
verdict is published. Lifecycle events are untouched: the judge writes only its own table.

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

from shared.application.ports import JudgeStore, MetricsSource, Publisher
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
from shared.domain.times import iso_s
from shared.domain.times import ms as _ms

log = logging.getLogger("promote.judge")


@dataclass
class JudgeRun:
    """What one round did."""

    judged: int = 0  # flighting workloads with health checks
    evaluated: int = 0  # evaluations carried out (and claimed)
    published: list[str] = field(default_factory=list)  # verdict ids published (first time or again)
    conflicts: int = 0  # evaluations another judge claimed first
    failures: list[str] = field(default_factory=list)
    next_due: datetime | None = None

    def due(self, moment: datetime) -> None:
        self.next_due = moment if self.next_due is None else min(self.next_due, moment)


class Judge:
    def __init__(self, *, store: Any, records: JudgeStore, source: MetricsSource, publisher: Publisher, clock: Any):
        self.store, self.records, self.source, self.publisher, self.clock = store, records, source, publisher, clock
        # Releases whose plan has no health checks: a plan's checks never change once applied, so these are
        # read once per process, not once per round.
        self.unjudged: set[str] = set()

    def round(self, now: datetime | None = None) -> JudgeRun:
        """Evaluate every due check of every flighting workload; a failure of one release spares the others."""
        now = now or self.clock.now()
        run = JudgeRun()
        for name in self.store.list_releases():
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
        for w, health in judged:
            run.judged += 1
            self._judge(release, w, health, records.get(w.name), now, run)

    def _judge(
        self, release: Release, w: Workload, health: Health, record: JudgeRecord | None, now: datetime, run: JudgeRun
    ) -> None:
        started = w.flight_started_at
        assert started is not None  # a flighting workload always has its flight's start
        started_ms = _ms(started)
        instance = (w.attempt, w.flight, started_ms)
        if record is None or record.instance() != instance:
            record = JudgeRecord(w.name, *instance, etag=record.etag if record else None)
        if not record.published:  # claimed by an earlier round that did not get to publish it
            self._publish(release.name, record, run)
            return
        if record.done:
            if not self._verdict_voided(w, record):
                return  # its healthy verdict holds, or is still on its way
            # the healthy verdict was handled and later voided (an alert under on_alert: pause while a data-sync
            # or window hold kept the flight from growing): the flight needs a fresh verdict, judged anew
            record = replace(record, done=False, streaks={})
        due = due_evaluation(started_ms, health.interval, _ms(now))
        run.due(started + timedelta(seconds=health.interval * (max(due, record.evaluation) + 1)))
        if w.paused or due <= record.evaluation:
            return  # paused: nothing is judged until resume; or this evaluation is done already
        # Monitor's data arrives late: the window ends `delay` before now, where the data is in. The bake is over
        # for the judge once that data covers it.
        end = now - timedelta(seconds=health.delay)
        bake = release.plan.flights[w.flight - 1].bake  # type: ignore[index]
        if end <= started:
            outcome = _waiting(health, record.streaks, started + timedelta(seconds=health.delay))
        else:
            try:
                readings = self.source.read(
                    release.name, w.name, list(health.checks), window_start(started, end, health.interval), end
                )
            except Exception as exc:  # the source's own failure is no data, never a verdict
                readings = {c.name: Reading(error=f"{type(exc).__name__}: {exc}"[:300]) for c in health.checks}
            outcome = evaluate(health, record.streaks, readings, bake_over=end >= started + timedelta(seconds=bake))
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
