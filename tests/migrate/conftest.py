"""Fixtures: the local Resource Manager for Azure Migrate's migration items (HTTPS), reusing the routing tests' TLS."""

from __future__ import annotations

import pytest

from tests.migrate.fake_vault import FakeVault
from tests.routing.conftest import arm_settings, arm_tls, credential  # noqa: F401  (fixtures)

SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-migrate/providers/Microsoft.RecoveryServices/vaults/vault-migrate"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-isolated"


@pytest.fixture
def vault(arm_tls, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = FakeVault()
    fake.add_vault(VAULT)
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


@pytest.fixture
def vault_settings(vault, credential):  # noqa: F811
    return arm_settings(vault, credential)
