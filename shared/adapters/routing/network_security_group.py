"""revoke_access: the migration team's deny rule on a network security group (idempotent).

Inbound, Deny, from the plan's source prefixes, any port and protocol, at the plan's priority. The rule is
read first through the securityRules sub-resource and written only when it is missing or differs; the
group's other rules are not touched. The write is guarded: If-Match with the rule's ETag, or If-None-Match: *
when it is absent.

Azure evaluates inbound rules by priority, lowest number first, and the first rule whose source, port and
protocol match decides. So before anything is written (and before a rule already in place counts as
revoked) the group's rules are read and the revocation is refused, naming the rule, when:
- another inbound rule holds the plan's priority (Azure refuses two rules with one priority and direction);
- an inbound Allow with a lower number covers some of the team's prefixes (shared/domain/nsg.py): for the
  ports it allows, that Allow wins and the team still gets in. The refusal names a priority that would win.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain.errors import RoutingError
from shared.domain.nsg import Rule, earlier_allows
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

    def _group(self, config: RevokeAccess) -> Any:
        with _arm.arm_errors(self.resource, NEEDS):
            return self.client.network_security_groups.get(config.resource_group, config.network_security_group)

    def problems(self, release: str, config: RevokeAccess) -> list[str]:
        """A rule of the group (other than promote's own) that holds the priority in the inbound direction, and
        every earlier inbound Allow that lets the team in."""
        return self._problems(self._group(config), config)

    def _problems(self, group: Any, config: RevokeAccess) -> list[str]:
        rules = [_rule(r) for r in group.security_rules or [] if (r.name or "").lower() != config.rule.lower()]
        allows = [f"{self.resource}: {why}" for why in earlier_allows(rules, config)]
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
        ) + allows

    def revoke(self, release: str, config: RevokeAccess) -> list[Change]:
        """Ensure the deny rule; return the change made ([] when an identical rule was there)."""
        return _arm.guarded(lambda: self._attempt(release, config))

    def _attempt(self, release: str, config: RevokeAccess) -> list[Change]:
        group = self._group(config)  # one read: its rules, promote's own among them (with its ETag)
        refused = self._problems(group, config)  # before "in place" too: an Allow added since lets them in again
        if refused:
            raise RoutingError("; ".join(refused))
        live = next((r for r in group.security_rules or [] if (r.name or "").lower() == config.rule.lower()), None)
        wanted = self._wanted(release, config)
        if live is not None and _same(live, wanted):
            return []
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


def _rule(rule: Any) -> Rule:
    """An SDK security rule as the pure evaluation reads it."""

    def both(one: Any, many: Any) -> tuple[str, ...]:
        return tuple([one] if one else []) + tuple(many or [])

    return Rule(
        name=rule.name or "?",
        access=_arm.text(rule.access),
        direction=_arm.text(rule.direction),
        priority=rule.priority or 0,
        protocol=_arm.text(rule.protocol) or "*",
        sources=both(rule.source_address_prefix, rule.source_address_prefixes)
        + tuple(
            f"application security group {g.id.rsplit('/', 1)[-1]}"
            for g in rule.source_application_security_groups or []
            if g.id
        ),
        ports=both(rule.destination_port_range, rule.destination_port_ranges) or ("*",),
    )


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
