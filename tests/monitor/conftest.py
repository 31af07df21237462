"""Fixtures: the local Azure Monitor on HTTPS, and settings that point the real SDK clients at it."""

from __future__ import annotations

from dataclasses import fields

import pytest

from shared.application.config import CLOUDS, Settings, load_settings
from tests.monitor.fake_monitor import FakeMonitor
from tests.routing.conftest import ArmSettings, arm_tls  # noqa: F401  (fixture re-used)
from tests.tokens import TokenCredential


@pytest.fixture
def monitor(arm_tls, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = FakeMonitor()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


@pytest.fixture
def credential():
    """Issues tokens for the scope asked: the local Monitor refuses those for another audience or cloud."""
    return TokenCredential()


def monitor_settings(
    monitor: FakeMonitor, credential, base: Settings | None = None, cloud: str | None = None
) -> ArmSettings:
    base = base or load_settings({})
    values = {f.name: getattr(base, f.name) for f in fields(Settings)}
    values.update(monitor_logs_endpoint=monitor.logs_endpoint(), monitor_metrics_endpoint=monitor.metrics_endpoint())
    if cloud:
        values["cloud"] = CLOUDS[cloud]
    return ArmSettings(**values, arm_credential=credential)


@pytest.fixture
def settings_monitor(monitor, credential):
    return monitor_settings(monitor, credential)
