"""`promote plan --live`'s notes (shared/adapters/routing live_notes), against the local Resource Manager:
every workload of the plan's document gets `notes`, a local one none (nothing to read), one whose provider
has nothing to note none, and the ones after those their provider's notes."""

from __future__ import annotations

from shared.adapters.routing import live_notes
from shared.domain.plan import validate_plan
from tests.routing import arm_resources as R
from tests.routing.test_routing_edge import _seed_record

ZONE = "private DNS zone corp.contoso.com in rg-payroll-net (subscription 00000000-0000-0000-0000-0000000000a1)"


def test_each_workload_gets_its_providers_notes(arm, settings_arm):
    _seed_record(arm, "private-dns", ttl=3600)
    plan = validate_plan(
        {
            "release": "wave-1",
            "model": "single-step",
            "workloads": [
                {"name": "web", "assets": ["vm-1"], "routing": {"provider": "local"}},
                {"name": "payroll", "assets": ["vm-2"], "routing": R.routing("route-table")},
                {"name": "api", "assets": ["vm-3"], "routing": R.routing("private-dns")},
            ],
        }
    )
    doc: dict = {"workloads": [{"name": "web"}, {"name": "payroll"}, {"name": "api"}]}
    live_notes(doc, plan, settings_arm)
    assert doc == {
        "workloads": [
            {"name": "web", "notes": []},
            {"name": "payroll", "notes": []},
            {"name": "api", "notes": [
                f"A record set payroll of {ZONE}: TTL 3600s: resolvers that asked before the switch keep the old value "
                "up to 3600s after it (set lower_ttl_to to lower it at apply)"
            ]},
        ]
    }  # fmt: skip
