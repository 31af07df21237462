"""Health judged by promote itself (contract §10), pure: one check of the plan's `health` section
(shared/domain/plan/health.py) judged from a reading, the consecutive counts, the verdict, and the text that
shows the measured values.

No data is never healthy: a reading without a value, with fewer samples than `min_samples`, with an error or a
value that is not a finite number is *inconclusive*; an evaluation with any inconclusive check never yields a
healthy verdict, and `inconclusive_limit` of them in a row for one check yield an unhealthy one ("no data").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The plan's section lives in the plan (which imports nothing of this module); re-exported for its users.
from shared.domain.plan.health import CHECK_NAME, MAX_CHECKS, Health  # noqa: F401

JUDGE_SOURCE = "promote/judge"
CheckOutcome = Literal["passed", "failed", "inconclusive"]
Verdict = Literal["healthy", "unhealthy"]
Cause = Literal["failed", "no-data"]
# Azure Monitor ingests logs and platform metrics a few minutes late: each evaluation reads at least this much
# of the flight's most recent data, so a short interval does not read windows that cannot have data yet.
MIN_WINDOW_SECONDS = 300


# -- one evaluation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """What a metrics source returned for one check (value and samples), or why it could not."""

    value: float | None = None
    samples: int | None = None
    error: str | None = None  # a query error, a partial result, a timeout
    # Monitor refused the call for its budget (429, or the judge's own pacing held it back): not an evaluation at
    # all, so never counted as no data; the evaluation is made in a later round, `retry_after` seconds on at least
    throttled: bool = False
    retry_after: float | None = None


class CheckResult(BaseModel):
    """One check of one evaluation, as carried in a verdict's `data.checks` and shown by status."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str = Field(pattern=CHECK_NAME)
    value: float | None = None
    samples: int | None = Field(default=None, ge=0)
    max: float | None = None
    min: float | None = None
    min_samples: int = Field(default=1, ge=0)
    passed: bool
    outcome: CheckOutcome
    in_a_row: int = Field(default=1, ge=0)  # consecutive evaluations with this outcome (failed / inconclusive)
    error: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _consistent(self) -> CheckResult:
        if self.passed != (self.outcome == "passed"):
            raise ValueError("passed must be true exactly when outcome is passed")
        return self

    def describe(self) -> str:
        bound = " and ".join(
            x
            for x in (
                f"max {_num(self.max)}" if self.max is not None else "",
                f"min {_num(self.min)}" if self.min is not None else "",
            )
            if x
        )
        if self.outcome == "inconclusive":
            why = self.error or (
                f"{self.samples or 0} samples, needs {self.min_samples}"
                if self.value is not None or self.samples is not None
                else "no value"
            )
            return f"{self.name} no data ({why}){_row(self.in_a_row)}"
        verb = "passed" if self.passed else "FAILED"
        return f"{self.name} {_num(self.value)} {verb} ({bound}, {self.samples} samples){_row(self.in_a_row)}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _row(count: int) -> str:
    return f", {count} in a row" if count > 1 else ""


def judge_reading(check: Any, reading: Reading) -> tuple[CheckOutcome, str | None]:
    """The outcome of one check from its reading (and the error to show, if any)."""
    if reading.error:
        return "inconclusive", reading.error[:300]
    if reading.value is None or not math.isfinite(reading.value):
        return "inconclusive", None if reading.value is None else f"value {reading.value} is not a number"
    if reading.samples is not None and reading.samples < 0:
        return "inconclusive", f"samples {reading.samples} is negative"
    if reading.samples is None or reading.samples < check.min_samples:
        return "inconclusive", None
    if check.max is not None and reading.value > check.max:
        return "failed", None
    if check.min is not None and reading.value < check.min:
        return "failed", None
    return "passed", None


@dataclass(frozen=True)
class Streak:
    """A check's consecutive failed and inconclusive evaluations. A pass clears both; a failure clears the
    inconclusive count; an inconclusive evaluation (no data) neither confirms nor clears a failure."""

    failed: int = 0
    inconclusive: int = 0

    def after(self, outcome: CheckOutcome) -> Streak:
        if outcome == "passed":
            return Streak()
        if outcome == "failed":
            return Streak(failed=self.failed + 1)
        return replace(self, inconclusive=self.inconclusive + 1)


@dataclass(frozen=True)
class Evaluation:
    results: list[CheckResult]
    streaks: dict[str, Streak]
    verdict: Verdict | None = None
    cause: Cause | None = None
    culprits: list[str] = field(default_factory=list)  # the checks an unhealthy verdict comes from

    @property
    def inconclusive(self) -> bool:
        return any(r.outcome == "inconclusive" for r in self.results)


