"""The release plan: validated once, at apply time, with every problem named by its field path."""
from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.domain.errors import PlanError
from shared.domain.finishing import (DataSync, Decommission, DecommissionTarget, SiteRecoverySource, parse_hypercare,
                                     plan_problems)
from shared.domain.shares import ALL_OR_NOTHING, realisable_share

NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_NAME = re.compile(NAME_PATTERN)
# Every workload adds a state row and a history row to the release's one transaction per message,
# and a Table Storage transaction holds at most 100 entities (release row + marker + 2 per workload).
MAX_WORKLOADS = 49
MAX_BAKE_SECONDS = 7 * 24 * 3600  # a scheduled queue message can wait at most seven days
# The plan is kept in the release row (1 MiB an entity, strings in UTF-16) and its assets in the workload
# rows, all of which one transaction (4 MiB) may rewrite: 400,000 characters of JSON keeps well inside both.
MAX_PLAN_CHARS = 400_000
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ASSET = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


def parse_duration(value: Any) -> int:
    """'30s', '10m', '1h30m', '2d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is text like 30s, 10m or 1h30m")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value and (m := _DURATION.match(value.strip())) and any(m.groups()):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 1h30m)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_BAKE_SECONDS:
        raise ValueError("a bake time can be at most 7d")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{value!r} must match {NAME_PATTERN} (lowercase letters, digits and '-', at most 63)")
    return value


class _Azure(_Strict):
    subscription: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    resource_group: str = Field(min_length=1, max_length=90, pattern=r"^[-\w._()]+$")


class LocalRouting(_Strict):
    provider: Literal["local"] = "local"


class TrafficManagerRouting(_Azure):
    provider: Literal["traffic-manager"]
    profile: str = Field(min_length=1, max_length=63)
    source_endpoint: str = Field(min_length=1, max_length=260)
    target_endpoint: str = Field(min_length=1, max_length=260)
    endpoint_type: Literal["azureEndpoints", "externalEndpoints", "nestedEndpoints"] = "externalEndpoints"


def _addresses(values: list[str]) -> list[str]:
    for value in values:
        ipaddress.ip_address(value)
    if len(set(values)) != len(values):
        raise ValueError("addresses must be unique")
    return values


class LoadBalancerRouting(_Azure):
    provider: Literal["load-balancer"]
    load_balancer: str = Field(min_length=1, max_length=80)
    backend_pool: str = Field(min_length=1, max_length=80)
    source_addresses: list[str] = Field(min_length=1, max_length=100)
    target_addresses: list[str] = Field(min_length=1, max_length=100)

    _check_addresses = field_validator("source_addresses", "target_addresses")(_addresses)

    @model_validator(mode="after")
    def _disjoint(self):
        if set(self.source_addresses) & set(self.target_addresses):
            raise ValueError("source_addresses and target_addresses must not overlap")
        return self


class ApplicationGatewayRouting(_Azure):
    provider: Literal["application-gateway"]
    application_gateway: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=80)
    source_pool: str = Field(min_length=1, max_length=80)
    target_pool: str = Field(min_length=1, max_length=80)


class RouteTableRouting(_Azure):
    provider: Literal["route-table"]
    route_table: str = Field(min_length=1, max_length=80)
    route: str = Field(min_length=1, max_length=80)
    source_next_hop: str
    target_next_hop: str

    _check_hops = field_validator("source_next_hop", "target_next_hop")(lambda v: (ipaddress.ip_address(v), v)[1])


Routing = Annotated[
    Union[LocalRouting, TrafficManagerRouting, LoadBalancerRouting, ApplicationGatewayRouting, RouteTableRouting],
    Field(discriminator="provider"),
]
PROVIDERS = ("local", "traffic-manager", "load-balancer", "application-gateway", "route-table")


class RevokeAccess(_Strict):
    """Deny the migration team's network access at promotion (an NSG rule; `local` records it locally)."""

    provider: Literal["network-security-group", "local"] = "network-security-group"
    subscription: str | None = Field(default=None, pattern=r"^[0-9a-fA-F-]{36}$")
    resource_group: str | None = None
    network_security_group: str | None = None
    rule: str = Field(default="deny-migration-team", min_length=1, max_length=80)
    priority: int = Field(default=100, ge=100, le=4096)
    source_prefixes: list[str] = Field(min_length=1)

    @field_validator("source_prefixes")
    @classmethod
    def _prefixes(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_network(value, strict=False)
        return values

    @model_validator(mode="after")
    def _nsg_fields(self):
        if self.provider == "network-security-group":
            missing = [f for f in ("subscription", "resource_group", "network_security_group") if not getattr(self, f)]
            if missing:
                raise ValueError(f"network-security-group needs {', '.join(missing)}")
        return self


class Flight(_Strict):
    percent: int = Field(ge=1, le=100)
    bake: int = Field(default=0, description="seconds")

    @field_validator("bake", mode="before")
    @classmethod
    def _bake(cls, value: Any) -> int:
        return parse_duration(value)


class Workload(_Strict):
    name: str
    assets: list[str] = Field(min_length=1, max_length=200)
    routing: Routing = Field(default_factory=LocalRouting)
    data_sync: DataSync | None = None  # v2 §8: hold moves onto the migrated system while replication lags
    decommission: DecommissionTarget | None = None  # v2 §8: this workload's own source servers

    _check = field_validator("name")(_check_name)

    @field_validator("assets")
    @classmethod
    def _assets(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ASSET.match(value):
                raise ValueError(f"asset {value!r} must be 1-256 characters without control characters")
        if len(set(values)) != len(values):
            dupes = sorted({v for v in values if values.count(v) > 1})
            raise ValueError(f"duplicate assets: {', '.join(dupes)}")
        return values


class Plan(_Strict):
    release: str
    model: Literal["single-step", "staged", "flight"]
    approval: Literal["auto", "manual"] | None = None
    approvers: list[str] = Field(default_factory=list, max_length=100)
    operators: list[str] = Field(default_factory=list, max_length=100)
    flights: list[Flight] | None = None
    on_alert: Literal["rollback", "pause"] = "rollback"
    on_drift: Literal["report", "reapply"] = "report"
    revoke_access: RevokeAccess | None = None
    workloads: list[Workload] = Field(min_length=1, max_length=MAX_WORKLOADS)
    hypercare: int = Field(default=0, description="seconds")  # v2 §8: the source is kept this long after promotion
    decommission: Decommission | None = None  # v2 §8: finalize's approval and default provider
    replication: SiteRecoverySource | None = None  # v2 §8: read replication state from Site Recovery

    _check = field_validator("release")(_check_name)
    _hypercare = field_validator("hypercare", mode="before")(lambda v: parse_hypercare(v))

    @field_validator("approvers", "operators")
    @classmethod
    def _actors(cls, values: list[str]) -> list[str]:
        for value in values:
            if not value or len(value) > 256 or any(ord(c) < 32 for c in value):
                raise ValueError(f"actor {value!r} must be 1-256 printable characters")
        return values

    @field_validator("flights")
    @classmethod
    def _flights(cls, flights: list[Flight] | None) -> list[Flight] | None:
        if flights is None:
            return None
        if not flights:
            raise ValueError("at least one flight is needed")
        percents = [f.percent for f in flights]
        if any(b <= a for a, b in zip(percents, percents[1:])):
            raise ValueError(f"percents must be strictly increasing, got {percents}")
        if percents[-1] != 100:
            raise ValueError(f"the last flight must be 100%, got {percents[-1]}%")
        return flights

    @field_validator("workloads")
    @classmethod
    def _unique(cls, workloads: list[Workload]) -> list[Workload]:
        names = [w.name for w in workloads]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate workload names: {', '.join(dupes)}")
        return workloads

    @model_validator(mode="after")
    def _defaults(self):
        if self.approval is None:
            object.__setattr__(self, "approval", "manual" if self.model == "staged" else "auto")
        return self

    # -- derived, pure helpers ------------------------------------------------------------------
    def workload(self, name: str) -> Workload | None:
        return next((w for w in self.workloads if w.name == name), None)

    @property
    def flight_percents(self) -> list[int]:
        return [f.percent for f in self.flights or []]

    def canonical(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def fingerprint(self, *, without_people: bool = False) -> str:
        data = self.canonical()
        if without_people:
            data.pop("approvers"), data.pop("operators")
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _loc(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in PROVIDERS or part in ("function-after[_check(), str]",) or "[" in str(part):
            continue  # pydantic's union-branch / validator labels are not field names
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: dict) -> str:
    kind, msg = error.get("type"), error.get("msg", "")
    if kind == "union_tag_invalid":
        return f"unknown provider {error['input'].get('provider')!r}; expected one of: {', '.join(PROVIDERS)}"
    if kind == "union_tag_not_found":
        return f"provider is required; one of: {', '.join(PROVIDERS)}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    return msg.removeprefix("Value error, ")


def _cross_field_problems(raw: dict[str, Any], plan: Plan | None) -> list[tuple[str, str]]:
    """Rules that span fields; checked on the raw plan too, so they are named alongside field errors."""
    problems: list[tuple[str, str]] = []
    model = raw.get("model")
    flights = raw.get("flights")
    if model == "flight" and flights is None:
        problems.append(("flights", "the flight model needs flights (e.g. 10%, 50%, 100%)"))
    if model in ("single-step", "staged") and flights is not None:
        problems.append(("flights", f"flights are only for the flight model, not {model}"))
    approval = raw.get("approval") or ("manual" if model == "staged" else "auto")
    if approval == "manual" and not raw.get("approvers"):
        problems.append(("approvers", "manual approval needs at least one approver"))
    if plan is None or plan.model != "flight" or not plan.flights:
        return problems
    percents = plan.flight_percents
    for i, workload in enumerate(plan.workloads):
        routing = workload.routing
        if routing.provider in ALL_OR_NOTHING:
            problems.append((f"workloads[{i}].routing.provider",
                             f"{routing.provider} can only realise 0% or 100%; flights "
                             f"{', '.join(f'{p}%' for p in percents[:-1])} need local, traffic-manager or load-balancer"))
            continue
        shares = [realisable_share(routing, p) for p in percents]
        for percent, share in zip(percents, shares):
            if share is None or (percent < 100 and share in (0, 100)):
                problems.append((f"workloads[{i}].routing",
                                 f"{routing.provider} with {len(getattr(routing, 'source_addresses', []))} source and "
                                 f"{len(getattr(routing, 'target_addresses', []))} target addresses cannot realise "
                                 f"{percent}% (nearest {share}%); add addresses or change the flights"))
        if all(s is not None for s in shares) and any(b <= a for a, b in zip(shares, shares[1:])):
            problems.append((f"workloads[{i}].routing",
                             f"{routing.provider} realises flights {percents} as {shares}: two flights would "
                             "route the same share; add addresses or change the flights"))
    return problems


def validate_plan(raw: Any) -> Plan:
    """Validate a parsed plan document; raise PlanError naming every problem."""
    if not isinstance(raw, dict):
        raise PlanError([("", f"a plan is a mapping of fields, got {type(raw).__name__}")])
    problems: list[tuple[str, str]] = []
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        problems.extend((_loc(e["loc"]), _message(e)) for e in exc.errors())
    problems.extend(p for p in _cross_field_problems(raw, plan) if p not in problems)
    if plan is not None:
        problems.extend(plan_problems(plan))
    if plan is not None and (size := len(json.dumps(plan.canonical(), separators=(",", ":")))) > MAX_PLAN_CHARS:
        problems.append(("", f"the plan is {size:,} characters as JSON; the limit is {MAX_PLAN_CHARS:,} "
                             "(split the release, or shorten asset names)"))
    if problems:
        raise PlanError(problems)
    assert plan is not None
    return plan


def load_plan_text(text: str, *, filename: str = "plan") -> Plan:
    """Parse YAML or JSON text (JSON is YAML) and validate it."""
    import yaml  # imported here: only apply needs it

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError([("", f"{filename} is not valid YAML or JSON: {exc}")]) from None
    return validate_plan(raw)
