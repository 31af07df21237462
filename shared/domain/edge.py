"""What the edge providers change for a share, as data (contract §17): a DNS record set's values, an Azure
Firewall DNAT rule's translated address and the destination addresses of the network rules that follow it.

Used by shared/domain/routing.py (`settings`, `resource`) and by the providers themselves, so that the words
of `promote plan`, of the history and of `promote routing verify` are the same. Pure.
"""

from __future__ import annotations

import ipaddress

from shared.domain.plan import AzureFirewallRouting, DnsRouting, FirewallRuleRef, PrivateDnsRouting

Record = DnsRouting | PrivateDnsRouting


def kind_and_name(routing: Record | AzureFirewallRouting) -> tuple[str, str]:
    if isinstance(routing, AzureFirewallRouting):
        return "firewall policy", routing.policy_name
    return ("private DNS zone" if isinstance(routing, PrivateDnsRouting) else "DNS zone"), routing.zone_name


# -- DNS record sets ---------------------------------------------------------------------------------
def record_property(routing: Record) -> str:
    """The record set's values as Resource Manager names them (one CNAME, or a list of addresses)."""
    return f"{routing.type}/{routing.record}: " + ("cname" if routing.type == "CNAME" else "records")


def ttl_property(routing: Record) -> str:
    return f"{routing.type}/{routing.record}: TTL"


def record_value(values: list[str]) -> str:
    return ", ".join(values) if values else "(none)"


def same_values(live: list[str], wanted: list[str]) -> bool:
    """DNS compares names without case and without the root's trailing dot, addresses as addresses (an IPv6
    address has many spellings: the plan's `2001:0db8::0001` is the `2001:db8::1` Azure may answer with)."""
    return sorted(map(_canonical, live)) == sorted(map(_canonical, wanted))


def _canonical(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value.lower().rstrip(".")


def record_share(routing: Record, live: list[str]) -> int | None:
    """100 for the target values, 0 for the source values, None for anything else (someone else's values)."""
    if same_values(live, routing.target):
        return 100
    if same_values(live, routing.source):
        return 0
    return None


def dns_settings(routing: Record, percent: int) -> dict[str, str]:
    return {record_property(routing): record_value(routing.target if percent >= 100 else routing.source)}


# -- Azure Firewall ----------------------------------------------------------------------------------
def nat_property(routing: AzureFirewallRouting) -> str:
    return (
        f"ruleCollectionGroups/{routing.rule_collection_group}/{routing.rule_collection}/{routing.rule}: "
        "translatedAddress"
    )


def network_property(routing: AzureFirewallRouting, ref: FirewallRuleRef) -> str:
    return (
        f"ruleCollectionGroups/{routing.rule_collection_group}/{ref.rule_collection}/{ref.rule}: destinationAddresses"
    )


def destinations_value(routing: AzureFirewallRouting, addresses: list[str]) -> str:
    """A network rule's destination addresses: the plan's address among them, then the others as they are."""
    ours = [a for a in (routing.source, routing.target) if a in addresses]
    others = [a for a in addresses if a not in (routing.source, routing.target)]
    return (", ".join(ours) or "(neither address of the plan)") + (
        f" + not in the plan: {', '.join(others)}" if others else ""
    )


def firewall_settings(routing: AzureFirewallRouting, percent: int) -> dict[str, str]:
    address = routing.target if percent >= 100 else routing.source
    out = {nat_property(routing): address}
    for ref in routing.network_rules:
        out[network_property(routing, ref)] = destinations_value(routing, [address])
    return out


def switched_destinations(routing: AzureFirewallRouting, addresses: list[str], percent: int) -> list[str]:
    """A network rule's destination addresses with the plan's other address replaced by the wanted one, in
    place (order kept, the others untouched)."""
    wanted, other = (routing.target, routing.source) if percent >= 100 else (routing.source, routing.target)
    out: list[str] = []
    for address in addresses:
        replacement = wanted if address == other else address
        if replacement not in out:
            out.append(replacement)
    return out
