"""Two weighted members of one Azure resource (Traffic Manager endpoints, Front Door origins): the share
arithmetic, the refusal of a distorted true share, and the write order, which both providers share.

A subclass reads its members (`_read`: role -> (enabled, weight), and the other enabled members that receive
users -> weight) and writes one (`_patch`); `label` names the resource in errors, `members` and `container`
say what the members and their resource are called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from shared.domain.errors import RoutingError
from shared.domain.plan import FrontDoorRouting, TrafficManagerRouting
from shared.domain.routing import Change, foreign_refusal, tm_property, tm_share, tm_value, tm_wanted, true_share

R = TypeVar("R", TrafficManagerRouting, FrontDoorRouting)  # the routing settings of the provider


class WeightedPairRouter(Generic[R]):
    routing: R
    label: str  # the resource as errors name it
    members: str  # "endpoints", "origins"
    container: str  # "profile", "group"
    resource: str
    names: dict[str, str]  # role -> member name

    def _read(self) -> tuple[dict[str, tuple[bool, int]], dict[str, int]]:
        raise NotImplementedError

    def _patch(self, name: str, enabled: bool, weight: int | None) -> None:
        raise NotImplementedError

    @staticmethod
    def _true_share(live: Mapping[str, tuple[bool, int | None]], others: dict[str, int]) -> int | None:
        weights = {role: (weight or 1) if on else 0 for role, (on, weight) in live.items()}
        return true_share(weights["target"], weights["source"] + weights["target"] + sum(others.values()))

    def read(self) -> int:
        return self._live_share(*self._read())

    def _live_share(self, live: dict[str, tuple[bool, int]], others: dict[str, int]) -> int:
        share = self._true_share(live, others) if tm_share(**live) is not None else None
        if share is None:
            raise RoutingError(f"{self.label}: both {self.members} {', '.join(self.names.values())} are disabled")
        return share

    def problems(self, percents: list[int]) -> list[str]:
        live, others = self._read()
        return [p for p in (self._refusal(live, others, percent) for percent in percents) if p]

    def _refusal(self, live: dict[str, tuple[bool, int]], others: dict[str, int], percent: int) -> str | None:
        # a member only enabled keeps the weight it has (the write sends no weight): count that one
        wanted = {
            role: (on, live[role][1] if weight is None else weight)
            for role, (on, weight) in tm_wanted(percent, live).items()
        }
        achieved = self._true_share(wanted, others)
        if others and achieved != percent:
            named = [f"{name} (weight {weight})" for name, weight in others.items()]
            return foreign_refusal(self.label, f"enabled {self.members}", named, percent, achieved)
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
                raise RoutingError(
                    f"{self.label}: wrote {percent}% but the {self.container} now gives the target "
                    f"{after}%: it was changed meanwhile; the redelivery reads it again"
                )
        return [change for _, _, change in pending]
