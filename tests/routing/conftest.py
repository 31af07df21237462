"""Fixtures for the routing providers: a local Resource Manager over HTTPS and settings pointing at it."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

import pytest

from shared.application.config import Settings, load_settings
from tests.routing.fake_arm import FakeArm, self_signed_certificate


class FakeCredential:
    """A TokenCredential: hands out a fixed token and records the scopes asked for."""

    def __init__(self):
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        self.scopes.append(scopes)
        return AccessToken("fake-token", int(time.time()) + 3600)


@dataclass(frozen=True)
class ArmSettings(Settings):
    """Settings plus the credential the Azure providers use instead of DefaultAzureCredential."""

    arm_credential: Any = None
    arm_sleep: Any = None  # what the firewall provider waits with while a policy is busy (tests: no real waits)


@pytest.fixture(scope="session")
def arm_tls(tmp_path_factory):
    """A certificate for the fake Resource Manager (made once per session)."""
    return self_signed_certificate(tmp_path_factory.mktemp("fake-arm"))


@pytest.fixture
def arm(arm_tls, monkeypatch):
    """The fake Resource Manager on HTTPS; the SDKs' HTTP stack (requests) trusts its certificate meanwhile."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = FakeArm()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


@pytest.fixture
def credential():
    return FakeCredential()


class Naps:
    """A sleep that records what it was asked to wait and waits a hundredth of it (a policy's update in the
    local Resource Manager takes a fraction of a second)."""

    def __init__(self):
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        time.sleep(min(seconds / 100, 0.2))


def arm_settings(arm: FakeArm, credential: FakeCredential, base: Settings | None = None, sleep=None) -> ArmSettings:
    base = base or load_settings({})
    values = {f.name: getattr(base, f.name) for f in fields(Settings)}
    return ArmSettings(**{**values, "arm_endpoint": arm.url, "arm_credential": credential, "arm_sleep": sleep})


@pytest.fixture
def naps():
    return Naps()


@pytest.fixture
def settings_arm(arm, credential, naps):
    return arm_settings(arm, credential, sleep=naps)


@pytest.fixture
def arm_stack(arm, credential, settings):
    """The real stack (table store on the session's Azurite, the real router factory) aimed at the fake ARM."""
    from shared.application.bootstrap import Stack, use_stack
    from tests.fakes import FakeClock

    stack = Stack(arm_settings(arm, credential, base=settings, sleep=Naps()), clock=FakeClock())
    use_stack(stack)
    yield stack
    use_stack(None)
