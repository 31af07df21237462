"""What every section of the plan shares: a strict, frozen model, names fit for table keys, Azure's ids."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.domain.names import NAME_PATTERN, is_name

SUBSCRIPTION = r"^[0-9a-fA-F-]{36}$"
RESOURCE_GROUP = r"^[-\w._()]+$"


class Strict(BaseModel):
    """A plan section: unknown fields are refused (a typo is named, not ignored) and nothing changes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_name(value: str) -> str:
    if not is_name(value):
        raise ValueError(f"{value!r} must match {NAME_PATTERN} (lowercase letters, digits and '-', at most 63)")
    return value
