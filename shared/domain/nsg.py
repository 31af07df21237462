"""How a network security group decides for the migration team's traffic, pure (issue 25: revocations that
are true). Azure evaluates inbound rules by priority, lowest number first; the first rule whose source,
destination port and protocol match the traffic decides, Allow or Deny. promote's deny covers the team's
prefixes, every port and protocol: an inbound Allow with a lower number whose source covers any of the team's
addresses wins for the ports it allows, so the team still gets in there.

Sources are prefixes (CIDR or address), `*`/`Any`, service tags or application security groups. A tag's
addresses are not in the group: `VirtualNetwork` includes peered and connected address spaces (on-premises
ones included) and may hold the team; `Internet` holds public addresses only; other service tags are Azure
services' ranges and do not hold a team's workstations; application security groups hold network interfaces
of the virtual network, which a team reaching it from outside is not.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from shared.domain.plan import RevokeAccess

MIN_PRIORITY = 100
ANY = ("*", "any", "0.0.0.0/0", "::/0")
MAY_HOLD = {"virtualnetwork": "VirtualNetwork includes the address spaces of peered and connected networks, "
            "on-premises ones included"}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    name: str
    access: str
    direction: str
    priority: int
    protocol: str
    sources: tuple[str, ...]
    ports: tuple[str, ...]


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def covers(source: str, team: list[str]) -> str | None:
    """Whether traffic from the team's prefixes can come from `source`: None if not, else '' or why it may."""
    lower = source.lower()
    if lower in ANY:
        return ""
    if lower in MAY_HOLD:
        return MAY_HOLD[lower]
    teams = [n for n in (_network(t) for t in team) if n is not None]
    if lower == "internet":
        return "" if any(n.is_global for n in teams) else None
    network = _network(source)
    if network is None:  # another service tag, an application security group: not a team outside Azure
        return None
    return "" if any(n.version == network.version and n.overlaps(network) for n in teams) else None


def _what(rule: Rule) -> str:
    ports = ", ".join(rule.ports)
    if rule.protocol == "*" and ports == "*":
        return "any protocol and port"
    protocol = "any protocol" if rule.protocol == "*" else rule.protocol
    return f"{protocol} {'any port' if ports == '*' else ('port ' + ports)}"


def earlier_allows(rules: list[Rule], config: RevokeAccess) -> list[str]:
    """Why a deny at config.priority would not keep the team out: each inbound Allow evaluated before it that
    covers some of their prefixes, with a priority that would win. [] when the deny decides."""
    inbound = [r for r in rules if r.direction.lower() == "inbound"]
    found = []
    for rule in sorted(inbound, key=lambda r: r.priority):
        if rule.access.lower() != "allow" or rule.priority >= config.priority:
            continue
        why = [w for w in (covers(s, config.source_prefixes) for s in rule.sources) if w is not None]
        if why:
            found.append((rule, next((w for w in why if w), "")))
    if not found:
        return []
    first = found[0][0].priority
    taken = {r.priority for r in inbound}
    free = next((p for p in range(first - 1, MIN_PRIORITY - 1, -1) if p not in taken), None)
    advice = f"choose a priority below {first} (e.g. {free})" if free else f"no priority below {first} is free"
    team = ", ".join(config.source_prefixes)
    return [
        f"inbound rule {rule.name} (Allow, priority {rule.priority}, from {', '.join(rule.sources)}, {_what(rule)}) "
        f"is evaluated before promote's deny at priority {config.priority} and lets the migration team ({team}) "
        f"in{'; ' + why if why else ''}; {advice}, or narrow that rule"
        for rule, why in found
    ]
