"""The release plan: validated once, at apply time, with every problem named by its field path."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from datetime import datetime, time
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from shared.domain.actors import GROUP_ENTRY, is_group_entry
from shared.domain.errors import PlanError
from shared.domain.finishing import (
    DataSync,
    Decommission,
    DecommissionTarget,
    SiteRecoverySource,
    parse_hypercare,
    plan_problems,
)
from shared.domain.health import CHECK_PROVIDERS, Health
from shared.domain.names import NAME_PATTERN, is_name
from shared.domain.shares import ALL_OR_NOTHING, realisable_share

# Every workload adds a state row and a history row to the release's one transaction per message,
# and a Table Storage transaction holds at most 100 entities (release row + marker + 2 per workload).
MAX_WORKLOADS = 49
MAX_WORKLOADS_WITH_NOTIFY = MAX_WORKLOADS - 1  # the outbox row of a message takes one more entity
MAX_BAKE_SECONDS = 7 * 24 * 3600  # a scheduled queue message can wait at most seven days
# The plan is kept in the release row (1 MiB an entity, strings in UTF-16) and its assets in the workload
# rows, all of which one transaction (4 MiB) may rewrite: 400,000 characters of JSON keeps well inside both.
MAX_PLAN_CHARS = 400_000
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ASSET = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


def parse_duration(value: Any, *, limit: int = MAX_BAKE_SECONDS, what: str = "a bake time") -> int:
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
    if seconds > limit:
        raise ValueError(f"{what} can be at most {limit // 86400}d")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_name(value: str) -> str:
    if not is_name(value):
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


def _backends(values: list[str] | None) -> list[str] | None:
    """IP addresses or host names (FQDNs): a gateway pool accepts both, on-premises ones included."""
    for value in values or []:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _FQDN.match(value):
                raise ValueError(f"{value!r} is neither an IP address nor a host name") from None
    if values is not None and len(set(v.lower() for v in values)) != len(values):
        raise ValueError("addresses must be unique")
    return values


_FQDN = re.compile(
    r"^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}"
    r"[a-zA-Z0-9])?$"
)


class ApplicationGatewayRouting(_Azure):
    """The rule switches between the source and target pools at 0% and 100%; with `flight_pool`, shares in
    between point the rule at that one pool holding source and target addresses (round robin: by membership)."""

    provider: Literal["application-gateway"]
    application_gateway: str = Field(min_length=1, max_length=80)
    rule: str = Field(min_length=1, max_length=80)
    source_pool: str = Field(min_length=1, max_length=80)
    target_pool: str = Field(min_length=1, max_length=80)
    flight_pool: str | None = Field(default=None, min_length=1, max_length=80)
    source_addresses: list[str] | None = Field(default=None, min_length=1, max_length=100)
    target_addresses: list[str] | None = Field(default=None, min_length=1, max_length=100)

    _check_backends = field_validator("source_addresses", "target_addresses")(_backends)

    @model_validator(mode="after")
    def _flight_pool(self):
        given = [f for f in ("flight_pool", "source_addresses", "target_addresses") if getattr(self, f) is not None]
        if given and len(given) != 3:
            raise ValueError("flight_pool, source_addresses and target_addresses go together (flights on one pool)")
        if self.flight_pool and self.flight_pool.lower() in (self.source_pool.lower(), self.target_pool.lower()):
            raise ValueError("flight_pool must be a pool of its own, not the source or target pool")
        if (
            self.source_addresses
            and self.target_addresses
            and {a.lower() for a in self.source_addresses} & {a.lower() for a in self.target_addresses}
        ):
            raise ValueError("source_addresses and target_addresses must not overlap")
        return self


class RouteTableRouting(_Azure):
    provider: Literal["route-table"]
    route_table: str = Field(min_length=1, max_length=80)
    route: str = Field(min_length=1, max_length=80)
    source_next_hop: str
    target_next_hop: str

    _check_hops = field_validator("source_next_hop", "target_next_hop")(lambda v: (ipaddress.ip_address(v), v)[1])


class FrontDoorRouting(_Azure):
    """Azure Front Door Standard/Premium: the weights of two origins of one origin group."""

    provider: Literal["front-door"]
    profile: str = Field(min_length=1, max_length=260)
    origin_group: str = Field(min_length=1, max_length=260)
    source_origin: str = Field(min_length=1, max_length=260)
    target_origin: str = Field(min_length=1, max_length=260)

    @model_validator(mode="after")
    def _two_origins(self):
        if self.source_origin.lower() == self.target_origin.lower():
            raise ValueError("source_origin and target_origin must be two different origins")
        return self


Routing = Annotated[
    LocalRouting
    | TrafficManagerRouting
    | LoadBalancerRouting
    | ApplicationGatewayRouting
    | RouteTableRouting
    | FrontDoorRouting,
    Field(discriminator="provider"),
]
PROVIDERS = ("local", "traffic-manager", "load-balancer", "application-gateway", "route-table", "front-door")
_ROUTING: TypeAdapter = TypeAdapter(Routing)


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
    health: Health | None = None  # (v2 §10) overrides the release's health section for this workload
    data_sync: DataSync | None = None  # v2 §8: hold moves onto the migrated system while replication lags
    decommission: DecommissionTarget | None = None  # v2 §8: this workload's own source servers

    _check = field_validator("name")(_check_name)

    @field_validator("assets")
    @classmethod
    def _assets(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _ASSET.fullmatch(value):
                raise ValueError(f"asset {value!r} must be 1-256 characters without control characters")
        if len(set(values)) != len(values):
            dupes = sorted({v for v in values if values.count(v) > 1})
            raise ValueError(f"duplicate assets: {', '.join(dupes)}")
        return values


# Notifications (contract §11): what a release says, to whom. The URL lives in a setting, never in the plan.
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


class NotifyTarget(_Strict):
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


MAX_DEADLINE_SECONDS = 90 * 24 * 3600  # a later timer arrives early on a 7-day queue and is rescheduled
MAX_DENY_SECONDS = 366 * 24 * 3600
MAX_AFTER = 20  # releases one release may wait for (each read once at apply)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


class Deadlines(_Strict):
    """How long a workload may wait in each waiting state before `on_deadline` acts (each optional)."""

    replicating: int | None = None
    testing: int | None = None
    approval: int | None = None
    verdict: int | None = None  # counts from the end of the flight's bake

    @field_validator("replicating", "testing", "approval", "verdict", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int | None:
        if value is None:
            return None
        seconds = parse_duration(value, limit=MAX_DEADLINE_SECONDS, what="a deadline")
        if seconds == 0:
            raise ValueError("a deadline must be longer than 0s")
        return seconds


def _clock(value: Any) -> str:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise ValueError(f"{value!r} is not a time of day HH:MM (00:00-23:59, or 24:00 for `to`)")
    return value


def clock_time(value: str) -> time:
    """'HH:MM' -> a time; '24:00' is midnight at the end of the day (00:00, and `to` <= `from` means next day)."""
    hours, minutes = (int(part) for part in value.split(":"))
    return time(hours % 24, minutes)


class AllowSlot(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1, max_length=7)
    from_: str = Field(alias="from")  # HH:MM, local time of the window's timezone
    to: str  # HH:MM; not after `from`: the slot runs past midnight into the next day

    _times = field_validator("from_", "to")(_clock)

    @field_validator("days")
    @classmethod
    def _unique_days(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError("days must be unique")
        return days

    @model_validator(mode="after")
    def _not_empty(self):
        if self.from_ == "24:00":
            raise ValueError("`from` must be 00:00-23:59")
        if clock_time(self.from_) == clock_time(self.to) and self.to != "24:00":
            raise ValueError("`from` and `to` are equal: the slot would be empty (use 00:00-24:00 for a whole day)")
        return self

    @property
    def start(self) -> time:
        return clock_time(self.from_)

    @property
    def end(self) -> time:
        return clock_time(self.to)


class DenyPeriod(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: datetime = Field(alias="from")  # local time of the window's timezone, unless it names an offset
    to: datetime
    reason: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _ordered(self):
        if (self.from_.tzinfo is None) != (self.to.tzinfo is None):
            raise ValueError("`from` and `to` must both be local times, or both carry an offset")
        if self.to <= self.from_:
            raise ValueError("`to` must be after `from`")
        if (self.to - self.from_).total_seconds() > MAX_DENY_SECONDS:
            raise ValueError("a denied period can be at most 366 days")
        return self


class Windows(_Strict):
    """Moves onto the migrated system happen only inside `allow` (if any) and never inside `deny`."""

    timezone: str = Field(min_length=1, max_length=64)
    allow: list[AllowSlot] = Field(default_factory=list, max_length=50)
    deny: list[DenyPeriod] = Field(default_factory=list, max_length=50)
    advance_when_denied: bool = False  # whether an approver's `advance` may grow a flight inside a denied period

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Amsterdam, UTC)") from None
        return value


def _check_after(values: list[str]) -> list[str]:
    for value in values:
        _check_name(value)
    if len(set(values)) != len(values):
        raise ValueError("releases in `after` must be unique")
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

    _check = field_validator("release")(_check_name)
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
        percents = [f.percent for f in flights]
        if any(b <= a for a, b in pairwise(percents)):
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

    def routing_of(self, name: str) -> Any:
        """The routing config of a workload of this plan; KeyError for a name the plan does not hold."""
        workload = self.workload(name)
        if workload is None:
            raise KeyError(f"release {self.release} has no workload {name!r}")
        return workload.routing

    def health_of(self, name: str) -> Health | None:
        """The health section that judges a workload: its own, else the release's."""
        workload = self.workload(name)
        return (workload.health if workload else None) or self.health

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


