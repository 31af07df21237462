"""revoke_access: the migration team's deny rule on a network security group (idempotent).

Inbound, Deny, from the plan's source prefixes, any port and protocol, at the plan's priority. The rule is
read first through the securityRules sub-resource and written only when it is missing or differs; the
group's other rules are not touched. Azure refuses a rule whose priority and direction another rule of the
group already holds, so the group's rules are checked first and the clash is named before anything is
written. The write is guarded: If-Match with the rule's ETag, or If-None-Match: * when it is absent.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change, azure_resource, deny_rule_text, rule_text

NEEDS = (
    "Microsoft.Network/networkSecurityGroups/read and Microsoft.Network/networkSecurityGroups/securityRules/read "
    "and /write on the network security group"
)
_COMPARED = (
    "access",
    "direction",
    "protocol",
    "priority",
    "source_port_range",
    "destination_port_range",
    "destination_address_prefix",
)


class SecurityGroupRevoker:
    def __init__(self, config: RevokeAccess, client: Any):
        self.config, self.client = config, client
        subscription, resource_group, group = _where(config)
        self.resource = azure_resource("network security group", group, resource_group, subscription)
        self.what = f"security rule {config.rule} of {self.resource}"

    def _wanted(self, release: str, config: RevokeAccess) -> Any:
        from azure.mgmt.network.models import SecurityRule

        return SecurityRule(
            name=config.rule,
            access="Deny",
            direction="Inbound",
            protocol="*",
            priority=config.priority,
            source_port_range="*",
            destination_port_range="*",
            source_address_prefixes=list(config.source_prefixes),
            destination_address_prefix="*",
            description=f"promote: the migration team's access, revoked at promotion of {release}",
        )

    def _live(self, config: RevokeAccess) -> Any | None:
        from azure.core.exceptions import ResourceNotFoundError

        with _arm.arm_errors(self.what, NEEDS):
            try:
                return self.client.security_rules.get(config.resource_group, config.network_security_group, config.rule)
            except ResourceNotFoundError:
                return None  # the rule is missing (or the group: the PUT below then says so)

    def problems(self, release: str, config: RevokeAccess) -> list[str]:
        """A rule of the group (other than promote's own) that holds the priority in the inbound direction."""
        with _arm.arm_errors(self.resource, NEEDS):
            group = self.client.network_security_groups.get(config.resource_group, config.network_security_group)
        clashes = [
            r.name
            for r in group.security_rules or []
            if (r.name or "").lower() != config.rule.lower()
            and r.priority == config.priority
            and _arm.text(r.direction).lower() == "inbound"
        ]
        return (
            [
                f"{self.resource}: revoke_access.priority {config.priority} is already held by inbound rule "
                f"{', '.join(clashes)}; Azure refuses two rules with the same priority and direction, so choose "
                "a free priority"
            ]
            if clashes
            else []
        )

    def revoke(self, release: str, config: RevokeAccess) -> list[Change]:
        """Ensure the deny rule; return the change made ([] when an identical rule was there)."""
        return _arm.guarded(lambda: self._attempt(release, config))

    def _attempt(self, release: str, config: RevokeAccess) -> list[Change]:
        live, wanted = self._live(config), self._wanted(release, config)
        if live is not None and _same(live, wanted):
            return []
        clash = self.problems(release, config)
        if clash:
            raise RoutingError(clash[0])
        before = (
            "absent"
            if live is None
            else rule_text(
                _arm.text(live.access),
                _arm.text(live.direction),
                sorted(_prefixes(live)),
                _arm.text(live.protocol),
                _arm.text(live.destination_port_range),
                live.priority,
            )
        )
        changes = [Change(self.resource, f"securityRules/{config.rule}", before, deny_rule_text(config))]
        with _arm.arm_errors(self.what, NEEDS):
            _arm.wait(
                self.client.security_rules.begin_create_or_update(
                    config.resource_group,
                    config.network_security_group,
                    config.rule,
                    wanted,
                    **_arm.if_match(live.etag if live is not None else None),
                )
            )
        return changes


def _prefixes(rule: Any) -> set[str]:
    single = {rule.source_address_prefix} if rule.source_address_prefix else set()
    return set(rule.source_address_prefixes or []) | single


def _same(live: Any, wanted: Any) -> bool:
    return _prefixes(live) == _prefixes(wanted) and all(
        _arm.text(getattr(live, f)).lower() == _arm.text(getattr(wanted, f)).lower() for f in _COMPARED
    )


def _where(config: RevokeAccess) -> tuple[str, str, str]:
    """(subscription, resource group, group): optional in the model, which requires them for this provider."""
    if not (config.subscription and config.resource_group and config.network_security_group):
        raise RoutingError(
            "revoke_access: network-security-group needs subscription, resource_group and network_security_group"
        )
    return config.subscription, config.resource_group, config.network_security_group


def build_revoker(config: RevokeAccess, settings: ArmSettings) -> SecurityGroupRevoker:
    from azure.mgmt.network import NetworkManagementClient

    return SecurityGroupRevoker(config, _arm.client(NetworkManagementClient, settings, _where(config)[0]))
