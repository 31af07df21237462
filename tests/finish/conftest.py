"""Fixtures: the local Resource Manager for Compute and Site Recovery (HTTPS), reusing the routing tests' TLS."""

from __future__ import annotations

import pytest

from tests.finish.fake_azure import FakeAzure
from tests.routing.conftest import arm_settings, arm_tls, credential  # noqa: F401  (fixtures)


@pytest.fixture
def azure(arm_tls, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = FakeAzure()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


@pytest.fixture
def azure_settings(azure, credential):  # noqa: F811
    return arm_settings(azure, credential)
