"""front-door: the weights of two origins of one Azure Front Door Standard/Premium origin group (any share).

Front Door sends each request to one of the origin group's enabled origins of the best (lowest) priority,
in proportion to their weights (1-1000). Share p: source weight 100-p, target weight p; at 0% and 100% the
origin with no users is disabled (enabledState) and the other keeps its weight (alone, it takes every
request). Other enabled origins of the same priority also receive requests and count (the true share); a
move whose true share would differ from the plan's is refused before anything is written, naming them.

Front Door origins carry no ETag (Microsoft.Cdn offers no If-Match): each origin that must change gets one
PATCH (AFDOrigins_Update, a long-running operation) of its enabledState and weight only, the origin gaining
users first; the group is read back afterwards and a share that is not what was written fails the move.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.adapters.routing._weighted import WeightedPairRouter
from shared.domain.errors import RoutingError
from shared.domain.plan import FrontDoorRouting
from shared.domain.routing import resource

NEEDS = (
    "Microsoft.Cdn/profiles/originGroups/origins/read and /write on the profile "
    "(and Microsoft.Cdn/operationresults/read to follow the operation)"
)


class FrontDoorRouter(WeightedPairRouter[FrontDoorRouting]):
    members, container = "origins", "group"

    def __init__(self, routing: FrontDoorRouting, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"origin group {routing.origin_group} of {self.resource}"
        self.label = self.what
        self.names = {"source": routing.source_origin, "target": routing.target_origin}

    def describe(self) -> str:
        return self.what

    def _read(self) -> tuple[dict[str, tuple[bool, int]], dict[str, int]]:
        """(role -> (enabled, weight), other origin receiving requests -> weight), from one list of the group."""
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            origins = list(self.client.afd_origins.list_by_origin_group(r.resource_group, r.profile, r.origin_group))
        by_name = {(o.name or "").lower(): o for o in origins}
        live, priorities = {}, set()
        for role, name in self.names.items():
            origin = by_name.get(name.lower())
            if origin is None:
                raise RoutingError(f"{self.what}: has no origin {name!r}")
            live[role] = (_enabled(origin), origin.weight or 1000)  # Azure returns it; absent: the most it can be
            priorities.add(origin.priority or 1)
        if len(priorities) > 1:
            raise RoutingError(
                f"{self.what}: origins {', '.join(self.names.values())} have different priorities; "
                "weights split requests only between origins of the same priority"
            )
        ours, priority = {n.lower() for n in self.names.values()}, priorities.pop()
        others = {
            o.name: o.weight or 1000
            for o in origins
            if (o.name or "").lower() not in ours and _enabled(o) and (o.priority or 1) <= priority
        }  # a better priority takes them all: it counts too
        return live, others

    def _patch(self, name: str, enabled: bool, weight: int | None) -> None:
        from azure.mgmt.cdn.models import AFDOriginUpdateParameters

        r = self.routing
        update = AFDOriginUpdateParameters(enabled_state="Enabled" if enabled else "Disabled")
        if enabled and weight is not None:
            update.weight = weight
        with _arm.arm_errors(f"origin {name} of {self.what}", NEEDS):
            _arm.wait(self.client.afd_origins.begin_update(r.resource_group, r.profile, r.origin_group, name, update))


def _enabled(origin: Any) -> bool:
    return _arm.text(origin.enabled_state or "Enabled").lower() == "enabled"


def build(routing: FrontDoorRouting, settings: ArmSettings) -> FrontDoorRouter:
    from azure.mgmt.cdn import CdnManagementClient

    return FrontDoorRouter(routing, _arm.client(CdnManagementClient, settings, routing.subscription))
