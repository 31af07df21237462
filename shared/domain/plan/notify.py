"""The plan's `notify` section (contract §11): what a release says, to whom. The URL lives in a setting, never
in the plan."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from shared.domain.plan.base import Strict

NOTICE_KINDS = (
    "awaiting-approval",
    "flight-started",
    "rolled-back",
    "promoted",
    "deadline",
    "finalized",
    "override-rejected",
)
SETTING_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"  # an app setting / environment variable name
MAX_NOTIFY_TARGETS = 10
# Settings of promote itself and of the platform: a plan may not point a notification at them (their values
# are connection strings and keys, not receivers' URLs).
RESERVED_SETTING_PREFIXES = (
    "PROMOTE_",
    "AZUREWEBJOBS",
    "APPLICATIONINSIGHTS_",
    "WEBSITE_",
    "FUNCTIONS_",
    "SERVICEBUSCONNECTION",
    "IDENTITY_",
    "MSI_",
    "AZURE_",
)


class NotifyTarget(Strict):
    kind: Literal["teams", "webhook", "event-grid"]
    url_setting: str = Field(pattern=SETTING_PATTERN)  # refuses a URL itself: ':' and '/' are not allowed
    on: list[Literal[NOTICE_KINDS]] = Field(default_factory=lambda: list(NOTICE_KINDS), min_length=1)  # type: ignore[valid-type]

    @field_validator("url_setting")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.upper().startswith(RESERVED_SETTING_PREFIXES):
            raise ValueError(
                f"{value} is one of promote's or the platform's own settings; name a setting that "
                "holds only the receiver's URL"
            )
        return value
