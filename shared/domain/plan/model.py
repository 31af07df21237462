"""The plan itself: a release's workloads, its model (single-step, staged, flight) and its sections."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from functools import cached_property
from itertools import pairwise
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from shared.domain.actors import GROUP_ENTRY, is_group_entry
from shared.domain.plan.approval import Approval
from shared.domain.plan.base import Strict, check_name
from shared.domain.plan.budgets import Budgets
from shared.domain.plan.durations import parse_duration
from shared.domain.plan.finishing import DataSync, Decommission, DecommissionTarget, SiteRecoverySource, parse_hypercare
from shared.domain.plan.health import Health
from shared.domain.plan.migrate import MigrateSource, Rehearsal, check_machines, migrate_problems
from shared.domain.plan.notify import MAX_NOTIFY_TARGETS, NotifyTarget
from shared.domain.plan.retry import Retry
from shared.domain.plan.routing import LocalRouting, RevokeAccess, Routing
from shared.domain.plan.time import Deadlines, Windows

# A large release is kept in shards (shared/adapters/table_store/shards.py): a message about one workload
# commits in its shard, a release-wide decision at one commit point, so the plan's size is bounded by what the
# release record can store (validate.py: MAX_PLAN_CHARS, MAX_STORED_PLAN_CHARS), not by one transaction.
MAX_WORKLOADS = 5_000
MAX_WORKLOADS_WITH_NOTIFY = MAX_WORKLOADS  # the outbox row no longer competes with workload rows
MAX_AFTER = 20  # releases one release may wait for (each read once at apply)
_ASSET = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


def repeated(values: list[str]) -> list[str]:
    """The values given more than once, sorted: one pass (a plan holds thousands of workloads)."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def increasing_problems(percents: list[int]) -> list[str]:
    """What is wrong with the order of a plan's flight percents: each must be above the one before, and the
    last must be 100%. Plan and validate_plan both name these, so the messages are written once."""
    problems = []
    if any(b <= a for a, b in pairwise(percents)):
        problems.append(f"percents must be strictly increasing, got {percents}")
    if percents and percents[-1] != 100:
        problems.append(f"the last flight must be 100%, got {percents[-1]}%")
    return problems


class Flight(Strict):
    percent: int = Field(ge=1, le=100)
    bake: int = Field(default=0, description="seconds")

    @field_validator("bake", mode="before")
    @classmethod
    def _bake(cls, value: Any) -> int:
        return parse_duration(value)


