"""The plan's `health` section (contract §10): the checks promote's own judge evaluates while a flight bakes.
Judging them is in shared/domain/health.py."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.domain.plan.base import Strict
from shared.domain.plan.durations import parse_duration

MAX_CHECKS = 10  # each check is one Monitor call per evaluation; verdict messages carry every check
MAX_QUERY_CHARS = 10_000
AGGREGATIONS = ("Average", "Minimum", "Maximum", "Total", "Count")
CHECK_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_RESOURCE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/"
    r"[A-Za-z0-9.]+/[A-Za-z0-9]+/[^/?#]+(?:/[A-Za-z0-9]+/[^/?#]+)*$",
    re.I,
)
_REGION = r"^[a-z0-9]{2,40}$"
MIN_INTERVAL_SECONDS = 1
MAX_INTERVAL_SECONDS = 24 * 3600
# How late each provider's data can arrive: an evaluation reads only up to `now - ingestion delay`, so the window
# holds data that is in. Azure Monitor documents log ingestion as typically 20 s to 3 minutes ("Log data ingestion
# time in Azure Monitor") and platform metrics as "within a couple of minutes" (metrics troubleshooting: a recent
# minute shows partial data until the rest arrives): 3 minutes for both. `local` values are in when put.
INGESTION_DELAY_SECONDS = {"local": 0, "azure-monitor-logs": 180, "azure-monitor-metrics": 180}
MAX_INGESTION_DELAY_SECONDS = 3600


class _Check(Strict):
    name: str = Field(pattern=CHECK_NAME)
    max: float | None = None  # the value must be <= max
    min: float | None = None  # the value must be >= min
    min_samples: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> _Check:
        if self.max is None and self.min is None:
            raise ValueError("a check needs a bound: max, min or both")
        for bound in (self.max, self.min):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("bounds must be finite numbers")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class LocalCheck(_Check):
    """A value the local stack holds, put with `promote metrics put` (runs, tests, the demo)."""

    provider: Literal["local"]


class LogsCheck(_Check):
    """KQL on a Log Analytics workspace; the query's first row gives `value` and `samples`."""

    provider: Literal["azure-monitor-logs"]
    workspace: str = Field(pattern=_GUID, description="the workspace (customer) id")
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)


class MetricsCheck(_Check):
    """A platform metric of one resource, through the regional metrics batch API (azure-monitor-querymetrics)."""

    provider: Literal["azure-monitor-metrics"]
    resource: str = Field(max_length=1024)
    metric: str = Field(min_length=1, max_length=256)
    aggregation: Literal["Average", "Minimum", "Maximum", "Total", "Count"] = "Average"
    region: str = Field(pattern=_REGION, description="the resource's Azure region: the metrics API is regional")
    metric_namespace: str | None = Field(default=None, max_length=256)

    @field_validator("resource")
    @classmethod
    def _resource(cls, value: str) -> str:
        if not _RESOURCE_ID.match(value):
            raise ValueError(
                "resource must be an Azure resource id: /subscriptions/<id>/resourceGroups/<group>/"
                "providers/<namespace>/<type>/<name>"
            )
        return value

    @property
    def namespace(self) -> str:
        """The metric namespace: given, or the resource's type (Microsoft.Compute/virtualMachines)."""
        if self.metric_namespace:
            return self.metric_namespace
        parts = self.resource.split("/providers/", 1)[1].split("/")
        return "/".join([parts[0]] + parts[1::2])

    @property
    def subscription(self) -> str:
        return self.resource.split("/")[2]


Check = Annotated[LocalCheck | LogsCheck | MetricsCheck, Field(discriminator="provider")]
CHECK_PROVIDERS = ("local", "azure-monitor-logs", "azure-monitor-metrics")


class Health(Strict):
    interval: int = Field(default=60, description="seconds between evaluations while flighting")
    failure_limit: int = Field(default=2, ge=1, le=100)
    inconclusive_limit: int = Field(default=5, ge=1, le=100)
    # seconds; None: the slowest of the checks' providers (INGESTION_DELAY_SECONDS)
    ingestion_delay: int | None = Field(default=None, description="how late the checks' data may arrive")
    checks: list[Check] = Field(min_length=1, max_length=MAX_CHECKS)

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
            raise ValueError(f"interval must be between {MIN_INTERVAL_SECONDS}s and 24h")
        return seconds

    @field_validator("ingestion_delay", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> int | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if not 0 <= seconds <= MAX_INGESTION_DELAY_SECONDS:
            raise ValueError("ingestion_delay must be between 0s and 1h")
        return seconds

    @property
    def delay(self) -> int:
        """Seconds an evaluation's window ends before now: the plan's `ingestion_delay`, or its providers'."""
        if self.ingestion_delay is not None:
            return self.ingestion_delay
        return max(INGESTION_DELAY_SECONDS[c.provider] for c in self.checks)

    @field_validator("checks")
    @classmethod
    def _unique(cls, checks: list[Any]) -> list[Any]:
        names = [c.name for c in checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate check names: {', '.join(dupes)}")
        return checks
