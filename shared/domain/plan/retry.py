"""How long promote retries an effect that Azure refused for a while (contract §18): `retry: {max: 1h}`."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from shared.domain.plan.base import Strict
from shared.domain.plan.durations import parse_duration

DEFAULT_RETRY_SECONDS = 3600
MAX_RETRY_SECONDS = 7 * 24 * 3600


class Retry(Strict):
    """Transient failures of a routing change, a decommission or an Azure Migrate call are retried with back-off
    for this long from the first failure; then the workload gets `attention` and the message stops retrying."""

    max: int = Field(default=DEFAULT_RETRY_SECONDS, description="seconds")

    @field_validator("max", mode="before")
    @classmethod
    def _max(cls, value: Any) -> int:
        seconds = parse_duration(value, limit=MAX_RETRY_SECONDS, what="retry.max")
        if seconds < 60:
            raise ValueError("retry.max must be at least 1m: Azure's own short outages take that long")
        return seconds
