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

from typing import Any, Mapping

from shared.domain.errors import RoutingError
from shared.domain.routing import (Change, foreign_refusal, resource, tm_property, tm_share, tm_value, tm_wanted,
                                   true_share)
from shared.adapters.routing import _arm

NEEDS = ("Microsoft.Network/trafficManagerProfiles/read and the profile's endpoints' write "
         "(e.g. Microsoft.Network/trafficManagerProfiles/externalEndpoints/write) on the profile")


class TrafficManagerRouter:
    def __init__(self, routing: Any, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.endpoint_type = routing.endpoint_type[0].upper() + routing.endpoint_type[1:]  # the URL segment
        self.names = {"source": routing.source_endpoint, "target": routing.target_endpoint}

    def describe(self) -> str:
        return self.resource

    def _live(self) -> dict[str, tuple[bool, int]]:
        return self._read()[0]

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
        others = {f"{(e.type or '').rsplit('/', 1)[-1]}/{e.name}": e.weight or 1 for e in profile.endpoints or []
                  if _enabled(e) and not ((e.name or "").lower() in ours and (e.type or "").lower().endswith(kind))}
        return live, others

    @staticmethod
    def _true_share(live: Mapping[str, tuple[bool, int | None]], others: dict[str, int]) -> int | None:
        weights = {role: (weight or 1) if on else 0 for role, (on, weight) in live.items()}
        return true_share(weights["target"], weights["source"] + weights["target"] + sum(others.values()))

    def read(self) -> int:
        live, others = self._read()
        share = self._true_share(live, others) if tm_share(**live) is not None else None
        if share is None:
            raise RoutingError(f"{self.resource}: both endpoints {', '.join(self.names.values())} are disabled")
        return share

    def problems(self, percents: list[int]) -> list[str]:
        live, others = self._read()
        return [p for p in (self._refusal(live, others, percent) for percent in percents) if p]

    def _refusal(self, live: dict[str, tuple[bool, int]], others: dict[str, int], percent: int) -> str | None:
        achieved = self._true_share(tm_wanted(percent, live), others)
        if others and achieved != percent:
            named = [f"{name} (weight {weight})" for name, weight in others.items()]
            return foreign_refusal(self.resource, "enabled endpoints", named, percent, achieved)
        return None

    def diff(self, percent: int) -> list[Change]:
        return [change for _, _, change in self._pending(self._live(), percent)]

    def _pending(self, live: dict[str, tuple[bool, int]], percent: int) -> list[tuple[str, tuple, Change]]:
        pending = []
        for role, wanted in tm_wanted(percent, live).items():
            before, after = tm_value(*live[role]), tm_value(*wanted)
            if before != after:
                pending.append((role, wanted, Change(self.resource, tm_property(self.routing, role), before, after)))
        return pending

    def apply(self, percent: int) -> list[Change]:
        live, others = self._read()
        refusal = self._refusal(live, others, percent)
        if refusal:
            raise RoutingError(refusal)
        pending = self._pending(live, percent)
        gaining = "target" if percent > (tm_share(**live) or 0) else "source"
        for role, (enabled, weight), _ in sorted(pending, key=lambda p: p[0] != gaining):
            self._patch(self.names[role], enabled, weight)
        if pending:  # no ETags here: confirm that what was written is what users get
            after = self.read()
            if after != percent:
                raise RoutingError(f"{self.resource}: wrote {percent}% but the profile now gives the target "
                                   f"{after}%: it was changed meanwhile; the redelivery reads it again")
        return [change for _, _, change in pending]

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


def build(routing: Any, settings: Any) -> TrafficManagerRouter:
    from azure.mgmt.trafficmanager import TrafficManagerManagementClient

    return TrafficManagerRouter(routing, _arm.client(TrafficManagerManagementClient, settings, routing.subscription))
