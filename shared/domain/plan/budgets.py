"""Azure's budgets a release's calls must keep within (contract §15): `budgets: {arm_writes_per_s: 10, ...}`.

The defaults are Azure's documented limits: Resource Manager refills a principal's write bucket at 10 tokens a
second per subscription and region, up to 200; Log Analytics answers 200 queries per user in 30 seconds. A
principal granted more (or a release spread over several principals) states it here; the executor and the
forecast both read these figures (shared/domain/budget.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from shared.domain.plan.base import Strict

ARM_WRITES_PER_S = 10.0
ARM_WRITE_BURST = 200
LOGS_QUERIES_PER_30S = 200
# Resource Manager's read bucket (GETs, and the polls of a long-running operation): not settable, documented.
ARM_READS_PER_S = 25.0
ARM_READ_BURST = 250
_LIMIT = 100_000  # far above any budget Azure grants; a larger figure is a typo


def _positive(value: Any, name: str, *, whole: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"budgets.{name} must be a number, got {value!r}")
    if whole and value != int(value):
        raise ValueError(f"budgets.{name} must be a whole number, got {value}")
    if not 0 < value <= _LIMIT:
        raise ValueError(f"budgets.{name} must be above 0 and at most {_LIMIT}, got {value}")
    return int(value) if whole else float(value)


class Budgets(Strict):
    """Per principal, subscription and region: what Azure lets promote's identity call."""

    arm_writes_per_s: float = ARM_WRITES_PER_S
    arm_write_burst: int = ARM_WRITE_BURST
    logs_queries_per_30s: int = LOGS_QUERIES_PER_30S

    @field_validator("arm_writes_per_s", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return _positive(value, "arm_writes_per_s", whole=False)

    @field_validator("arm_write_burst", mode="before")
    @classmethod
    def _burst(cls, value: Any) -> Any:
        return _positive(value, "arm_write_burst", whole=True)

    @field_validator("logs_queries_per_30s", mode="before")
    @classmethod
    def _queries(cls, value: Any) -> Any:
        return _positive(value, "logs_queries_per_30s", whole=True)
