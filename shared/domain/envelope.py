"""The parts every message shares: the CloudEvents envelope and the release/workload a message's data names."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.names import NAME_PATTERN

NAME = NAME_PATTERN
PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f]*$")


def printable(value: str | None) -> str | None:
    """A text without control characters (an optional one may be null: absent)."""
    if value is not None and not PRINTABLE.fullmatch(value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, Field(max_length=256)]
LongText = Annotated[str, Field(max_length=4096)]


class Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    release: str = Field(pattern=NAME)
    workload: str = Field(pattern=NAME)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=256)
    time: datetime | None = None
    subject: str | None = Field(default=None, max_length=256)
    datacontenttype: str | None = Field(default=None, max_length=128)

    _p = field_validator("id", "source")(printable)

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("time must carry a timezone (RFC 3339, e.g. 2026-11-26T22:00:00Z)")
        return value

    @property
    def release(self) -> str:
        return self.data.release  # type: ignore[attr-defined]

    @property
    def workload(self) -> str | None:
        return self.data.workload  # type: ignore[attr-defined]
