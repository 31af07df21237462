"""Sovereign clouds (issue 26): the Resource Manager clients that routing, the azure-vm decommission and the Site
Recovery reads build (shared/adapters/routing/_arm.py) go to the cloud's Resource Manager and ask for tokens of
its audience; the cloud of the Monitor and Event Grid clients is the same one (shared/application/config.py)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from shared.adapters.routing import _arm
from shared.application.config import Settings, load_settings
from tests.routing.conftest import ArmSettings
from tests.tokens import AUDIENCES, TokenCredential

SUB = "00000000-0000-0000-0000-000000000000"


def settings_of(cloud: str | None) -> ArmSettings:
    base = load_settings({"PROMOTE_ARM_ENDPOINT": AUDIENCES[cloud]["arm"] + "/"} if cloud else {})
    values = {f.name: getattr(base, f.name) for f in fields(Settings)}
    return ArmSettings(**values, arm_credential=TokenCredential())


def client_classes():
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

    return [ComputeManagementClient, NetworkManagementClient, SiteRecoveryManagementClient]


@pytest.mark.parametrize("cloud", ["AzureUSGovernment", "AzureChinaCloud"])
def test_management_clients_go_to_the_clouds_resource_manager_with_its_audience(cloud):
    settings = settings_of(cloud)
    assert settings.cloud is not None and settings.cloud.name == cloud
    arm = AUDIENCES[cloud]["arm"]
    for client_class in client_classes():  # network (routing), compute (decommission), Site Recovery
        client = _arm.client(client_class, settings, SUB)
        assert client._config.credential_scopes == [f"{arm}/.default"], client_class.__name__
        assert client._config.base_url == arm, client_class.__name__


def test_the_public_cloud_keeps_the_sdks_defaults():
    settings = settings_of(None)
    assert settings.arm_endpoint is None and settings.cloud is not None and settings.cloud.name == "AzureCloud"
    for client_class in client_classes():
        client = _arm.client(client_class, settings, SUB)
        assert client._config.credential_scopes == [f"{AUDIENCES['AzureCloud']['arm']}/.default"]
        assert client._config.base_url.rstrip("/") == AUDIENCES["AzureCloud"]["arm"]
