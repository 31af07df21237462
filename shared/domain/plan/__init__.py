"""The release plan: validated once, at apply time, with every problem named by its field path.

One module a concern: `model` (the plan, its flights and workloads), `routing` (the network sections, one
model per provider) and `shares` (what each can realise), `time` (deadlines, windows), `finishing` (§8),
`health` (§10), `notify` (§11), `durations`, and `validate` (validate_plan and the rules that span fields).
Everything importable from `shared.domain.plan` before the split still is. The plan imports nothing else of
the domain but names and actors: the model, the gates and the judge import it, never the other way round.
"""

from shared.domain.names import NAME_PATTERN, is_name
from shared.domain.plan.approval import MAX_QUORUM, Approval
from shared.domain.plan.budgets import Budgets
from shared.domain.plan.durations import MAX_BAKE_SECONDS, duration, parse_duration
from shared.domain.plan.edge import AzureFirewallRouting, DnsRouting, FirewallRuleRef, PrivateDnsRouting
from shared.domain.plan.finishing import (
    MAX_HYPERCARE_SECONDS,
    MAX_LAG_SECONDS,
    DataSync,
    Decommission,
    DecommissionTarget,
    SiteRecoverySource,
    parse_hypercare,
)
from shared.domain.plan.health import CHECK_PROVIDERS, MAX_CHECKS, Check, Health, LocalCheck, LogsCheck, MetricsCheck
from shared.domain.plan.migrate import MigrateSource, Rehearsal
from shared.domain.plan.model import MAX_AFTER, MAX_WORKLOADS, MAX_WORKLOADS_WITH_NOTIFY, Flight, Plan, Workload
from shared.domain.plan.notify import (
    MAX_NOTIFY_TARGETS,
    NOTICE_KINDS,
    RESERVED_SETTING_PREFIXES,
    SETTING_PATTERN,
    NotifyTarget,
)
from shared.domain.plan.retry import DEFAULT_RETRY_SECONDS, MAX_RETRY_SECONDS, Retry
from shared.domain.plan.routing import (
    PROVIDERS,
    ApplicationGatewayRouting,
    AzureRouting,
    FrontDoorRouting,
    LoadBalancerRouting,
    LocalRouting,
    RevokeAccess,
    RouteTableRouting,
    Routing,
    TrafficManagerRouting,
)
from shared.domain.plan.shares import ALL_OR_NOTHING, ANY_SHARE, realisable_share
from shared.domain.plan.time import (
    MAX_DEADLINE_SECONDS,
    MAX_DENY_SECONDS,
    AllowSlot,
    Deadlines,
    DenyPeriod,
    Windows,
    clock_time,
)
from shared.domain.plan.validate import (
    MAX_ASSET_CHARS,
    MAX_PLAN_CHARS,
    MAX_STORED_PLAN_CHARS,
    load_plan_text,
    stored_chars,
    validate_plan,
)

__all__ = [
    "MAX_QUORUM",
    "Approval",
    "Budgets",
    "DEFAULT_RETRY_SECONDS",
    "MAX_RETRY_SECONDS",
    "Retry",
    "ALL_OR_NOTHING",
    "ANY_SHARE",
    "CHECK_PROVIDERS",
    "MAX_AFTER",
    "MAX_BAKE_SECONDS",
    "MAX_CHECKS",
    "MAX_DEADLINE_SECONDS",
    "MAX_DENY_SECONDS",
    "MAX_HYPERCARE_SECONDS",
    "MAX_LAG_SECONDS",
    "MAX_NOTIFY_TARGETS",
    "MAX_ASSET_CHARS",
    "MAX_PLAN_CHARS",
    "MAX_STORED_PLAN_CHARS",
    "MAX_WORKLOADS",
    "MAX_WORKLOADS_WITH_NOTIFY",
    "NAME_PATTERN",
    "NOTICE_KINDS",
    "PROVIDERS",
    "RESERVED_SETTING_PREFIXES",
    "SETTING_PATTERN",
    "AllowSlot",
    "ApplicationGatewayRouting",
    "AzureFirewallRouting",
    "AzureRouting",
    "Check",
    "DataSync",
    "Deadlines",
    "Decommission",
    "DecommissionTarget",
    "DenyPeriod",
    "DnsRouting",
    "FirewallRuleRef",
    "Flight",
    "FrontDoorRouting",
    "Health",
    "LoadBalancerRouting",
    "LocalCheck",
    "LocalRouting",
    "LogsCheck",
    "MetricsCheck",
    "MigrateSource",
    "NotifyTarget",
    "PrivateDnsRouting",
    "Plan",
    "Rehearsal",
    "RevokeAccess",
    "RouteTableRouting",
    "Routing",
    "SiteRecoverySource",
    "TrafficManagerRouting",
    "Windows",
    "Workload",
    "clock_time",
    "duration",
    "is_name",
    "load_plan_text",
    "parse_duration",
    "parse_hypercare",
    "realisable_share",
    "stored_chars",
    "validate_plan",
]
