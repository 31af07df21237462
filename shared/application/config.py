"""Settings, read once from the environment (app settings on Azure). Every name the code reads is here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Names shared with function bindings and infra/ (a test cross-checks them against the templates).
TOPIC = "promotion-events"
SUBSCRIPTION = "orchestrator"
SERVICEBUS_CONNECTION = (
    "ServiceBusConnection"  # the trigger's connection: ServiceBusConnection__fullyQualifiedNamespace
)
LOCAL_QUEUE = "promotion-events"
POISON_QUEUE = "promotion-events-poison"
RELEASES_TABLE = "promotereleases"
ROUTING_TABLE = "promoterouting"
DEADLETTER_TABLE = "promotedeadletters"
SCHEDULE_TABLE = "promoteschedule"
JUDGE_TABLE = "promotejudge"  # (v2 §10) the judge's evaluation records, apart from the lifecycle rows
METRICS_TABLE = "promotemetrics"  # values put with `promote metrics put` (the `local` health provider)

# Tunables: limits the code works within (not settings: nothing to configure per deployment). Limits that are
# rules of the domain stay beside those rules, since the domain imports nothing above it: SEEN_WINDOW and the
# archive's size (domain/model.py), CLOCK_SKEW (domain/machine.py), MAX_WORKLOADS, MAX_BAKE_SECONDS and
# MAX_PLAN_CHARS (domain/plan.py), MAX_BODY_BYTES (domain/messages.py); Table Storage's own limits stay beside
# the store (CHUNK, MAX_REASON in adapters/table_store.py).
MAX_CONFLICTS = 10  # read-decide-commit attempts per message before the platform redelivers it (retry.py)
CONFLICT_JITTER_SECONDS = 0.005  # up to n x this between attempts n and n+1: writers do not retry in lockstep

# The local host's delivery (shared/local/localhost.py), which runs the registered `events` function on the
# Azurite queue. host.json configures only what the deployed app uses (its Service Bus trigger and HTTP
# routes), so these are the local host's own, and differ from Azure where a quick local loop needs it:
#   attempts: LOCAL_MAX_DELIVERY = 10, then the poison queue, as Azure: the subscription's maxDeliveryCount 10
#             (infra/modules/servicebus.bicep), then its dead-letter queue.
#   lock:     LOCAL_LOCK_SECONDS = 30, not renewed: a killed local host's message is back in 30 s. Azure: the
#             subscription's lockDuration 1m, renewed by the host up to maxAutoLockRenewalDuration 30m (host.json;
#             as long as functionTimeout 30m, which fits an Application Gateway update of minutes).
#   batch:    LOCAL_BATCH = 32 received at once, handled one at a time, in order. Azure: prefetchCount 0 and one
#             message at a time per session (host.json), sessions in parallel.
#   retries:  a failed delivery is redelivered at once (LOCAL_RETRY_DELAYS), as Azure redelivers an abandoned
#             message: a failure that lasts longer than ten deliveries dead-letters the message, so what may
#             last longer (a routing change Azure refuses for minutes) is retried by promote itself, later, by a
#             message of its own (application/failures.py), never by the host.
LOCAL_MAX_DELIVERY = 10
# The log line the app writes when a workload needs a person (infra/modules/alerts.bicep alerts on it).
ATTENTION_LOG_PREFIX = "promote attention: "
LOCAL_LOCK_SECONDS = 30
LOCAL_BATCH = 32
LOCAL_RETRY_DELAYS = (0,)  # seconds before delivery n + 1; the last repeats


def local_retry_delay(delivery: int) -> int:
    """Seconds to wait before redelivering a message whose delivery number `delivery` (1-based) failed."""
    return LOCAL_RETRY_DELAYS[min(delivery, len(LOCAL_RETRY_DELAYS)) - 1]


# Notifications (contract §11): the outbox rows live in RELEASES_TABLE, in each release's partition.
NOTIFY_BACKOFF_BASE_SECONDS = 2.0  # first retry after about 2s, then 4s, 8s, ... up to the cap
NOTIFY_BACKOFF_CAP_SECONDS = 300.0
NOTIFY_MAX_ATTEMPTS = 60  # about four hours of retries at the cap; then `failed` (still listed)
NOTIFY_SCHEDULE = "*/20 * * * * *"  # the Azure delivery function's timer (NCRONTAB, every 20 seconds)
BOARD_PORT = 7072

# Environment variables / app settings read by shared/ (and only these).
ENV_STORAGE_CONNECTION_STRING = "PROMOTE_STORAGE_CONNECTION_STRING"
ENV_TABLES_ENDPOINT = "PROMOTE_TABLES_ENDPOINT"
ENV_SERVICEBUS_NAMESPACE = "PROMOTE_SERVICEBUS_NAMESPACE"
ENV_SERVICEBUS_CONNECTION_STRING = "PROMOTE_SERVICEBUS_CONNECTION_STRING"
ENV_ARM_ENDPOINT = "PROMOTE_ARM_ENDPOINT"
ENV_HOME = "PROMOTE_HOME"
ENV_DEV_PORTS = "PROMOTE_DEV_PORTS"  # local only: the blob, queue and table ports of `promote dev up`'s Azurite
ENV_MONITOR_LOGS_ENDPOINT = "PROMOTE_MONITOR_LOGS_ENDPOINT"  # (v2 §10) the health judge's Log Analytics API
ENV_MONITOR_METRICS_ENDPOINT = "PROMOTE_MONITOR_METRICS_ENDPOINT"  # (v2 §10) its metrics API, may hold {region}
ENV_SHARD_SIZE = "PROMOTE_SHARD_SIZE"  # (v3 §14) workloads per shard of releases created from now on (tests: small)
DEFAULT_SHARD_SIZE = 97  # a shard's catch-up (its head, rows and summary) is one 100-entity transaction
APP_SETTINGS = (
    ENV_STORAGE_CONNECTION_STRING,
    ENV_TABLES_ENDPOINT,
    ENV_SERVICEBUS_NAMESPACE,
    ENV_SERVICEBUS_CONNECTION_STRING,
    ENV_ARM_ENDPOINT,
    ENV_HOME,
    ENV_DEV_PORTS,
    ENV_MONITOR_LOGS_ENDPOINT,
    ENV_MONITOR_METRICS_ENDPOINT,
    ENV_SHARD_SIZE,
)

# Telemetry (contract §20, docs/observability.md): read by shared/application/telemetry_setup.py, not by
# load_settings. PROMOTE_OTEL is local only; on Azure the connection string (set by infra/) turns it on.
ENV_OTEL = "PROMOTE_OTEL"  # off (default) | console | otlp (then the standard OTEL_EXPORTER_OTLP_* settings)
ENV_APPINSIGHTS_CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
ENV_WORKER_APPINSIGHTS = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"  # true: the worker set the distro up
TELEMETRY_SETTINGS = (ENV_OTEL, ENV_APPINSIGHTS_CONNECTION_STRING, ENV_WORKER_APPINSIGHTS)

# The override endpoint (issue 9). The promote command reads these two to send overrides on Azure; they
# are never app settings. App Service sets WEBSITE_AUTH_ENABLED=True when its authentication is on.
OVERRIDES_ROUTE = "overrides"
ENV_API_URL = "PROMOTE_API_URL"  # the function app's base URL, e.g. https://func-promote.azurewebsites.net
ENV_API_SCOPE = "PROMOTE_API_SCOPE"  # the token scope of its Entra ID app registration, e.g. api://<id>/.default
CLIENT_SETTINGS = (ENV_API_URL, ENV_API_SCOPE)
ENV_EASY_AUTH_ENABLED = "WEBSITE_AUTH_ENABLED"
PLATFORM_SETTINGS = (ENV_EASY_AUTH_ENABLED,)

# Azurite's well-known development account (public, documented, not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}


class SettingError(ValueError):
    """A setting's value cannot be used; the message names the setting and the expected form."""


