"""Settings read from the environment (shared/application/config.py): every name, its default, the exact
refusal a wrong value gets, and the cloud a Resource Manager endpoint names."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.application import config
from shared.application.config import (
    ClientSettings,
    SettingError,
    Settings,
    azurite_connection_string,
    cloud,
    cloud_of,
    easy_auth_enabled,
    load_client_settings,
    load_settings,
    local_retry_delay,
    monitor_logs_endpoint,
    monitor_metrics_endpoint,
    parse_dev_ports,
)

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def test_dev_ports_are_blob_queue_table_in_that_order():
    assert parse_dev_ports("20000,20001,20002") == {"blob": 20000, "queue": 20001, "table": 20002}
    assert parse_dev_ports(" 3 , 1 ,2 ") == {"blob": 3, "queue": 1, "table": 2}
    assert parse_dev_ports("1,65535,2") == {"blob": 1, "queue": 65535, "table": 2}  # both ends of the range


@pytest.mark.parametrize(
    "text",
    [
        "20000,20001",  # two
        "20000,20001,20002,20003",  # four
        "20000,20001,",  # an empty one
        "20000,20001,x",
        "20000,-1,20002",
        "20000,20001,٣",  # a digit, but not an ASCII one
        "20000,20000,20002",  # the same port twice
        "0,20001,20002",  # below 1
        "20000,65536,20002",  # above 65535
    ],
)
def test_dev_ports_refuse_anything_but_three_different_ports_with_the_form_in_the_message(text):
    with pytest.raises(SettingError) as error:
        parse_dev_ports(text)
    assert str(error.value) == (
        f"PROMOTE_DEV_PORTS is three different ports BLOB,QUEUE,TABLE (e.g. 20000,20001,20002), got {text!r}"
    )


def test_dev_ports_name_the_setting_they_came_from():
    with pytest.raises(SettingError, match=r"^--ports is three different ports BLOB,QUEUE,TABLE "):
        parse_dev_ports("1,2", name="--ports")


def test_an_empty_environment_is_the_local_stack_on_azurites_default_ports(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings == Settings(
        storage_connection_string=None,
        tables_endpoint=None,
        servicebus_namespace=None,
        servicebus_connection_string=None,
        arm_endpoint=None,
        home=tmp_path / ".promote",
        dev_ports={"blob": 10000, "queue": 10001, "table": 10002},
        monitor_logs_endpoint=None,
        monitor_metrics_endpoint=None,
        shard_size=97,
        cloud=config.PUBLIC_CLOUD,
    )
    assert settings.dev_ports == {"blob": 10000, "queue": 10001, "table": 10002}
    assert (settings.is_local, settings.uses_servicebus, settings.overrides_need_principal) == (True, False, False)
    assert (
        settings.storage
        == settings.dev_connection_string
        == (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={KEY};"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
            "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
            "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
        )
    )


def test_every_setting_is_read_from_its_own_name_and_trimmed():
    settings = load_settings(
        {
            "PROMOTE_STORAGE_CONNECTION_STRING": " storage ",
            "PROMOTE_TABLES_ENDPOINT": "https://st.table.core.windows.net",
            "PROMOTE_SERVICEBUS_NAMESPACE": "sb.servicebus.windows.net",
            "PROMOTE_SERVICEBUS_CONNECTION_STRING": "Endpoint=sb://x/",
            "PROMOTE_ARM_ENDPOINT": "https://management.usgovcloudapi.net/",
            "PROMOTE_HOME": "/var/promote",
            "PROMOTE_DEV_PORTS": "20000,20001,20002",
            "PROMOTE_MONITOR_LOGS_ENDPOINT": "http://127.0.0.1:9/logs",
            "PROMOTE_MONITOR_METRICS_ENDPOINT": "http://127.0.0.1:9/{region}",
            "PROMOTE_SHARD_SIZE": "5",
        }
    )
    assert settings == Settings(
        storage_connection_string="storage",
        tables_endpoint="https://st.table.core.windows.net",
        servicebus_namespace="sb.servicebus.windows.net",
        servicebus_connection_string="Endpoint=sb://x/",
        arm_endpoint="https://management.usgovcloudapi.net/",
        home=Path("/var/promote"),
        dev_ports={"blob": 20000, "queue": 20001, "table": 20002},
        monitor_logs_endpoint="http://127.0.0.1:9/logs",
        monitor_metrics_endpoint="http://127.0.0.1:9/{region}",
        shard_size=5,
        cloud=config.CLOUDS["AzureUSGovernment"],
    )
    assert settings.dev_ports == {"blob": 20000, "queue": 20001, "table": 20002}
    assert (settings.is_local, settings.uses_servicebus, settings.overrides_need_principal) == (False, True, True)
    assert settings.storage == "storage"
    assert settings.dev_connection_string == azurite_connection_string(
        queue_port=20001, table_port=20002, blob_port=20000
    )
    assert "QueueEndpoint=http://127.0.0.1:20001/devstoreaccount1;" in settings.dev_connection_string
    assert "TableEndpoint=http://127.0.0.1:20002/devstoreaccount1;" in settings.dev_connection_string
    assert "BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1;" in settings.dev_connection_string


def test_blank_settings_are_unset():
    settings = load_settings(
        {"PROMOTE_STORAGE_CONNECTION_STRING": "  ", "PROMOTE_HOME": "/h", "PROMOTE_DEV_PORTS": " "}
    )
    assert settings.storage_connection_string is None and settings.is_local
    assert settings.dev_ports == {"blob": 10000, "queue": 10001, "table": 10002}


def test_a_wrong_dev_ports_setting_is_refused_by_name():
    with pytest.raises(SettingError, match=r"^PROMOTE_DEV_PORTS is three different ports .* got '1,2'$"):
        load_settings({"PROMOTE_HOME": "/h", "PROMOTE_DEV_PORTS": "1,2"})


def test_either_service_bus_setting_means_azure_and_either_storage_setting_means_not_local():
    base = {"PROMOTE_HOME": "/h"}
    assert load_settings({**base, "PROMOTE_SERVICEBUS_NAMESPACE": "sb"}).uses_servicebus
    assert load_settings({**base, "PROMOTE_SERVICEBUS_CONNECTION_STRING": "c"}).uses_servicebus
    tables_only = load_settings({**base, "PROMOTE_TABLES_ENDPOINT": "https://t"})
    assert not tables_only.is_local
    assert tables_only.storage == tables_only.dev_connection_string  # no connection string: the queues stay local


@pytest.mark.parametrize(("text", "size"), [("1", 1), ("97", 97), (" 40 ", 40)])
def test_the_shard_size_is_from_1_to_97(text, size):
    assert load_settings({"PROMOTE_HOME": "/h", "PROMOTE_SHARD_SIZE": text}).shard_size == size


@pytest.mark.parametrize("text", ["0", "98", "-1", "x", "٣", "1.5"])
def test_a_shard_size_out_of_range_is_refused_with_the_range(text):
    with pytest.raises(SettingError) as error:
        load_settings({"PROMOTE_HOME": "/h", "PROMOTE_SHARD_SIZE": text})
    assert str(error.value) == f"PROMOTE_SHARD_SIZE is a number of workloads from 1 to 97, got {text!r}"


def test_the_client_settings_are_the_api_url_and_scope_trimmed():
    assert load_client_settings({}) == ClientSettings(api_url=None, api_scope=None)
    assert not load_client_settings({}).uses_api
    loaded = load_client_settings(
        {"PROMOTE_API_URL": " https://func.azurewebsites.net ", "PROMOTE_API_SCOPE": "api://x/.default"}
    )
    assert loaded == ClientSettings(api_url="https://func.azurewebsites.net", api_scope="api://x/.default")
    assert loaded.uses_api
    assert load_client_settings({"PROMOTE_API_URL": " ", "PROMOTE_API_SCOPE": "s"}) == ClientSettings(None, "s")
    assert not load_client_settings({"PROMOTE_API_SCOPE": "s"}).uses_api


def test_settings_default_to_the_process_environment(monkeypatch, tmp_path):
    for name in [*config.APP_SETTINGS, *config.CLIENT_SETTINGS, config.ENV_EASY_AUTH_ENABLED]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMOTE_HOME", str(tmp_path))
    monkeypatch.setenv("PROMOTE_API_URL", "https://f")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    assert load_settings().home == tmp_path
    assert load_client_settings() == ClientSettings(api_url="https://f", api_scope=None)
    assert easy_auth_enabled()


@pytest.mark.parametrize(
    ("value", "on"), [("True", True), (" true ", True), ("TRUE", True), ("False", False), ("", False), ("1", False)]
)
def test_easy_auth_is_on_only_when_app_service_says_true(value, on):
    assert easy_auth_enabled({"WEBSITE_AUTH_ENABLED": value}) is on
    assert easy_auth_enabled({}) is False


def test_a_failed_local_delivery_is_redelivered_at_once_every_time():
    assert [local_retry_delay(n) for n in (1, 2, 10)] == [0, 0, 0]


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        (None, "AzureCloud"),
        ("", "AzureCloud"),
        ("https://management.azure.com", "AzureCloud"),
        ("https://management.usgovcloudapi.net", "AzureUSGovernment"),
        ("https://MANAGEMENT.usgovcloudapi.net/", "AzureUSGovernment"),
        ("https://management.chinacloudapi.cn/", "AzureChinaCloud"),
        ("http://127.0.0.1:8443", "AzureCloud"),  # a local stand-in
    ],
)
def test_the_cloud_is_the_one_whose_resource_manager_is_named(endpoint, name):
    assert cloud_of(endpoint).name == name


def test_each_cloud_has_its_own_endpoints_and_audiences():
    assert config.CLOUDS["AzureUSGovernment"] == config.Cloud(
        name="AzureUSGovernment",
        arm="https://management.usgovcloudapi.net",
        logs_endpoint="https://api.loganalytics.us/v1",
        logs_audience="https://api.loganalytics.us",
        metrics_endpoint="https://{region}.metrics.monitor.azure.us",
        metrics_audience="https://metrics.monitor.azure.us",
        event_grid_audience="https://eventgrid.azure.us",
        authority="login.microsoftonline.us",
    )


class Bare:
    """Settings as a test or a tool may pass them: only some of the attributes."""

    def __init__(self, **values):
        self.__dict__.update(values)


def test_monitor_endpoints_are_the_clouds_unless_set():
    gov = Bare(arm_endpoint="https://management.usgovcloudapi.net")
    assert cloud(gov).name == "AzureUSGovernment"
    assert cloud(Bare()).name == "AzureCloud"
    assert cloud(Bare(cloud=config.CLOUDS["AzureChinaCloud"], arm_endpoint=None)).name == "AzureChinaCloud"
    assert monitor_logs_endpoint(gov) == "https://api.loganalytics.us/v1"
    assert monitor_metrics_endpoint(gov, "usgovvirginia") == "https://usgovvirginia.metrics.monitor.azure.us"
    assert monitor_logs_endpoint(Bare()) == "https://api.loganalytics.io/v1"
    assert monitor_metrics_endpoint(Bare(), "westeurope") == "https://westeurope.metrics.monitor.azure.com"
    proxy = Bare(monitor_logs_endpoint="http://proxy/logs", monitor_metrics_endpoint="http://proxy/{region}/m")
    assert monitor_logs_endpoint(proxy) == "http://proxy/logs"
    assert monitor_metrics_endpoint(proxy, "northeurope") == "http://proxy/northeurope/m"
