"""Finishing a migration (contract §8): the plan's data_sync / hypercare / decommission sections and the
pure gates built on them (data-sync, hypercare, finalize). No I/O, no clock reads: `now` is passed in.

The gates are plain predicates returning what holds the workload (or None), so `advance`, `status` and a
future `waiting_for` (shared/domain/gates.py) answer "why not yet?" from one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:  # the model imports the plan, which imports this module
    from shared.domain.model import Release, Workload

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_HYPERCARE_SECONDS = 365 * 24 * 3600  # timers hop at most TIMER_HOP at a time, so this may exceed 7 days
MAX_LAG_SECONDS = 7 * 24 * 3600
TIMER_HOP = timedelta(days=7)  # a scheduled queue message waits at most seven days; longer waits re-schedule
DECOMMISSION_RETRY_FIRST = 30  # seconds before the first retry of a failed decommission, doubling
DECOMMISSION_RETRY_MAX = 30 * 60  # ... up to this
AUTO_ACTOR = "promote"  # who finalizes with decommission.approval: auto
# An Azure VM's resource id (case-insensitive like every ARM path).
VM_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]{1,90}/providers/"
    r"Microsoft\.Compute/virtualMachines/[A-Za-z0-9][-\w.]{0,63}$",
    re.IGNORECASE,
)
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def duration(value: Any, *, limit: int, what: str) -> int:
    """'5s', '2m', '48h', '1d12h' or a number of seconds -> seconds, at most `limit`."""
    if isinstance(value, bool):
        raise ValueError(f"{what} is a duration like 30s, 10m or 48h")
    if isinstance(value, (int, float)) and value == int(value):
        seconds = int(value)
    elif isinstance(value, str) and value and (m := _DURATION.match(value.strip())) and any(m.groups()):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 5s, 2m, 48h)")
    if seconds < 0:
        raise ValueError(f"{what} cannot be negative")
    if seconds > limit:
        raise ValueError(f"{what} can be at most {limit // 86400}d")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSync(_Strict):
    """Hold every move onto the migrated system until the latest replication lag is fresh and small."""

    max_lag: int = Field(description="seconds")
    max_age: int = Field(description="seconds")

    @field_validator("max_lag", mode="before")
    @classmethod
    def _lag(cls, value: Any) -> int:
        return duration(value, limit=MAX_LAG_SECONDS, what="max_lag")

    @field_validator("max_age", mode="before")
    @classmethod
    def _age(cls, value: Any) -> int:
        seconds = duration(value, limit=MAX_LAG_SECONDS, what="max_age")
        if seconds < 1:
            raise ValueError("max_age must be at least 1s: a report of age 0 is never fresh")
        return seconds


class DecommissionTarget(_Strict):
    """How one workload's source system is turned off: `local`, `azure-vm` or `webhook`."""

    provider: Literal["local", "azure-vm", "webhook"] = "local"
    source_vms: list[str] | None = Field(default=None, max_length=100)
    url_setting: str | None = None

    @field_validator("source_vms")
    @classmethod
    def _vms(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            if not VM_ID.match(value):
                raise ValueError(
                    f"{value!r} is not a virtual machine resource id (/subscriptions/<id>/"
                    "resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>)"
                )
        if values is not None and len({v.lower() for v in values}) != len(values):
            raise ValueError("source_vms must be unique")
        return values

    @field_validator("url_setting")
    @classmethod
    def _setting(cls, value: str | None) -> str | None:
        if value is not None and not SETTING_NAME.match(value):
            raise ValueError(f"{value!r} is not an app setting name (letters, digits and _)")
        return value

    @model_validator(mode="after")
    def _provider_fields(self) -> DecommissionTarget:
        if self.provider == "azure-vm" and not self.source_vms:
            raise ValueError("azure-vm needs source_vms (the source servers' resource ids)")
        if self.provider != "azure-vm" and self.source_vms is not None:
            raise ValueError(f"source_vms is for provider azure-vm, not {self.provider}")
        if self.provider == "webhook" and not self.url_setting:
            raise ValueError("webhook needs url_setting (the name of the app setting holding the URL)")
        if self.provider != "webhook" and self.url_setting is not None:
            raise ValueError(f"url_setting is for provider webhook, not {self.provider}")
        return self


class Decommission(DecommissionTarget):
    """Release-wide: who finalizes (an approver, or promote at hypercare end) and the default provider."""

    approval: Literal["manual", "auto"] = "manual"


class SiteRecoverySource(_Strict):
    """Where the migration tool keeps its replication items: an Azure Site Recovery / Azure Migrate vault.
    A timer reads its replication protected items and publishes asset-replicated and replication-lag for the
    release's assets (matched by the item's friendly name, i.e. the server's name)."""

    provider: Literal["azure-site-recovery"] = "azure-site-recovery"
    subscription: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    resource_group: str = Field(min_length=1, max_length=90, pattern=r"^[-\w._()]+$")
    vault: str = Field(min_length=2, max_length=50, pattern=r"^[A-Za-z][-A-Za-z0-9]{1,49}$")


def parse_hypercare(value: Any) -> int:
    return duration(value, limit=MAX_HYPERCARE_SECONDS, what="hypercare")


def plan_problems(plan: Any) -> list[tuple[str, str]]:
    """Cross-field rules of §8 on a validated plan: (field path, reason)."""
    problems: list[tuple[str, str]] = []
    shared = plan.decommission
    if shared is not None and shared.provider == "azure-vm":
        users = [w.name for w in plan.workloads if w.decommission is None]
        if len(users) > 1:
            problems.append(
                (
                    "decommission.source_vms",
                    f"the release-wide source_vms would power off the same "
                    f"servers for {len(users)} workloads ({', '.join(users[:5])}); give each workload "
                    "its own decommission.source_vms",
                )
            )
    return problems


# -- the gates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hold:
    """A gate that holds a workload now: `gate` is the contract's name; `details` what a person needs."""

    gate: str
    reason: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"gate": self.gate, **self.details}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def lag_age(w: Workload, now: datetime) -> float | None:
    return None if w.lag_at is None else max(0.0, (now - w.lag_at).total_seconds())