def parse_dev_ports(text: str, *, name: str = ENV_DEV_PORTS) -> dict[str, int]:
    """'BLOB,QUEUE,TABLE' (three different ports, e.g. 20000,20001,20002) -> {"blob": .., "queue": .., "table": ..}."""
    parts = [p.strip() for p in text.split(",")]
    form = f"{name} is three different ports BLOB,QUEUE,TABLE (e.g. 20000,20001,20002), got {text!r}"
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise SettingError(form)
    ports = [int(p) for p in parts]
    if len(set(ports)) != 3 or not all(1 <= p <= 65535 for p in ports):
        raise SettingError(form)
    return dict(zip(DEV_PORTS, ports, strict=True))


def azurite_connection_string(
    host: str = "127.0.0.1",
    *,
    queue_port: int = DEV_PORTS["queue"],
    table_port: int = DEV_PORTS["table"],
    blob_port: int = DEV_PORTS["blob"],
) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint=http://{host}:{blob_port}/{DEV_ACCOUNT};"
        f"QueueEndpoint=http://{host}:{queue_port}/{DEV_ACCOUNT};"
        f"TableEndpoint=http://{host}:{table_port}/{DEV_ACCOUNT};"
    )


@dataclass(frozen=True)
class Settings:
    storage_connection_string: str | None
    tables_endpoint: str | None  # identity-based (managed identity) table access on Azure
    servicebus_namespace: str | None  # fully qualified, e.g. sb-promote.servicebus.windows.net
    servicebus_connection_string: str | None
    arm_endpoint: str | None
    home: Path  # where `promote dev` keeps the local stack's data and pid
    dev_ports: dict[str, int] = field(default_factory=lambda: dict(DEV_PORTS), hash=False)  # `promote dev` Azurite
    monitor_logs_endpoint: str | None = None  # (v2 §10) Log Analytics query API; default: the public cloud's
    monitor_metrics_endpoint: str | None = None  # (v2 §10) regional metrics API, may hold {region}
    shard_size: int = DEFAULT_SHARD_SIZE  # (v3 §14) workloads per shard of a release created from now on
    cloud: Cloud | None = None  # (issue 26) None: the cloud of arm_endpoint (see cloud_of)

    @property
    def uses_servicebus(self) -> bool:
        return bool(self.servicebus_namespace or self.servicebus_connection_string)

    @property
    def overrides_need_principal(self) -> bool:
        """On Azure (the Service Bus topic) a message cannot prove who sent it: an override counts only when it
        comes through the authenticated override endpoint. Locally the stack has one user and --actor is trusted."""
        return self.uses_servicebus

    @property
    def is_local(self) -> bool:
        """Storage is the default local Azurite (not a configured account)."""
        return not self.storage_connection_string and not self.tables_endpoint

    @property
    def storage(self) -> str:
        """The connection string for tables and (locally) queues."""
        return self.storage_connection_string or self.dev_connection_string

    @property
    def dev_connection_string(self) -> str:
        """The local stack's Azurite (`promote dev up`) on its configured ports."""
        return azurite_connection_string(
            queue_port=self.dev_ports["queue"], table_port=self.dev_ports["table"], blob_port=self.dev_ports["blob"]
        )


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    return Settings(
        storage_connection_string=get(ENV_STORAGE_CONNECTION_STRING),
        tables_endpoint=get(ENV_TABLES_ENDPOINT),
        servicebus_namespace=get(ENV_SERVICEBUS_NAMESPACE),
        servicebus_connection_string=get(ENV_SERVICEBUS_CONNECTION_STRING),
        arm_endpoint=get(ENV_ARM_ENDPOINT),
        cloud=cloud_of(get(ENV_ARM_ENDPOINT)),
        home=Path(get(ENV_HOME) or Path.cwd() / ".promote"),
        dev_ports=parse_dev_ports(ports) if (ports := get(ENV_DEV_PORTS)) else dict(DEV_PORTS),
        monitor_logs_endpoint=get(ENV_MONITOR_LOGS_ENDPOINT),
        monitor_metrics_endpoint=get(ENV_MONITOR_METRICS_ENDPOINT),
        shard_size=_shard_size(get(ENV_SHARD_SIZE)),
    )


