"""How a network security group decides for the migration team (shared/domain/nsg.py): which sources may hold
the team's addresses, and the exact words `promote` uses for each inbound Allow that would beat its deny."""

from __future__ import annotations

from shared.domain.nsg import Rule, covers, earlier_allows
from shared.domain.plan import RevokeAccess

TEAM = ["10.50.0.0/24"]
VNET = "VirtualNetwork includes the address spaces of peered and connected networks, on-premises ones included"


def _config(priority: int = 300, prefixes: list[str] | None = None) -> RevokeAccess:
    return RevokeAccess(provider="local", priority=priority, source_prefixes=prefixes or TEAM)


def _allow(name: str, priority: int, protocol: str, sources: tuple[str, ...], ports: tuple[str, ...]) -> Rule:
    return Rule(name, "Allow", "Inbound", priority, protocol, sources, ports)


def _said(rule: str, priority: int, source: str, what: str, why: str = "", advice: str = "") -> str:
    return (
        f"inbound rule {rule} (Allow, priority {priority}, from {source}, {what}) is evaluated before promote's "
        f"deny at priority 300 and lets the migration team (10.50.0.0/24) in{why}; "
        f"{advice or 'choose a priority below 150 (e.g. 149)'}, or narrow that rule"
    )


def test_each_earlier_allow_is_named_with_its_protocol_and_ports():
    rules = [
        _allow("allow-web", 260, "Udp", ("VirtualNetwork",), ("*",)),
        _allow("allow-ssh", 250, "Tcp", ("10.50.0.7",), ("22", "2222")),
        _allow("allow-https", 200, "*", ("10.50.0.0/16",), ("443",)),
        _allow("allow-any", 150, "*", ("*",), ("*",)),
        # not counted: outbound, a deny, evaluated after the deny, or sources that cannot hold the team
        Rule("out-any", "Allow", "Outbound", 120, "*", ("*",), ("*",)),
        Rule("deny-some", "Deny", "Inbound", 130, "*", ("10.50.0.0/24",), ("*",)),
        _allow("allow-late", 300, "*", ("*",), ("*",)),
        _allow("allow-storage", 140, "*", ("Storage", "asg-web"), ("*",)),
        _allow("allow-other", 145, "Tcp", ("10.60.0.0/24",), ("80",)),
        _allow("allow-internet", 146, "Tcp", ("Internet",), ("80",)),
    ]
    assert earlier_allows(rules, _config()) == [
        _said("allow-any", 150, "*", "any protocol and port"),
        _said("allow-https", 200, "10.50.0.0/16", "any protocol port 443"),
        _said("allow-ssh", 250, "10.50.0.7", "Tcp port 22, 2222"),
        _said("allow-web", 260, "VirtualNetwork", "Udp any port", why=f"; {VNET}"),
    ]


def test_a_rule_with_several_sources_gives_the_reason_of_the_one_that_has_one():
    rules = [_allow("allow-mixed", 150, "Tcp", ("10.50.0.0/25", "VirtualNetwork"), ("*",))]
    assert earlier_allows(rules, _config()) == [
        _said("allow-mixed", 150, "10.50.0.0/25, VirtualNetwork", "Tcp any port", why=f"; {VNET}")
    ]


def test_the_advice_skips_taken_priorities_and_says_when_none_is_free():
    rules = [_allow("allow-any", 150, "*", ("*",), ("*",)), Rule("d", "Deny", "Inbound", 149, "*", ("x",), ("*",))]
    assert earlier_allows(rules, _config()) == [
        _said("allow-any", 150, "*", "any protocol and port", advice="choose a priority below 150 (e.g. 148)")
    ]
    assert earlier_allows([_allow("allow-any", 100, "*", ("*",), ("*",))], _config()) == [
        _said("allow-any", 100, "*", "any protocol and port", advice="no priority below 100 is free")
    ]


def test_nothing_earlier_that_holds_the_team_lets_the_deny_decide():
    rules = [_allow("allow-other", 150, "Tcp", ("10.60.0.0/24",), ("80",)), _allow("late", 300, "*", ("*",), ("*",))]
    assert earlier_allows(rules, _config()) == []


def test_internet_holds_a_team_with_public_addresses_only():
    assert covers("Internet", ["20.1.2.0/24"]) == ""
    assert covers("internet", ["10.50.0.0/24", "20.1.2.0/24"]) == ""
    assert covers("Internet", ["10.50.0.0/24"]) is None
    assert covers("Internet", ["192.168.1.0/24", "172.16.0.0/12"]) is None


def test_prefixes_with_host_bits_are_read_as_their_networks():
    assert covers("10.50.0.0/24", ["10.50.0.9/24"]) == ""
    assert covers("10.50.0.9/16", ["10.50.0.0/24"]) == ""
    assert covers("10.50.1.9/24", ["10.50.0.0/24"]) is None


def test_sources_that_hold_any_address_or_none_of_the_team():
    assert [covers(s, TEAM) for s in ("*", "Any", "0.0.0.0/0", "::/0")] == ["", "", "", ""]
    assert covers("VIRTUALNETWORK", TEAM) == VNET
    assert [covers(s, TEAM) for s in ("Storage", "asg-web", "fd00::/8", "10.51.0.0/16")] == [None] * 4
