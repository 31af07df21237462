"""Sovereign clouds (issue 26): the health judge's Monitor clients ask for tokens of the configured cloud's
audiences, and a Monitor of another cloud refuses them (401), as Azure does. The cloud comes from
PROMOTE_ARM_ENDPOINT, so every client follows the one setting."""

from __future__ import annotations

import pytest

from shared.adapters.metrics.logs import LogsSource
from shared.adapters.metrics.platform import PlatformMetricsSource
from shared.application.config import load_settings, monitor_logs_endpoint, monitor_metrics_endpoint
from shared.domain.health import Reading
from tests.monitor.conftest import monitor_settings
from tests.monitor.test_monitor_sources import END, START, VM1, WS, answer, checks, logs_check, metric_check, points
from tests.tokens import AUDIENCES

SOVEREIGN = ["AzureUSGovernment", "AzureChinaCloud"]


def seeded(monitor) -> None:
    monitor.workspace(WS, answer(0.42, 812))
    monitor.resource(VM1, "westeurope", {"Percentage CPU": points((40, 4), (60, 4))})


@pytest.mark.parametrize("cloud", SOVEREIGN)
def test_a_sovereign_clouds_monitor_accepts_the_tokens_promote_asks_for_there(monitor, credential, cloud):
    monitor.cloud = cloud
    seeded(monitor)
    settings = monitor_settings(monitor, credential, load_settings({"PROMOTE_ARM_ENDPOINT": AUDIENCES[cloud]["arm"]}))
    logs = LogsSource(settings).read("r", "w", checks(logs_check()), START, END)
    cpu = PlatformMetricsSource(settings).read("r", "w", checks(metric_check("cpu", VM1)), START, END)
    assert logs == {"error-rate": Reading(value=0.42, samples=812)}
    assert cpu == {"cpu": Reading(value=50.0, samples=8)}
    assert {s for (s,) in credential.scopes} == {
        f"{AUDIENCES[cloud]['logs']}/.default",
        f"{AUDIENCES[cloud]['metrics']}/.default",
    }


@pytest.mark.parametrize("cloud", SOVEREIGN)
def test_a_token_for_another_cloud_is_refused_and_the_check_has_no_data(monitor, credential, cloud):
    monitor.cloud = cloud
    seeded(monitor)
    settings = monitor_settings(monitor, credential)  # no PROMOTE_ARM_ENDPOINT: the public cloud's audiences
    logs = LogsSource(settings, {"retry_total": 0}).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    cpu = PlatformMetricsSource(settings, {"retry_total": 0}).read(
        "r", "w", checks(metric_check("cpu", VM1)), START, END
    )["cpu"]
    for reading in (logs, cpu):
        assert reading.value is None and reading.error.startswith("HTTP 401"), reading
        assert "InvalidAuthenticationTokenAudience" in reading.error or "not valid" in reading.error
    assert [c.status for c in monitor.calls] == [401, 401]


def test_the_public_monitor_refuses_a_government_token(monitor, credential):
    seeded(monitor)
    gov = load_settings({"PROMOTE_ARM_ENDPOINT": AUDIENCES["AzureUSGovernment"]["arm"]})
    settings = monitor_settings(monitor, credential, gov)
    reading = LogsSource(settings, {"retry_total": 0}).read("r", "w", checks(logs_check()), START, END)["error-rate"]
    assert reading.error.startswith("HTTP 401")


@pytest.mark.parametrize(
    "arm, cloud",
    [
        (None, "AzureCloud"),
        ("https://management.azure.com/", "AzureCloud"),
        ("https://management.usgovcloudapi.net/", "AzureUSGovernment"),
        ("https://MANAGEMENT.chinacloudapi.cn", "AzureChinaCloud"),
        ("https://127.0.0.1:8443", "AzureCloud"),  # a stand-in: the public cloud's audiences
    ],
)
def test_the_cloud_follows_the_resource_manager_endpoint_and_sets_the_monitor_endpoints(arm, cloud):
    settings = load_settings({"PROMOTE_ARM_ENDPOINT": arm} if arm else {})
    assert settings.cloud is not None and settings.cloud.name == cloud
    audiences = AUDIENCES[cloud]
    assert settings.cloud.logs_audience == audiences["logs"]
    assert settings.cloud.metrics_audience == audiences["metrics"]
    assert settings.cloud.event_grid_audience == audiences["event-grid"]
    assert monitor_logs_endpoint(settings) == audiences["logs"] + "/v1"
    region = "usgovvirginia" if cloud == "AzureUSGovernment" else "westeurope"
    metrics = monitor_metrics_endpoint(settings, region)
    assert metrics == f"https://{region}.{audiences['metrics'].removeprefix('https://')}"


def test_explicit_monitor_endpoints_keep_the_clouds_audience(monitor, credential):
    """PROMOTE_MONITOR_* move the endpoint (a proxy, a test); the token is still for the cloud's Monitor."""
    seeded(monitor)
    settings = monitor_settings(monitor, credential)
    assert monitor_logs_endpoint(settings).startswith(monitor.url)
    LogsSource(settings).read("r", "w", checks(logs_check()), START, END)
    assert credential.scopes[-1] == (f"{AUDIENCES['AzureCloud']['logs']}/.default",)
