"""Decommission providers behind the Decommissioner port (v2 §8): local, azure-vm, webhook.

Each is idempotent: a source already off is not touched, and what was changed comes back as Change lines
for the history. Azure SDKs are imported only by the provider a plan uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import PromoteError
from shared.domain.plan import DecommissionTarget


class DecommissionError(PromoteError):
    """The source could not be turned off (the service records it and retries later)."""


class DecommissionRequest(Protocol):
    """What a provider reads of the machine's Decommission effect: the workload's typed target (the plan's
    section) and what the history and the webhook's event name."""

    @property
    def workload(self) -> str: ...
    @property
    def target(self) -> DecommissionTarget: ...
    @property
    def assets(self) -> Sequence[str]: ...
    @property
    def actor(self) -> str: ...
    @property
    def attempt(self) -> int: ...


def decommissioner(
    local_table_factory: Callable[[], Any], settings: ArmSettings, environ: Mapping[str, str] | None = None
):
    """A Decommissioner dispatching on the request's provider."""

    class _Decommissioner:
        def decommission(self, release: str, request: DecommissionRequest) -> list:
            provider = request.target.provider
            if provider == "local":
                from shared.adapters.decommission.local import LocalDecommissioner

                return LocalDecommissioner(local_table_factory()).decommission(release, request)
            if provider == "azure-vm":
                from shared.adapters.decommission.azure_vm import AzureVmDecommissioner

                return AzureVmDecommissioner(settings).decommission(release, request)
            if provider == "webhook":
                from shared.adapters.decommission.webhook import WebhookDecommissioner

                return WebhookDecommissioner(environ).decommission(release, request)
            raise DecommissionError(f"unknown decommission provider {provider!r}")

    return _Decommissioner()
