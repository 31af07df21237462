"""Settings, read once from the environment (app settings on Azure). Every name the code reads is here."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Names shared with function bindings and infra/ (a test cross-checks them against the templates).
TOPIC = "promotion-events"
SUBSCRIPTION = "orchestrator"
SERVICEBUS_CONNECTION = "ServiceBusConnection"  # the trigger's connection: ServiceBusConnection__fullyQualifiedNamespace
LOCAL_QUEUE = "promotion-events"
POISON_QUEUE = "promotion-events-poison"
RELEASES_TABLE = "promotereleases"
ROUTING_TABLE = "promoterouting"
DEADLETTER_TABLE = "promotedeadletters"
SCHEDULE_TABLE = "promoteschedule"
JUDGE_TABLE = "promotejudge"  # (v2 §10) the judge's evaluation records, apart from the lifecycle rows
METRICS_TABLE = "promotemetrics"  # values put with `promote metrics put` (the `local` health provider)

# Environment variables / app settings read by shared/ (and only these).
ENV_STORAGE_CONNECTION_STRING = "PROMOTE_STORAGE_CONNECTION_STRING"
ENV_TABLES_ENDPOINT = "PROMOTE_TABLES_ENDPOINT"
ENV_SERVICEBUS_NAMESPACE = "PROMOTE_SERVICEBUS_NAMESPACE"
ENV_SERVICEBUS_CONNECTION_STRING = "PROMOTE_SERVICEBUS_CONNECTION_STRING"
ENV_ARM_ENDPOINT = "PROMOTE_ARM_ENDPOINT"
ENV_HOME = "PROMOTE_HOME"
APP_SETTINGS = (ENV_STORAGE_CONNECTION_STRING, ENV_TABLES_ENDPOINT, ENV_SERVICEBUS_NAMESPACE,
                ENV_SERVICEBUS_CONNECTION_STRING, ENV_ARM_ENDPOINT, ENV_HOME)

# Azurite's well-known development account (public, documented, not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}


def azurite_connection_string(host: str = "127.0.0.1", *, queue_port: int = DEV_PORTS["queue"],
                              table_port: int = DEV_PORTS["table"], blob_port: int = DEV_PORTS["blob"]) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint=http://{host}:{blob_port}/{DEV_ACCOUNT};"
            f"QueueEndpoint=http://{host}:{queue_port}/{DEV_ACCOUNT};"
            f"TableEndpoint=http://{host}:{table_port}/{DEV_ACCOUNT};")


@dataclass(frozen=True)
class Settings:
    storage_connection_string: str | None
    tables_endpoint: str | None  # identity-based (managed identity) table access on Azure
    servicebus_namespace: str | None  # fully qualified, e.g. sb-promote.servicebus.windows.net
    servicebus_connection_string: str | None
    arm_endpoint: str | None
    home: Path  # where `promote dev` keeps the local stack's data and pid
    monitor_logs_endpoint: str | None = None  # (v2 §10) Log Analytics query API; default: the public cloud's
    monitor_metrics_endpoint: str | None = None  # (v2 §10) regional metrics API, may hold {region}

    @property
    def uses_servicebus(self) -> bool:
        return bool(self.servicebus_namespace or self.servicebus_connection_string)

    @property
    def is_local(self) -> bool:
        """Storage is the default local Azurite (not a configured account)."""
        return not self.storage_connection_string and not self.tables_endpoint

    @property
    def storage(self) -> str:
        """The connection string for tables and (locally) queues."""
        return self.storage_connection_string or azurite_connection_string()


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
        home=Path(get(ENV_HOME) or Path.cwd() / ".promote"),
        monitor_logs_endpoint=get(ENV_MONITOR_LOGS_ENDPOINT),
        monitor_metrics_endpoint=get(ENV_MONITOR_METRICS_ENDPOINT),
    )


# (v2 §10) Azure Monitor endpoints: the public cloud's by default; other clouds (and tests) set their own.
ENV_MONITOR_LOGS_ENDPOINT = "PROMOTE_MONITOR_LOGS_ENDPOINT"
ENV_MONITOR_METRICS_ENDPOINT = "PROMOTE_MONITOR_METRICS_ENDPOINT"  # may hold {region}
DEFAULT_LOGS_ENDPOINT = "https://api.loganalytics.io/v1"
DEFAULT_METRICS_ENDPOINT = "https://{region}.metrics.monitor.azure.com"
APP_SETTINGS = APP_SETTINGS + (ENV_MONITOR_LOGS_ENDPOINT, ENV_MONITOR_METRICS_ENDPOINT)


def monitor_logs_endpoint(settings: object) -> str:
    return getattr(settings, "monitor_logs_endpoint", None) or DEFAULT_LOGS_ENDPOINT


def monitor_metrics_endpoint(settings: object, region: str) -> str:
    return (getattr(settings, "monitor_metrics_endpoint", None) or DEFAULT_METRICS_ENDPOINT).replace("{region}", region)
