"""Review: a record set's values compared as DNS compares them (shared/domain/edge.py)."""

from shared.domain import edge
from shared.domain.plan import validate_plan
from tests.unit.test_machine import make_plan

ZONE = (
    "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg/providers/Microsoft.Network/dnsZones/c.com"
)


def _aaaa():
    plan = make_plan("single-step")
    plan["workloads"] = [
        {"name": "w1", "assets": ["a"], "routing": {"provider": "dns", "zone": ZONE, "record": "app", "type": "AAAA",
                                                    "source": ["2001:0DB8::0001"], "target": ["2001:db8:0:0:0:0:0:2"]}}
    ]  # fmt: skip
    return validate_plan(plan).routing_of("w1")


def test_an_ipv6_address_spelled_otherwise_by_azure_is_the_plans_value():
    routing = _aaaa()
    assert edge.record_share(routing, ["2001:db8::1"]) == 0  # was None: "neither the source nor the target"
    assert edge.record_share(routing, ["2001:db8::2"]) == 100
    assert edge.record_share(routing, ["2001:db8::3"]) is None
    assert edge.same_values(["Payroll.Contoso.com."], ["payroll.contoso.com"])