def _shard_size(text: str | None) -> int:
    if text is None:
        return DEFAULT_SHARD_SIZE
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= DEFAULT_SHARD_SIZE):
        raise SettingError(f"{ENV_SHARD_SIZE} is a number of workloads from 1 to {DEFAULT_SHARD_SIZE}, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class ClientSettings:
    """What the promote command needs to send overrides through the function app's endpoint."""

    api_url: str | None
    api_scope: str | None

    @property
    def uses_api(self) -> bool:
        return bool(self.api_url)


def load_client_settings(environ: dict[str, str] | None = None) -> ClientSettings:
    env = os.environ if environ is None else environ
    values = {name: env.get(name, "").strip() or None for name in CLIENT_SETTINGS}
    return ClientSettings(api_url=values[ENV_API_URL], api_scope=values[ENV_API_SCOPE])


def easy_auth_enabled(environ: dict[str, str] | None = None) -> bool:
    """App Service authentication is on for this app, so X-MS-CLIENT-PRINCIPAL was set by it, not by a caller."""
    env = os.environ if environ is None else environ
    return env.get(ENV_EASY_AUTH_ENABLED, "").strip().lower() == "true"


# -- Sovereign clouds (issue 26) ---------------------------------------------------------------------------
# A token is good for one audience, and each cloud has its own: a public-cloud token is refused (401) by Azure
# US Government's Monitor, and the reverse. promote takes the cloud from the one setting that already names it,
# PROMOTE_ARM_ENDPOINT (`az cloud show --query endpoints.resourceManager`), and sets every client from it: the
# management clients (routing, decommission, Site Recovery: `<endpoint>/.default`), Monitor logs and metrics
# (endpoint and audience), Event Grid (audience). Empty, or a Resource Manager this table does not know (a local
# stand-in), is the public cloud. No second setting, so the clients can never be told different clouds.
# The values are the SDKs' own: azure-monitor-query's and -querymetrics' sovereign-cloud examples and
# KnownMonitorAudience, the Event Grid audiences (eventgrid.azure.net / .us / .cn).


@dataclass(frozen=True)
class Cloud:
    name: str  # as `az cloud list` names it
    arm: str  # Resource Manager
    logs_endpoint: str  # the Log Analytics query API (LogsQueryClient)
    logs_audience: str
    metrics_endpoint: str  # the regional metrics batch API (MetricsClient); {region} is the resource's region
    metrics_audience: str
    event_grid_audience: str
    authority: str  # Microsoft Entra ID for this cloud (AZURE_AUTHORITY_HOST, for credentials that are not managed)


PUBLIC_CLOUD = Cloud(
    name="AzureCloud",
    arm="https://management.azure.com",
    logs_endpoint="https://api.loganalytics.io/v1",
    logs_audience="https://api.loganalytics.io",
    metrics_endpoint="https://{region}.metrics.monitor.azure.com",
    metrics_audience="https://metrics.monitor.azure.com",
    event_grid_audience="https://eventgrid.azure.net",
    authority="login.microsoftonline.com",
)
CLOUDS = {
    c.name: c
    for c in (
        PUBLIC_CLOUD,
        Cloud(
            name="AzureUSGovernment",
            arm="https://management.usgovcloudapi.net",
            logs_endpoint="https://api.loganalytics.us/v1",
            logs_audience="https://api.loganalytics.us",
            metrics_endpoint="https://{region}.metrics.monitor.azure.us",
            metrics_audience="https://metrics.monitor.azure.us",
            event_grid_audience="https://eventgrid.azure.us",
            authority="login.microsoftonline.us",
        ),
        Cloud(
            name="AzureChinaCloud",
            arm="https://management.chinacloudapi.cn",
            logs_endpoint="https://api.loganalytics.azure.cn/v1",
            logs_audience="https://api.loganalytics.azure.cn",
            metrics_endpoint="https://{region}.metrics.monitor.azure.cn",
            metrics_audience="https://metrics.monitor.azure.cn",
            event_grid_audience="https://eventgrid.azure.cn",
            authority="login.chinacloudapi.cn",
        ),
    )
}


def cloud_of(arm_endpoint: str | None) -> Cloud:
    """The cloud whose Resource Manager is `arm_endpoint`; the public cloud when empty or not a known one."""
    host = urlsplit(arm_endpoint or "").hostname or ""
    return next((c for c in CLOUDS.values() if urlsplit(c.arm).hostname == host.lower()), PUBLIC_CLOUD)


def cloud(settings: object) -> Cloud:
    return getattr(settings, "cloud", None) or cloud_of(getattr(settings, "arm_endpoint", None))


# (v2 §10) Azure Monitor endpoints: the cloud's by default; PROMOTE_MONITOR_* point elsewhere (tests, a proxy).
# The audience is the cloud's whatever the endpoint: it is what the service checks the token for.
def monitor_logs_endpoint(settings: object) -> str:
    return getattr(settings, "monitor_logs_endpoint", None) or cloud(settings).logs_endpoint


def monitor_metrics_endpoint(settings: object, region: str) -> str:
    return (getattr(settings, "monitor_metrics_endpoint", None) or cloud(settings).metrics_endpoint).replace(
        "{region}", region
    )
