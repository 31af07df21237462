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

from typing import Any, Mapping

from shared.domain.errors import RoutingError
from shared.domain.routing import (Change, foreign_refusal, resource, tm_property, tm_share, tm_value, tm_wanted,
                                   true_share)
from shared.adapters.routing import _arm

NEEDS = ("Microsoft.Cdn/profiles/originGroups/origins/read and /write on the profile "
         "(and Microsoft.Cdn/operationresults/read to follow the operation)")


class FrontDoorRouter:
    def __init__(self, routing: Any, client: Any):
        self.routing, self.client = routing, client
        self.resource = resource(routing)
        self.what = f"origin group {routing.origin_group} of {self.resource}"
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
            raise RoutingError(f"{self.what}: origins {', '.join(self.names.values())} have different priorities; "
                               "weights split requests only between origins of the same priority")
        ours, priority = {n.lower() for n in self.names.values()}, priorities.pop()
        others = {o.name: o.weight or 1000 for o in origins if (o.name or "").lower() not in ours and _enabled(o)
                  and (o.priority or 1) <= priority}  # a better priority takes them all: it counts too
        return live, others

    @staticmethod
    def _true_share(live: Mapping[str, tuple[bool, int | None]], others: dict[str, int]) -> int | None:
        weights = {role: (weight or 1) if on else 0 for role, (on, weight) in live.items()}
        return true_share(weights["target"], weights["source"] + weights["target"] + sum(others.values()))

    def read(self) -> int:
        live, others = self._read()
        share = self._true_share(live, others) if tm_share(**live) is not None else None
        if share is None:
            raise RoutingError(f"{self.what}: both origins {', '.join(self.names.values())} are disabled")
        return share

    def problems(self, percents: list[int]) -> list[str]:
        live, others = self._read()
        return [p for p in (self._refusal(live, others, percent) for percent in percents) if p]

    def _refusal(self, live: dict[str, tuple[bool, int]], others: dict[str, int], percent: int) -> str | None:
        achieved = self._true_share(tm_wanted(percent, live), others)
        if others and achieved != percent:
            named = [f"{name} (weight {weight})" for name, weight in others.items()]
            return foreign_refusal(self.what, "enabled origins", named, percent, achieved)
        return None

    def diff(self, percent: int) -> list[Change]:
        return [change for _, _, change in self._pending(self._read()[0], percent)]

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
                raise RoutingError(f"{self.what}: wrote {percent}% but the group now gives the target {after}%: "
                                   "it was changed meanwhile; the redelivery reads it again")
        return [change for _, _, change in pending]

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


def build(routing: Any, settings: Any) -> FrontDoorRouter:
    from azure.mgmt.cdn import CdnManagementClient

    return FrontDoorRouter(routing, _arm.client(CdnManagementClient, settings, routing.subscription))