def data_sync_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    """Why the workload may not move users onto the migrated system now (None: it may, or no gate)."""
    spec = release.plan.workload(w.name)
    sync = getattr(spec, "data_sync", None)
    if sync is None:
        return None
    details = {
        "lag_seconds": w.lag_seconds,
        "max_lag_seconds": sync.max_lag,
        "reported_at": _iso(w.lag_at),
        "max_age_seconds": sync.max_age,
    }
    age = lag_age(w, now)
    if w.lag_seconds is None or age is None:
        return Hold("data-sync", "data-sync: no replication-lag reported yet", details)
    if w.lag_seconds > sync.max_lag:
        return Hold("data-sync", f"data-sync: latest lag {w.lag_seconds:g}s is above max_lag {sync.max_lag}s", details)
    if age > sync.max_age:
        return Hold(
            "data-sync", f"data-sync: latest lag report is {age:.0f}s old, older than max_age {sync.max_age}s", details
        )
    return None


def data_synced(release: Release, w: Workload, now: datetime) -> bool:
    return data_sync_hold(release, w, now) is None


def hypercare_until(release: Release, w: Workload) -> datetime | None:
    if w.promoted_at is None:
        return None
    return w.promoted_at + timedelta(seconds=release.plan.hypercare)


def in_hypercare(release: Release, w: Workload, now: datetime) -> bool:
    until = hypercare_until(release, w)
    return w.state == "promoted" and until is not None and now < until


def hypercare_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    if not in_hypercare(release, w, now):
        return None
    until = hypercare_until(release, w)
    return Hold("hypercare", f"hypercare until {_iso(until)}", {"until": _iso(until)})


def decommission_of(release: Release, name: str) -> DecommissionTarget:
    """The decommission target of one workload: its own, else the release's, else `local`."""
    spec = release.plan.workload(name)
    own = getattr(spec, "decommission", None)
    return own or release.plan.decommission or DecommissionTarget()


def finalize_approval(release: Release) -> str:
    return release.plan.decommission.approval if release.plan.decommission else "manual"


def finalize_hold(release: Release, w: Workload, now: datetime) -> Hold | None:
    """A promoted workload past hypercare that is not finalized yet: who may finalize, or the failed step."""
    if w.state != "promoted" or in_hypercare(release, w, now):
        return None
    details: dict[str, Any] = {
        "approval": finalize_approval(release),
        "approvers": list(release.plan.approvers),
        "provider": decommission_of(release, w.name).provider,
    }
    if w.finalize_requested_by:
        details.update(
            requested_by=w.finalize_requested_by,
            requested_at=_iso(w.finalize_requested_at),
            error=w.decommission_error,
            failures=w.decommission_failures,
        )
        return Hold(
            "finalize",
            f"finalize requested by {w.finalize_requested_by}; decommission failed "
            f"{w.decommission_failures} time(s): {w.decommission_error}; retrying",
            details,
        )
    if details["approval"] == "auto" and w.promoted_at is None:
        return None
    who = "automatic at hypercare end" if details["approval"] == "auto" else "an approver's override finalize"
    return Hold("finalize", f"waiting for finalize ({who})", details)


def finish_holds(release: Release, w: Workload, now: datetime) -> list[Hold]:
    """Every §8 gate holding the workload now (for status / waiting_for)."""
    holds = []
    if w.state in ("ready", "flighting") and not w.paused:
        if hold := data_sync_hold(release, w, now):
            holds.append(hold)
    for gate in (hypercare_hold, finalize_hold):
        if hold := gate(release, w, now):
            holds.append(hold)
    return holds


def retry_delay(failures: int) -> int:
    """Seconds before the next attempt after `failures` failed decommissions (30s doubling, at most 30m)."""
    return min(DECOMMISSION_RETRY_MAX, DECOMMISSION_RETRY_FIRST * 2 ** max(0, min(failures - 1, 10)))
