"""traffic-manager: the weights of two endpoints of a Weighted Traffic Manager profile (any share, 1% steps).

Share p: source weight 100-p, target weight p; at 0% and 100% the endpoint that gets no users is disabled
and the other one enabled with the weight it has (alone, it carries every user). One GET of the profile
reads both endpoints; each endpoint that must change gets one PATCH of its status (and weight) only. The
endpoint gaining users is written first, so both are never disabled at once.

Every enabled endpoint of the profile receives DNS answers in proportion to its weight, so the share is the
target's weight over the weights of *all* enabled endpoints (the true share); a move whose true share would
differ from the plan's (another enabled endpoint) is refused before anything is written, naming it.
Traffic Manager has no ETags (no If-Match): promote writes only the status and weight of its own endpoints
and reads the profile back afterwards; a share that is not what was written fails the move (redelivered).
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.adapters.routing._weighted import WeightedPairRouter
from shared.domain.errors import RoutingError
from shared.domain.plan import TrafficManagerRouting
from shared.domain.routing import resource

NEEDS = (
    "Microsoft.Network/trafficManagerProfiles/read and the profile's endpoints' write "
    "(e.g. Microsoft.Network/trafficManagerProfiles/externalEndpoints/write) on the profile"
)


class TrafficManagerRouter(WeightedPairRouter[TrafficManagerRouting]):
    members, container = "endpoints", "profile"

    def __init__(self, routing: TrafficManagerRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = self.label = resource(routing)
        self.endpoint_type = routing.endpoint_type[0].upper() + routing.endpoint_type[1:]  # the URL segment
        self.names = {"source": routing.source_endpoint, "target": routing.target_endpoint}

    def describe(self) -> str:
        return self.resource

    def _read(self) -> tuple[dict[str, tuple[bool, int]], dict[str, int]]:
        """(role -> (enabled, weight), other enabled endpoint -> weight), from one GET of the profile."""
        r = self.routing
        with _arm.arm_errors(self.resource, NEEDS):
            profile = self.client.profiles.get(r.resource_group, r.profile)
        method = _arm.text(profile.traffic_routing_method)
        if method.lower() != "weighted":
            raise RoutingError(f"{self.resource}: routing method is {method}, promote needs Weighted")
        kind = "/" + r.endpoint_type.lower()
        endpoints = {e.name.lower(): e for e in profile.endpoints or [] if (e.type or "").lower().endswith(kind)}
        live = {}
        for role, name in self.names.items():
            endpoint = endpoints.get(name.lower())
            if endpoint is None:
                raise RoutingError(f"{self.resource}: has no {r.endpoint_type} endpoint {name!r}")
            live[role] = (_enabled(endpoint), endpoint.weight or 1)
        ours = {n.lower() for n in self.names.values()}
        others = {
            f"{(e.type or '').rsplit('/', 1)[-1]}/{e.name}": e.weight or 1
            for e in profile.endpoints or []
            if _enabled(e) and not ((e.name or "").lower() in ours and (e.type or "").lower().endswith(kind))
        }
        return live, others

    def _patch(self, name: str, enabled: bool, weight: int | None) -> None:
        from azure.mgmt.trafficmanager.models import Endpoint

        r = self.routing
        update = Endpoint(endpoint_status="Enabled" if enabled else "Disabled")
        if enabled and weight is not None:
            update.weight = weight
        with _arm.arm_errors(f"endpoint {name} of {self.resource}", NEEDS):
            self.client.endpoints.update(r.resource_group, r.profile, self.endpoint_type, name, update)


def _enabled(endpoint: Any) -> bool:
    return _arm.text(endpoint.endpoint_status or "Enabled").lower() == "enabled"


def build(routing: TrafficManagerRouting, settings: ArmSettings) -> TrafficManagerRouter:
    from azure.mgmt.trafficmanager import TrafficManagerManagementClient

    return TrafficManagerRouter(routing, _arm.client(TrafficManagerManagementClient, settings, routing.subscription))
