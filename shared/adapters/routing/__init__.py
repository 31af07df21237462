"""Routing providers behind the Router port. Azure providers are imported only when a plan uses them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from shared.domain.errors import RoutingError

# provider name -> module under shared.adapters.routing exposing build(routing, settings) -> Router
AZURE_PROVIDERS = {
    "traffic-manager": "traffic_manager",
    "load-balancer": "load_balancer",
    "application-gateway": "application_gateway",
    "route-table": "route_table",
    "front-door": "front_door",
}


def router_factory(local_table_factory: Callable[[], Any], settings: Any):
    """A RouterFactory: (release, workload, routing) -> Router."""

    def make(release: str, workload: str, routing: Any):
        if routing.provider == "local":
            from shared.adapters.routing.local import LocalRouter

            return LocalRouter(local_table_factory(), release, workload)
        module_name = AZURE_PROVIDERS.get(routing.provider)
        if module_name is None:
            raise RoutingError(f"unknown routing provider {routing.provider!r}")
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            raise RoutingError(f"routing provider {routing.provider!r} is not available: {exc}") from None
        return module.build(routing, settings)

    return make


def access_revoker(local_table_factory: Callable[[], Any], settings: Any):
    """An AccessRevoker dispatching on revoke_access.provider."""

    class _Revoker:
        def revoke(self, release: str, config: Any) -> list:
            """Returns the changes made (the history records them)."""
            return self._build(config).revoke(release, config)

        def problems(self, release: str, config: Any) -> list[str]:
            return self._build(config).problems(release, config)

        def _build(self, config: Any) -> Any:
            if config.provider == "local":
                from shared.adapters.routing.local import LocalAccessRevoker

                return LocalAccessRevoker(local_table_factory())
            try:
                module = importlib.import_module(f"{__name__}.network_security_group")
            except ModuleNotFoundError as exc:
                raise RoutingError(f"revoke_access provider {config.provider!r} is not available: {exc}") from None
            return module.build_revoker(config, settings)

    return _Revoker()
