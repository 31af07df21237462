"""host.json configures only what the deployed app uses; the local host's delivery settings, which host.json
does not hold, are documented in config.py against their Azure counterparts, and the figures there are true."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.application import config
from tests.infra.test_infra import ROOT, functions, servicebus_entities

# binding type -> the host.json `extensions` section that configures it (timers have none)
EXTENSION_OF = {
    "serviceBusTrigger": "serviceBus",
    "serviceBus": "serviceBus",
    "httpTrigger": "http",
    "http": "http",
    "queueTrigger": "queues",
    "queue": "queues",
    "blobTrigger": "blobs",
    "blob": "blobs",
    "eventHubTrigger": "eventHubs",
    "eventHub": "eventHubs",
    "timerTrigger": None,
}
HOST = json.loads((ROOT / "host.json").read_text())
CONFIG_SOURCE = Path(config.__file__).read_text()


def test_host_json_configures_only_the_bindings_the_app_uses():
    used = {EXTENSION_OF[b["type"]] for bindings in functions().values() for b in bindings} - {None}
    assert "serviceBus" in used and "http" in used
    assert set(HOST.get("extensions", {})) <= used, (
        f"host.json configures {set(HOST['extensions']) - used}, which no function of the app uses"
    )


def _minutes(timespan: str) -> int:
    hours, minutes, seconds = (float(p) for p in timespan.split(":"))
    return int(hours * 60 + minutes + seconds / 60)


def test_the_local_delivery_settings_are_documented_against_the_azure_values_in_force():
    _, _, subscription = servicebus_entities()
    props = subscription["properties"]
    renewal = _minutes(HOST["extensions"]["serviceBus"]["maxAutoLockRenewalDuration"])
    lock = re.fullmatch(r"PT(\d+)M", props["lockDuration"].strip("'"))
    assert lock, props["lockDuration"]
    for text in (
        f"maxDeliveryCount {props['maxDeliveryCount']}",
        f"lockDuration {lock.group(1)}m",
        f"maxAutoLockRenewalDuration {renewal}m",
        f"prefetchCount {HOST['extensions']['serviceBus']['prefetchCount']}",
        f"LOCAL_MAX_DELIVERY = {config.LOCAL_MAX_DELIVERY}",
        f"LOCAL_LOCK_SECONDS = {config.LOCAL_LOCK_SECONDS}",
        f"LOCAL_BATCH = {config.LOCAL_BATCH}",
    ):
        assert text in CONFIG_SOURCE, f"config.py's delivery notes do not say {text!r}"
    # a local lock shorter than Azure's: a killed local host's message comes back sooner, never later
    assert config.LOCAL_LOCK_SECONDS <= int(lock.group(1)) * 60


def test_the_local_host_uses_the_configured_delivery_settings():
    import inspect

    from shared.local.localhost import LocalHost

    defaults = {name: p.default for name, p in inspect.signature(LocalHost.__init__).parameters.items()}
    assert defaults["max_delivery"] == config.LOCAL_MAX_DELIVERY
    assert defaults["lock_seconds"] == config.LOCAL_LOCK_SECONDS
    assert defaults["retry_delay"] is config.local_retry_delay
    assert inspect.signature(LocalHost.process_once).parameters["max_messages"].default == config.LOCAL_BATCH
    assert [config.local_retry_delay(n) for n in range(1, 8)] == [0] * 7  # as Azure: redelivered at once


def test_opentelemetry_mode_has_no_application_insights_sampling_section():
    """With `telemetryMode: OpenTelemetry` the host exports through OpenTelemetry only; an Application Insights
    section (sampling) beside it is a configuration the Functions host flags as incompatible
    (Azure/azure-functions-host#11366): sampling is the exporter's, set in code, not the host's."""
    assert HOST["telemetryMode"] == "OpenTelemetry"
    assert "applicationInsights" not in HOST.get("logging", {})
    assert "applicationInsights" not in HOST