def _loc(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif (
            part in PROVIDERS
            or part in CHECK_PROVIDERS
            or part in ("function-after[_check(), str]",)
            or "[" in str(part)
        ):
            continue  # pydantic's union-branch / validator labels are not field names
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind, msg = error.get("type"), error.get("msg", "")
    if kind in ("union_tag_invalid", "union_tag_not_found") and "checks" in error.get("loc", ()):
        return f"provider must be one of: {', '.join(CHECK_PROVIDERS)}"
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
    listed: list[Any] = raw["workloads"] if isinstance(raw.get("workloads"), list) else []
    judged = raw.get("health") or any(isinstance(w, dict) and w.get("health") for w in listed)
    if model in ("single-step", "staged") and judged:
        problems.append(("health", f"health judges flights; the {model} model has none"))
    if raw.get("on_deadline") == "rollback" and model != "flight":
        problems.append(("on_deadline", f"rollback acts on flights; the {model} model has none (use notify or pause)"))
    if isinstance(raw.get("after"), list) and raw.get("release") in raw["after"]:
        problems.append(("after", "a release cannot wait for itself"))
    workloads = raw.get("workloads")
    if raw.get("notify") and isinstance(workloads, list) and len(workloads) > MAX_WORKLOADS_WITH_NOTIFY:
        problems.append(
            (
                "notify",
                f"a release with notify may hold at most {MAX_WORKLOADS_WITH_NOTIFY} workloads "
                f"(its notifications take one row of the 100 in each message's transaction); "
                f"this one has {len(workloads)}",
            )
        )
    problems += _raw_problems(raw) if plan is None else []
    percents = plan.flight_percents if plan is not None else _raw_percents(flights)
    if model != "flight" or not percents:
        return problems
    for i, routing in _routings(raw, plan):
        if routing.provider in ALL_OR_NOTHING and not getattr(routing, "flight_pool", None):
            problems.append(
                (
                    f"workloads[{i}].routing.provider",
                    f"{routing.provider} can only realise 0% or 100%; flights "
                    f"{', '.join(f'{p}%' for p in percents[:-1])} need local, traffic-manager, front-door, "
                    "load-balancer, or application-gateway with a flight_pool",
                )
            )
            continue
        shares = [realisable_share(routing, p) for p in percents]
        for percent, share in zip(percents, shares, strict=True):
            if share is None or (percent < 100 and share in (0, 100)):
                problems.append(
                    (
                        f"workloads[{i}].routing",
                        f"{routing.provider} with {len(getattr(routing, 'source_addresses', []))} source and "
                        f"{len(getattr(routing, 'target_addresses', []))} target addresses cannot realise "
                        f"{percent}% (nearest {share}%); add addresses or change the flights",
                    )
                )
        known = [s for s in shares if s is not None]
        if len(known) == len(shares) and any(b <= a for a, b in pairwise(known)):
            problems.append(
                (
                    f"workloads[{i}].routing",
                    f"{routing.provider} realises flights {percents} as {shares}: two flights would "
                    "route the same share; add addresses or change the flights",
                )
            )
    return problems


def _raw_percents(flights: Any) -> list[int]:
    """The flight percents of a plan that failed validation, if every flight has a valid one."""
    if not isinstance(flights, list) or not flights:
        return []
    percents = [f.get("percent") if isinstance(f, dict) else None for f in flights]
    ok = all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 100 for p in percents)
    return percents if ok else []  # type: ignore[return-value]


