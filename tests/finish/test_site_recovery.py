"""The migration tool's adapter: the real Site Recovery SDK client against the local Resource Manager, and the
events it publishes driving a release through the service (fakes for the rest)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shared.adapters.site_recovery import SiteRecoveryReader
from shared.application.replication import poll
from shared.domain.errors import RoutingError
from shared.domain.plan import validate_plan
from tests.fakes import T0, world
from tests.finish.fake_azure import protected_item

SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-migrate/providers/Microsoft.RecoveryServices/vaults/vault-migrate"


def release_plan():
    return validate_plan(
        {
            "release": "wave-1",
            "model": "single-step",
            "approvers": ["ana@contoso.com"],
            "replication": {"subscription": SUB, "resource_group": "rg-migrate", "vault": "vault-migrate"},
            "workloads": [
                {
                    "name": "payroll",
                    "assets": ["vm-payroll-web-01", "vm-payroll-db-01"],
                    "data_sync": {"max_lag": "60s", "max_age": "10m"},
                },
                {"name": "crm", "assets": ["vm-crm-01"]},
            ],
        }
    )


def test_items_are_read_with_the_real_client_across_pages(azure, azure_settings):
    azure.add_vault(
        VAULT,
        [
            protected_item("i1", "vm-payroll-web-01", rpo=12),
            protected_item("i2", "vm-payroll-db-01", kind="InMageRcm", rpo=40),
            protected_item("i3", "vm-crm-01", state="InitialReplicationInProgress", rpo=None),
        ],
    )
    items = SiteRecoveryReader(azure_settings).items(release_plan().replication)
    assert [(i.friendly_name, i.replicated, i.rpo_seconds) for i in items] == [
        ("vm-payroll-web-01", True, 12.0),
        ("vm-payroll-db-01", True, 40.0),
        ("vm-crm-01", False, None),
    ]
    assert items[0].rpo_at == T0
    lists = [c for c in azure.log if c.path.endswith("/replicationProtectedItems")]
    assert len(lists) == 2 and all(c.method == "GET" for c in azure.log)  # two pages, nothing written


def test_a_vault_that_cannot_be_read_fails_naming_it(azure, azure_settings):
    with pytest.raises(RoutingError, match="vault-migrate: not found"):
        SiteRecoveryReader(azure_settings).items(release_plan().replication)


def test_a_team_using_site_recovery_sends_nothing_by_hand(azure, azure_settings):
    w = world()
    w.service.apply(release_plan())
    azure.add_vault(
        VAULT,
        [
            protected_item("i1", "vm-payroll-web-01", rpo=12),
            protected_item("i2", "vm-payroll-db-01", rpo=30, health="Critical"),
            protected_item("i3", "vm-crm-01", rpo=5),
        ],
    )
    reader = SiteRecoveryReader(azure_settings).items
    publish = lambda e: w.service.handle(json.dumps(e))  # noqa: E731
    first = poll(w.store, reader, publish, w.clock.now())
    assert sorted(e["type"] for e in first.published) == [
        "asset-replicated",
        "asset-replicated",
        "replication-lag",
        "replication-lag",
    ]
    release = w.store.get_release("wave-1").release
    payroll = release.workloads["payroll"]
    assert payroll.assets == {"vm-payroll-web-01": True, "vm-payroll-db-01": False}  # db not healthy yet
    assert (payroll.lag_seconds, payroll.lag_at) == (30.0, T0)  # the worst RPO of the workload's items
    assert release.workloads["crm"].state == "testing"
    again = poll(w.store, reader, publish, w.clock.now())
    assert again.published == []  # nothing new: nothing sent
    azure.vaults[VAULT.lower()][1]["properties"]["replicationHealth"] = "Normal"
    for item in azure.vaults[VAULT.lower()]:
        item["properties"]["providerSpecificDetails"]["lastRpoCalculatedTime"] = "2026-11-26T22:05:00Z"
    w.clock.advance(300)
    third = poll(w.store, reader, publish, w.clock.now())
    assert [e["type"] for e in third.published] == ["asset-replicated", "replication-lag", "replication-lag"]
    payroll = w.store.get_release("wave-1").release.workloads["payroll"]
    assert payroll.state == "testing" and payroll.lag_at == T0 + timedelta(minutes=5)


def test_a_lag_is_not_reported_while_an_asset_has_no_item():
    from shared.adapters.site_recovery import ItemState
    from shared.application.replication import events_for
    from shared.domain.model import new_release

    release = new_release(release_plan())
    item = ItemState("i1", "vm-payroll-web-01", True, "Protected", "Normal", 3.0, T0)
    events = events_for(release, [item], T0)
    assert [(e["type"], e["data"]["workload"]) for e in events] == [("asset-replicated", "payroll")]
