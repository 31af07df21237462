"""azure-firewall: the translated address of one DNAT rule of an Azure Firewall policy's rule collection
group, and the destination addresses of the network rules that follow it (0 or 100).

0% translates to the source address, 100% to the target address; each network rule of `network_rules` has
the one address in its destinationAddresses in the same way (the plan's other address replaced in place,
the rule's other addresses kept). All of them are in one rule collection group: one PUT changes them at
once. A PUT replaces the whole group, so the group is read, changed and PUT back as read (the SDK keeps
every property, even ones it does not know), guarded by the group's ETag (If-Match; a group changed in
between is read and merged again).

Azure updates a firewall policy one operation at a time, and an update takes minutes (it reaches every
firewall that uses the policy): while the policy is Updating promote waits before writing, and a write
answered 409 AnotherOperationInProgress (or 429 RetryableErrorDueToAnotherOperation) is waited out and tried
again, for a bounded time (`_arm.while_busy`), not failed. The PUT is a long-running operation promote
follows to its end (Azure-AsyncOperation).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain import edge
from shared.domain.errors import RoutingError
from shared.domain.plan import AzureFirewallRouting
from shared.domain.routing import Change, resource

NEEDS = (
    "Microsoft.Network/firewallPolicies/read and Microsoft.Network/firewallPolicies/ruleCollectionGroups/read "
    "and /write on the firewall policy"
)
_IN_FLIGHT = ("updating", "creating", "deleting")


class FirewallRouter:
    def __init__(self, routing: AzureFirewallRouting, client: Any, sleep: Callable[[float], None] = time.sleep):
        self.routing, self.client, self.sleep = routing, client, sleep
        self.resource = resource(routing)
        self.what = f"rule collection group {routing.rule_collection_group} of {self.resource}"

    def describe(self) -> str:
        return self.what

    def _group(self) -> Any:
        r = self.routing
        with _arm.arm_errors(self.what, NEEDS):
            return self.client.firewall_policy_rule_collection_groups.get(
                r.resource_group, r.policy_name, r.rule_collection_group
            )

    def _rule(self, group: Any, collection: str, rule: str, kind: str) -> Any:
        found = next((c for c in group.rule_collections or [] if (c.name or "").lower() == collection.lower()), None)
        if found is None:
            raise RoutingError(f"{self.what}: has no rule collection {collection!r}")
        match = next((x for x in found.rules or [] if (x.name or "").lower() == rule.lower()), None)
        if match is None or _arm.text(match.rule_type) != kind:
            raise RoutingError(f"{self.what}: rule collection {collection!r} has no {kind} {rule!r}")
        return match

    def _nat(self, group: Any) -> Any:
        return self._rule(group, self.routing.rule_collection, self.routing.rule, "NatRule")

    def _networks(self, group: Any) -> list[tuple[Any, Any]]:
        return [
            (ref, self._rule(group, ref.rule_collection, ref.rule, "NetworkRule")) for ref in self.routing.network_rules
        ]

    # -- the share ----------------------------------------------------------------------------------
    def _share(self, group: Any) -> int:
        r = self.routing
        address = self._nat(group).translated_address
        if address not in (r.source, r.target):
            raise RoutingError(
                f"{self.what}: rule {r.rule} translates to {address or 'no address'}, neither the source "
                f"{r.source} nor the target {r.target}"
            )
        share = 100 if address == r.target else 0
        for ref, rule in self._networks(group):
            wanted = r.target if share else r.source
            if wanted not in (rule.destination_addresses or []):
                raise RoutingError(
                    f"{self.what}: rule {r.rule} translates to {address} but network rule {ref.rule} of "
                    f"{ref.rule_collection} has destination addresses "
                    f"{', '.join(rule.destination_addresses or []) or '(none)'}: changed by someone else"
                )
        return share

    def read(self) -> int:
        return self._share(self._group())

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._group(), percent)

    def _diff(self, group: Any, percent: int) -> list[Change]:
        r, out = self.routing, []
        wanted = r.target if percent >= 100 else r.source
        before = self._nat(group).translated_address or "(none)"
        if before != wanted:
            out.append(Change(self.resource, edge.nat_property(r), before, wanted))
        for ref, rule in self._networks(group):
            live = list(rule.destination_addresses or [])
            if r.source not in live and r.target not in live:
                raise RoutingError(
                    f"{self.what}: network rule {ref.rule} of {ref.rule_collection} names neither {r.source} nor "
                    f"{r.target} in its destination addresses ({', '.join(live) or 'none'})"
                )
            after = edge.switched_destinations(r, live, percent)
            if after != live:
                prop = edge.network_property(r, ref)
                out.append(
                    Change(self.resource, prop, edge.destinations_value(r, live), edge.destinations_value(r, after))
                )
        return out

    def problems(self, percents: list[int]) -> list[str]:
        return [f"{self.what}: a DNAT rule realises 0% or 100%, not {p}%" for p in percents if p not in (0, 100)]

    def apply(self, percent: int) -> list[Change]:
        if percent not in (0, 100):
            raise RoutingError(f"{self.what}: a DNAT rule realises 0% or 100%, not {percent}%")
        return _arm.while_busy(lambda: _arm.guarded(lambda: self._attempt(percent)), sleep=self.sleep)

    def _attempt(self, percent: int) -> list[Change]:
        self._idle()
        group = self._group()
        changes = self._diff(group, percent)
        if not changes:
            return []
        r = self.routing
        self._nat(group).translated_address = r.target if percent >= 100 else r.source
        for _, rule in self._networks(group):
            rule.destination_addresses = edge.switched_destinations(r, list(rule.destination_addresses or []), percent)
        with _arm.arm_errors(self.what, NEEDS):
            _arm.wait(
                self.client.firewall_policy_rule_collection_groups.begin_create_or_update(
                    r.resource_group, r.policy_name, r.rule_collection_group, group, **_arm.if_match(group.etag)
                )
            )
        return changes

    def _idle(self) -> None:
        """A policy being updated accepts no other write: wait for it (as Busy, so that while_busy waits)."""
        r = self.routing
        with _arm.arm_errors(self.resource, NEEDS):
            policy = self.client.firewall_policies.get(r.resource_group, r.policy_name)
        state = _arm.text(policy.provisioning_state)
        if state.lower() in _IN_FLIGHT:
            raise _arm.Busy(f"{self.resource}: provisioning state {state}: an operation on it is in progress")


def build(routing: AzureFirewallRouting, settings: ArmSettings) -> FirewallRouter:
    from azure.mgmt.network import NetworkManagementClient

    client = _arm.client(NetworkManagementClient, settings, routing.subscription)
    return FirewallRouter(routing, client, getattr(settings, "arm_sleep", None) or time.sleep)
