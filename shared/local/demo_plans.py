"""The demo's releases (`promote demo`): one plan per story, and the Azure plan whose network changes it shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.model import WorkloadState
from shared.domain.times import iso_s

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
SYNC = {"max_lag": "10s", "max_age": "5m"}  # the staged release's data platforms must be in sync to move


def plans_for(stamp: str) -> dict[str, dict]:
    people = {"approvers": [APPROVER], "operators": [OPERATOR]}
    return {
        "single-step": {
            "release": f"demo-{stamp}-single",
            "model": "single-step",
            **people,
            "hypercare": "3s",
            "decommission": {"approval": "manual", "provider": "local"},
            "workloads": [{"name": "payroll", "assets": ["vm-payroll-web-01", "vm-payroll-db-01"]}],
        },
        "staged": {
            "release": f"demo-{stamp}-staged",
            "model": "staged",
            **people,
            "revoke_access": {"provider": "local", "source_prefixes": ["10.50.0.0/24"]},
            "workloads": [
                {"name": "crm", "assets": ["vm-crm-app-01", "sql-crm-01"], "data_sync": SYNC},
                {"name": "billing", "assets": ["vm-billing-01"], "data_sync": SYNC},
            ],
        },
        "flight": {
            "release": f"demo-{stamp}-flight",
            "model": "flight",
            **people,
            "flights": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "1s"}, {"percent": 100, "bake": "0s"}],
            "workloads": [{"name": "web-shop", "assets": ["vm-shop-web-01", "vm-shop-web-02"]}],
        },
        # time and order: wave-b waits for wave-a (`after`) and for a change window (its freeze ends a few
        # seconds after it is applied: see closed_for)
        "after": {
            "release": f"demo-{stamp}-wave-a",
            "model": "single-step",
            **people,
            "workloads": [{"name": "hr", "assets": ["vm-hr-01"]}],
        },
        "window": {
            "release": f"demo-{stamp}-wave-b",
            "model": "single-step",
            **people,
            "after": [f"demo-{stamp}-wave-a"],
            "workloads": [{"name": "intranet", "assets": ["vm-intranet-01"]}],
        },
        "judged": {
            "release": f"demo-{stamp}-judged",
            "model": "flight",
            **people,
            "flights": [{"percent": 20, "bake": "1s"}, {"percent": 100, "bake": "0s"}],
            "health": {
                "interval": "1s",
                "failure_limit": 2,
                "inconclusive_limit": 3,
                "checks": [{"name": "error-rate", "provider": "local", "max": 1.0, "min_samples": 50}],
            },
            "workloads": [
                {"name": "catalog", "assets": ["vm-catalog-01"]},
                {"name": "checkout", "assets": ["vm-checkout-01"]},
            ],
        },
    }


def closed_for(seconds: int) -> dict:
    """A change window that is closed now (a freeze) and opens `seconds` from now."""
    now = datetime.now(UTC)
    return {
        "timezone": "UTC",
        "deny": [
            {
                "from": iso_s(now - timedelta(hours=1)),
                "to": iso_s(now + timedelta(seconds=seconds)),
                "reason": "demo change freeze",
            }
        ],
    }


# what each release ends as: the judged release rolls its failing workload back on purpose
EXPECTED = {"judged": {"catalog": WorkloadState.PROMOTED, "checkout": WorkloadState.ROLLED_BACK}}


# Azure routing, shown before anything happens (`promote plan`): Front Door and gateway flights
AZURE_EXAMPLE = {
    "release": "azure-example",
    "model": "flight",
    "flights": [{"percent": 10, "bake": "30m"}, {"percent": 50, "bake": "2h"}, {"percent": 100, "bake": "0s"}],
    "workloads": [
        {
            "name": "web-shop",
            "assets": ["vm-shop-web-01"],
            "routing": {
                "provider": "front-door",
                "subscription": "00000000-0000-0000-0000-000000000000",
                "resource_group": "rg-edge",
                "profile": "afd-contoso",
                "origin_group": "og-shop",
                "source_origin": "shop-onprem",
                "target_origin": "shop-azure",
            },
        },
        {
            "name": "portal",
            "assets": ["vm-portal-01"],
            "routing": {
                "provider": "application-gateway",
                "subscription": "00000000-0000-0000-0000-000000000000",
                "resource_group": "rg-portal-net",
                "application_gateway": "agw-portal",
                "rule": "rule-portal",
                "source_pool": "pool-onprem",
                "target_pool": "pool-azure",
                "flight_pool": "pool-flight",
                "source_addresses": [
                    "192.168.10.4",
                    "192.168.10.5",
                    "portal1.onprem.contoso.com",
                    "portal2.onprem.contoso.com",
                ],
                "target_addresses": ["10.1.1.4", "10.1.1.5", "portal.azure.contoso.com", "10.1.1.6"],
            },
        },
    ],
}


# A single-step cutover by a private DNS zone (contract §17): promote plan shows the TTL choreography (lowered at
# apply, waited out before the switch, restored at finalize) and the record's values at each step.
DNS_EXAMPLE = {
    "release": "dns-example",
    "model": "single-step",
    "approvers": ["ana@contoso.com"],
    "workloads": [
        {
            "name": "payroll",
            "assets": ["vm-payroll-01"],
            "routing": {
                "provider": "private-dns",
                "zone": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/"
                "Microsoft.Network/privateDnsZones/corp.contoso.com",
                "record": "payroll",
                "type": "A",
                "source": ["10.1.0.4"],
                "target": ["10.20.0.4"],
                "lower_ttl_to": 60,
            },
        }
    ],
}
