"""front-door: the weights of two origins of one Azure Front Door Standard/Premium origin group (any share).

Front Door sends each request to one of the origin group's enabled, healthy origins of the best (lowest)
priority, then of those within the group's latency band (loadBalancingSettings
.additionalLatencyInMilliseconds) of the fastest from the Front Door environment the request arrived at, and
only then in proportion to their weights (1-1000). Share p: source weight 100-p, target weight p; at 0% and
100% the origin with no users is disabled (enabledState) and the other keeps its weight (alone, it takes
every request). So, before anything is written, a move is refused when:
- an enabled origin has a better priority than the plan's: it takes every request while healthy (0%);
- another enabled origin of the same priority receives its weight's part (the true share);
- a share between 0 and 100 is asked of a group whose latency band is 0 ms: each environment then sends
  everything to the faster origin, and weights split nothing.
A band above 0 keeps the weights only where both origins are within it: that, and session affinity, are
named by `notes` (promote plan --live), since no API tells the latencies each environment measures.

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
        self.better: dict[str, int] = {}  # enabled origins of a better priority than the plan's (as last read)
        self.priority = 1  # the plan's origins' priority (as last read)
        self.group: Any = None  # the origin group (read once, when a split or a note needs it)

    def describe(self) -> str:
        return self.what

    def read(self) -> int:
        live, others = self._read()
        if self.better and (live["source"][0] or live["target"][0]):
            return 0  # an origin of better priority takes every request while it is healthy
        return self._live_share(live, others)

    def _refusal(self, live: dict[str, tuple[bool, int]], others: dict[str, int], percent: int) -> str | None:
        if percent > 0 and self.better:
            name, priority = next(iter(sorted(self.better.items(), key=lambda kv: kv[1])))
            return (
                f"{self.what}: refused before any change: {percent}% would really be 0% of the traffic, because "
                f"origin {name} has priority {priority}, better than the plan's origins ({self.priority}): Front "
                "Door sends it every request while it is healthy; disable it or give it a worse priority"
            )
        if 0 < percent < 100 and self._band() == 0:
            names = " and ".join(self.names.values())
            return (
                f"{self.what}: {percent}% is not a share Front Door keeps: loadBalancingSettings"
                f".additionalLatencyInMilliseconds is 0, so each Front Door environment sends every request to "
                f"whichever of {names} is faster from it and the weights split nothing; raise it above the "
                "latency difference between the two origins"
            )
        return super()._refusal(live, others, percent)

    def _group(self) -> Any:
        if self.group is None:
            r = self.routing
            with _arm.arm_errors(self.what, NEEDS):
                self.group = self.client.afd_origin_groups.get(r.resource_group, r.profile, r.origin_group)
        return self.group

    def _band(self) -> int:
        settings = self._group().load_balancing_settings
        return (settings.additional_latency_in_milliseconds if settings else None) or 0

    def notes(self, percents: list[int]) -> list[str]:
        """What can still make a share differ, read live: the latency band and session affinity."""
        self._read()
        out = []
        if any(0 < p < 100 for p in percents) and self._band() > 0:
            out.append(
                f"{self.what}: weights split requests only where both origins are within {self._band()} ms of the "
                "fastest (loadBalancingSettings.additionalLatencyInMilliseconds), as each Front Door environment "
                "measures it; elsewhere the faster origin gets every request, so the share varies by Front Door "
                "environment"
            )
        if _arm.text(self._group().session_affinity_state).lower() == "enabled":
            out.append(
                f"{self.what}: session affinity is enabled: a client stays on the origin of its first request, so "
                "a flight's share applies to new sessions; existing ones move only when their origin is disabled"
            )
        return out

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
        theirs = [o for o in origins if (o.name or "").lower() not in ours and _enabled(o)]
        self.priority = priority
        self.better = {o.name: o.priority or 1 for o in theirs if (o.priority or 1) < priority}  # take everything
        others = {o.name: o.weight or 1000 for o in theirs if (o.priority or 1) == priority}  # take their weight
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
