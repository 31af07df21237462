"""Decommission providers behind the Decommissioner port (v2 §8): local, azure-vm, webhook.

Each is idempotent: a source already off is not touched, and what was changed comes back as Change lines
for the history. Azure SDKs are imported only by the provider a plan uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain.errors import PromoteError


class DecommissionError(PromoteError):
    """The source could not be turned off (the service records it and retries later)."""


def decommissioner(local_table_factory: Callable[[], Any], settings: Any, environ: Any = None):
    """A Decommissioner dispatching on the request's provider."""

    class _Decommissioner:
        def decommission(self, release: str, request: Any) -> list:
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