class Workload(Strict):
    name: str
    assets: list[str] = Field(min_length=1, max_length=200)
    routing: Routing = Field(default_factory=LocalRouting)
    health: Health | None = None  # (v2 §10) overrides the release's health section for this workload
    data_sync: DataSync | None = None  # v2 §8: hold moves onto the migrated system while replication lags
    decommission: DecommissionTarget | None = None  # v2 §8: this workload's own source servers
    machines: list[str] | None = Field(default=None, min_length=1, max_length=200)  # v3 §16: default `assets`

    _check = field_validator("name")(check_name)
    _check_machines = field_validator("machines")(check_machines)

    @property
    def machine_names(self) -> list[str]:
        """The Azure Migrate machine of each asset (v3 §16), in the order of `assets`."""
        return list(self.machines or self.assets)

    @field_validator("assets")
    @classmethod
    def _assets(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ASSET.fullmatch(value):
                raise ValueError(f"asset {value!r} must be 1-256 characters without control characters")
        if len(set(values)) != len(values):
            raise ValueError(f"duplicate assets: {', '.join(repeated(values))}")
        return values


def _check_after(values: list[str]) -> list[str]:
    for value in values:
        check_name(value)
    if len(set(values)) != len(values):
        raise ValueError("releases in `after` must be unique")
    return values


class Plan(Strict):
    release: str
    model: Literal["single-step", "staged", "flight"]
    approval: Literal["auto", "manual"] | Approval | None = None  # v3 §19: or {mode, quorum, separate_duties}
    approvers: list[str] = Field(default_factory=list, max_length=100)
    operators: list[str] = Field(default_factory=list, max_length=100)
    flights: list[Flight] | None = None
    on_alert: Literal["rollback", "pause"] = "rollback"
    on_drift: Literal["report", "reapply"] = "report"
    revoke_access: RevokeAccess | None = None
    workloads: list[Workload] = Field(min_length=1, max_length=MAX_WORKLOADS)
    notify: list[NotifyTarget] | None = Field(default=None, max_length=MAX_NOTIFY_TARGETS)
    # time and order (contract section 9): see shared/domain/gates.py
    deadlines: Deadlines | None = None
    on_deadline: Literal["notify", "pause", "rollback"] = "notify"
    windows: Windows | None = None
    after: list[str] = Field(default_factory=list, max_length=MAX_AFTER)
    health: Health | None = None  # (v2 §10) the built-in judge's checks, release-wide
    hypercare: int = Field(default=0, description="seconds")  # v2 §8: the source is kept this long after promotion
    decommission: Decommission | None = None  # v2 §8: finalize's approval and default provider
    replication: SiteRecoverySource | None = None  # v2 §8: read replication state from Site Recovery
    retry: Retry = Field(default_factory=Retry)  # v3 §18: how long transient Azure failures of an effect are retried
    wave: str | None = None  # v3 §14: groups releases on the board and in reports (a name, as a release's)
    budgets: Budgets | None = None  # v3 §15: Azure's budgets for this release's calls (None: Azure's defaults)
    source: MigrateSource | None = None  # v3 §16: Azure Migrate drives rehearsal, cutover and completion
    rehearsal: Rehearsal | None = None  # v3 §16: test migration into an isolated network (needs source)

    _check = field_validator("release")(check_name)
    _check_wave = field_validator("wave")(lambda v: v if v is None else check_name(v))
    _check_after = field_validator("after")(_check_after)
    _hypercare = field_validator("hypercare", mode="before")(lambda v: parse_hypercare(v))

    @field_validator("approvers", "operators")
    @classmethod
    def _actors(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or len(value) > 256 or any(ord(c) < 32 for c in value):
                raise ValueError(f"actor {value!r} must be 1-256 printable characters")
            if is_group_entry(value) and not GROUP_ENTRY.match(value):
                raise ValueError(
                    f"{value!r}: a group is named group:<object-id>, the Entra ID group's object id "
                    "(a GUID such as group:1b4e28ba-2fa1-11d2-883f-0016d3cca427)"
                )
        return values

    @field_validator("flights")
    @classmethod
    def _flights(cls, flights: list[Flight] | None) -> list[Flight] | None:
        if flights is None:
            return None
        if not flights:
            raise ValueError("at least one flight is needed")
        problems = increasing_problems([f.percent for f in flights])
        if problems:
            raise ValueError(problems[0])
        return flights

    @field_validator("workloads")
    @classmethod
    def _unique(cls, workloads: list[Workload]) -> list[Workload]:
        dupes = repeated([w.name for w in workloads])
        if dupes:
            raise ValueError(f"duplicate workload names: {', '.join(dupes)}")
        return workloads

    @model_validator(mode="after")
    def _defaults(self) -> Plan:
        if self.approval is None:
            object.__setattr__(self, "approval", "manual" if self.model == "staged" else "auto")
        if isinstance(self.approval, Approval) and self.approval.quorum > 1 and self.approval.mode == "auto":
            raise ValueError("approval.quorum counts approvers: it needs mode manual")
        problems = migrate_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def approval_mode(self) -> Literal["auto", "manual"]:
        return self.approval.mode if isinstance(self.approval, Approval) else self.approval or "auto"

    @property
    def quorum(self) -> int:
        return self.approval.quorum if isinstance(self.approval, Approval) else 1

    @property
    def separate_duties(self) -> bool:
        return isinstance(self.approval, Approval) and self.approval.separate_duties

    # -- derived, pure helpers ------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Workload]:
        """The workloads by name, built once per plan: views look up every workload of thousands."""
        return {w.name: w for w in self.workloads}

    def workload(self, name: str) -> Workload | None:
        return self._by_name.get(name)

    def routing_of(self, name: str) -> Routing:
        """The routing settings of a workload of this plan; KeyError for a name the plan does not hold."""
        workload = self.workload(name)
        if workload is None:
            raise KeyError(f"release {self.release} has no workload {name!r}")
        return workload.routing

    def health_of(self, name: str) -> Health | None:
        """The health section that judges a workload: its own, else the release's."""
        workload = self.workload(name)
        return (workload.health if workload else None) or self.health

    @property
    def azure_budgets(self) -> Budgets:
        return self.budgets or Budgets()

    @property
    def flight_percents(self) -> list[int]:
        return [f.percent for f in self.flights or []]

    def canonical(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)  # windows' `from` is a keyword in Python

    def fingerprint(self, *, without_people: bool = False) -> str:
        data = self.canonical()
        if without_people:
            data.pop("approvers"), data.pop("operators")
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