def evaluate(
    health: Health, streaks: dict[str, Streak], readings: dict[str, Reading], *, bake_over: bool
) -> Evaluation:
    """One evaluation of every check: the new streaks and, if one is due, the verdict.

    Unhealthy when a check failed `failure_limit` evaluations in a row (its values shown), or had no data
    `inconclusive_limit` evaluations in a row ("no data"); healthy only once the bake is over and every check
    passed in this evaluation with enough samples. A missing reading is inconclusive.
    """
    results, new = [], {}
    for check in health.checks:
        reading = readings.get(check.name) or Reading(error="no reading")
        outcome, error = judge_reading(check, reading)
        streak = streaks.get(check.name, Streak()).after(outcome)
        new[check.name] = streak
        in_a_row = {"failed": streak.failed, "inconclusive": streak.inconclusive, "passed": 1}[outcome]
        value = reading.value if reading.value is not None and math.isfinite(reading.value) else None
        samples = reading.samples if reading.samples is None or reading.samples >= 0 else None
        results.append(
            CheckResult(
                name=check.name,
                value=value,
                samples=samples,
                max=check.max,
                min=check.min,
                min_samples=check.min_samples,
                passed=outcome == "passed",
                outcome=outcome,
                in_a_row=in_a_row,
                error=error,
            )
        )
    failing = [r.name for r in results if r.outcome == "failed" and new[r.name].failed >= health.failure_limit]
    silent = [
        r.name for r in results if r.outcome == "inconclusive" and new[r.name].inconclusive >= health.inconclusive_limit
    ]
    if failing:
        return Evaluation(results, new, "unhealthy", "failed", failing)
    if silent:
        return Evaluation(results, new, "unhealthy", "no-data", silent)
    if bake_over and all(r.passed for r in results):
        return Evaluation(results, new, "healthy")
    return Evaluation(results, new)


def due_evaluation(started_ms: int, interval: int, now_ms: int) -> int:
    """The latest evaluation due at `now`: evaluation n is due `n * interval` after the flight began (n >= 1)."""
    return max(0, (now_ms - started_ms) // (interval * 1000))


def window_start(started: datetime, now: datetime, interval: int) -> datetime:
    """The start of an evaluation's window: the last `interval` (at least MIN_WINDOW_SECONDS), never before the
    flight began (what the migrated system saw at an earlier share says nothing about this flight)."""
    return max(started, now - timedelta(seconds=max(interval, MIN_WINDOW_SECONDS)))


def describe(results: list[CheckResult], cause: str | None = None, evaluation: int | None = None) -> str:
    """The measured values behind a verdict, for the history reason."""
    text = "; ".join(r.describe() for r in results)
    head = f"judge evaluation {evaluation}" if evaluation else "judge"
    prefix = "no data: " if cause == "no-data" else ""
    return f"{prefix}{head}: {text}" if text else head


def verdict_id(release: str, workload: str, attempt: int, flight: int, started_ms: int, evaluation: int) -> str:
    """Deterministic per (release, workload, attempt, flight, flight instance, evaluation): two judges, or a
    judge re-run after a crash, publish the same id for the same evaluation and de-duplication keeps one."""
    return f"judge:{release}:{workload}:{attempt}:{flight}:{started_ms}:{evaluation}"


@dataclass(frozen=True)
class JudgeRecord:
    """The judge's state for one workload's current flight instance (attempt, flight, start)."""

    workload: str
    attempt: int
    flight: int
    started_ms: int
    evaluation: int = 0  # the last evaluation claimed (0: none yet)
    at: datetime | None = None
    streaks: dict[str, Streak] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    verdict: dict | None = None  # the last verdict event of this instance
    published: bool = True  # False between claiming a verdict and publishing it
    done: bool = False  # a healthy verdict was published: this flight instance is judged
    etag: Any = None

    def instance(self) -> tuple[int, int, int]:
        return self.attempt, self.flight, self.started_ms

    def to_json(self) -> dict:
        verdict = self.verdict or {}
        return {
            "evaluation": self.evaluation,
            "flight": self.flight,
            "at": self.at.isoformat().replace("+00:00", "Z") if self.at else None,
            "checks": [r.model_dump(mode="json") for r in self.results],
            "verdict": verdict.get("type"),
            "verdict_id": verdict.get("id"),
        }