def _routings(raw: dict[str, Any], plan: Plan | None) -> list[tuple[int, Any]]:
    """(index, routing) of each workload whose routing is valid, from the plan or, if it failed, one by one."""
    if plan is not None:
        return [(i, w.routing) for i, w in enumerate(plan.workloads)]
    found = []
    workloads = raw.get("workloads")
    for i, w in enumerate(workloads if isinstance(workloads, list) else []):
        routing = w.get("routing", {"provider": "local"}) if isinstance(w, dict) else None
        try:
            found.append((i, _ROUTING.validate_python(routing)))
        except ValidationError:
            continue  # named by the plan's own errors
    return found


def _raw_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Checks of whole lists that pydantic skips once an item of the list failed: named all the same."""
    problems: list[tuple[str, str]] = []
    percents = _raw_percents(raw.get("flights"))
    if percents:
        if any(b <= a for a, b in pairwise(percents)):
            problems.append(("flights", f"percents must be strictly increasing, got {percents}"))
        if percents[-1] != 100:
            problems.append(("flights", f"the last flight must be 100%, got {percents[-1]}%"))
    listed = raw.get("workloads")
    workloads: list[Any] = listed if isinstance(listed, list) else []
    names: list[str] = [w["name"] for w in workloads if isinstance(w, dict) and isinstance(w.get("name"), str)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(("workloads", f"duplicate workload names: {', '.join(dupes)}"))
    for i, w in enumerate(workloads):
        assets = w.get("assets") if isinstance(w, dict) else None
        if isinstance(assets, list):
            texts = [a for a in assets if isinstance(a, str)]
            repeated = sorted({a for a in texts if texts.count(a) > 1})
            if repeated:
                problems.append((f"workloads[{i}].assets", f"duplicate assets: {', '.join(repeated)}"))
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
        problems.append(
            (
                "",
                f"the plan is {size:,} characters as JSON; the limit is {MAX_PLAN_CHARS:,} "
                "(split the release, or shorten asset names)",
            )
        )
    if problems:
        raise PlanError(problems)
    assert plan is not None
    return plan


def load_plan_text(text: str, *, filename: str = "plan") -> Plan:
    """Parse YAML or JSON text (JSON is YAML) and validate it."""
    import yaml  # imported here: only apply needs it

    try:
        raw = yaml.load(text, Loader=_unique_keys_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PlanError([("", f"{filename} is not valid YAML or JSON: {exc}")]) from None
    return validate_plan(raw)


def _unique_keys_loader() -> Any:
    """A yaml SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:  # an unhashable key: the base class names that problem
                    break
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader
