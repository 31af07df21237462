"""Replication state turned into promote's events (shared/application/replication.py) and Site Recovery's
items read into that state (shared/adapters/site_recovery.py item_state): every event pinned whole, the
rounds' counts and failures, and each item field from the SDK's own models."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from azure.mgmt.recoveryservicessiterecovery import models

from shared.adapters.site_recovery import ItemState, item_state
from shared.application.replication import events_for, poll
from shared.domain.model import ReleaseState, WorkloadState, new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, MemoryStore

SUB = "00000000-0000-0000-0000-000000000000"
SOURCE = {"subscription": SUB, "resource_group": "rg-migrate", "vault": "vault-migrate"}


def plan(name: str = "wave-1", replication: dict | None = SOURCE):
    doc = {
        "release": name,
        "model": "single-step",
        "approvers": ["ana@contoso.com"],
        "workloads": [
            {"name": "payroll", "assets": ["vm-web", "VM-DB"]},
            {"name": "crm", "assets": ["vm-crm"]},
        ],
    }
    if replication is not None:
        doc["replication"] = replication
    return validate_plan(doc)


def item(name, friendly, replicated=True, rpo=None, at=None) -> ItemState:
    return ItemState(name, friendly, replicated, "Protected", "Normal", rpo, at)


def shown(events: list[dict]) -> list[dict]:
    """The events without their trace context (tracing's own tests pin it)."""
    return [{k: v for k, v in e.items() if k != "traceparent"} for e in events]


def event(type_: str, id_: str, data: dict, time: str) -> dict:
    return {
        "specversion": "1.0",
        "id": id_,
        "source": "azure-site-recovery",
        "type": type_,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


def test_replicated_assets_and_the_worst_lag_timed_by_the_oldest_measurement():
    release = new_release(plan())
    items = [
        item("i1", "vm-web", rpo=12.0, at=T0 + timedelta(seconds=30)),
        item("i2", "vm-db", rpo=40.0, at=T0),  # matched case-insensitively (the plan says VM-DB)
        item("i3", "vm-crm", replicated=False, rpo=5.0, at=T0 + timedelta(seconds=5)),
    ]
    now = T0 + timedelta(minutes=1)
    assert shown(events_for(release, items, now)) == [
        event(
            "asset-replicated",
            "asr:wave-1:payroll:vm-web:replicated:0",
            {"release": "wave-1", "workload": "payroll", "asset": "vm-web"},
            "2026-11-26T22:01:00Z",
        ),
        event(
            "asset-replicated",
            "asr:wave-1:payroll:VM-DB:replicated:0",
            {"release": "wave-1", "workload": "payroll", "asset": "VM-DB"},
            "2026-11-26T22:01:00Z",
        ),
        event(
            "replication-lag",
            "asr-lag:wave-1:payroll:1795730400000",
            {"release": "wave-1", "workload": "payroll", "lag_seconds": 40.0},
            "2026-11-26T22:00:00Z",
        ),
        event(
            "replication-lag",
            "asr-lag:wave-1:crm:1795730405000",
            {"release": "wave-1", "workload": "crm", "lag_seconds": 5.0},
            "2026-11-26T22:00:05Z",
        ),
    ]


def test_items_are_found_by_name_or_friendly_name_the_first_one_winning():
    release = new_release(plan())
    items = [
        item("vm-web", "other", replicated=True),  # its name is the asset
        item("x", "vm-crm", replicated=False),
        item("y", "VM-CRM", replicated=True),  # the second item of that name is not looked at
    ]
    assert [e["id"] for e in events_for(release, items, T0)] == ["asr:wave-1:payroll:vm-web:replicated:0"]


def test_an_asset_already_replicated_or_a_workload_done_gets_nothing_and_the_attempt_is_in_the_id():
    release = new_release(plan())
    payroll = replace(release.workloads["payroll"], assets={"vm-web": True, "VM-DB": False}, attempt=2)
    crm = replace(release.workloads["crm"], state=WorkloadState.ABORTED)
    release = replace(release, workloads={"payroll": payroll, "crm": crm})
    items = [item("i1", "vm-web"), item("i2", "vm-db"), item("i3", "vm-crm")]
    assert [e["id"] for e in events_for(release, items, T0)] == ["asr:wave-1:payroll:VM-DB:replicated:2"]
    crm = replace(crm, state=WorkloadState.FINALIZED)
    assert [e["id"] for e in events_for(replace(release, workloads={"crm": crm}), items, T0)] == []


def test_a_lag_needs_every_asset_measured():
    release = new_release(plan())
    only_web = [item("i1", "vm-web", replicated=False, rpo=3.0, at=T0), item("i2", "vm-db", replicated=False)]
    no_time = [item("i1", "vm-web", replicated=False, rpo=3.0, at=T0), item("i2", "vm-db", False, 4.0, None)]
    missing = [item("i1", "vm-web", replicated=False, rpo=3.0, at=T0)]
    for items in (only_web, no_time, missing):
        assert events_for(release, items, T0) == []


def test_a_lag_is_sent_only_when_measured_after_the_one_recorded():
    release = new_release(plan())
    items = [item("i3", "vm-crm", replicated=False, rpo=7.0, at=T0)]
    recorded = replace(release.workloads["crm"], lag_at=T0)
    same = replace(release, workloads={"crm": recorded})
    assert events_for(same, items, T0) == []
    older = replace(release, workloads={"crm": replace(recorded, lag_at=T0 - timedelta(milliseconds=1))})
    assert [e["id"] for e in events_for(older, items, T0)] == ["asr-lag:wave-1:crm:1795730400000"]


def test_a_lag_of_zero_seconds_is_a_measurement():
    release = new_release(plan())
    items = [item("i3", "vm-crm", replicated=False, rpo=0.0, at=T0)]
    assert [e["data"] for e in events_for(release, items, T0)] == [
        {"release": "wave-1", "workload": "crm", "lag_seconds": 0.0}
    ]


def test_a_round_reads_each_replicated_release_once_publishes_in_order_and_reports_a_vault_it_cannot_read():
    store = MemoryStore()  # releases are listed by name: r1 and r2 are passed over, r3 fails, r4 still goes on
    store.create_release(new_release(plan("r1", replication=None)))  # not migrated with Site Recovery
    done = new_release(plan("r2"))
    done = replace(done, workloads={n: replace(w, state=WorkloadState.ABORTED) for n, w in done.workloads.items()})
    assert done.state == ReleaseState.ABORTED
    store.create_release(done)
    store.create_release(new_release(plan("r3", replication={**SOURCE, "vault": "vault-broken"})))
    store.create_release(new_release(plan("r4")))
    assert store.list_releases() == ["r1", "r2", "r3", "r4"]
    read: list[str] = []

    def read_items(source) -> list[ItemState]:
        read.append(source.vault)
        if source.vault == "vault-broken":
            raise RuntimeError("Site Recovery vault vault-broken: access denied (403)")
        return [item("i3", "vm-crm", replicated=True)]

    published: list[dict] = []
    result = poll(store, read_items, published.append, T0)
    assert read == ["vault-broken", "vault-migrate"]
    assert result.releases == 2
    assert result.failures == ["r3: Site Recovery vault vault-broken: access denied (403)"]
    assert [e["id"] for e in published] == ["asr:r4:crm:vm-crm:replicated:0"]
    assert result.published == published


def test_a_round_over_nothing_is_empty():
    result = poll(MemoryStore(), lambda source: [], lambda event: None, T0)
    assert (result.releases, result.published, result.failures) == (0, [], [])


# -- item_state: Site Recovery's protected items, as the SDK deserialises them -----------------------------


def protected(name, friendly, details, state="Protected", health="Normal"):
    return models.ReplicationProtectedItem(
        name=name,
        properties=models.ReplicationProtectedItemProperties(
            friendly_name=friendly, protection_state=state, replication_health=health, provider_specific_details=details
        ),
    )


def test_an_a2a_item_reports_rpo_in_seconds_with_its_time():
    details = models.A2AReplicationDetails(rpo_in_seconds=12, last_rpo_calculated_time=T0)
    assert item_state(protected("i1", "vm-web", details)) == ItemState(
        name="i1",
        friendly_name="vm-web",
        replicated=True,
        protection_state="Protected",
        health="Normal",
        rpo_seconds=12.0,
        rpo_at=T0,
    )


def test_an_appliance_item_reports_its_last_rpo_and_a_naive_time_is_utc():
    details = models.InMageRcmReplicationDetails(last_rpo_in_seconds=40)
    details.last_rpo_calculated_time = datetime(2026, 11, 26, 22, 0)  # naive: UTC (the SDK model makes it so)
    state = item_state(protected("i2", None, details, state="protected", health="NORMAL"))
    assert state == ItemState("i2", "i2", True, "protected", "NORMAL", 40.0, T0)
    assert state.rpo_at is not None and state.rpo_at.tzinfo is not None and isinstance(state.rpo_seconds, float)


@pytest.mark.parametrize(
    ("state", "health"),
    [("InitialReplicationInProgress", "Normal"), ("Protected", "Critical"), ("Protected", "Warning"), (None, None)],
)
def test_an_item_is_replicated_only_when_protected_and_healthy(state, health):
    item = item_state(protected("i3", "vm-crm", None, state=state, health=health))
    assert item == ItemState("i3", "vm-crm", False, state or "", health or "", None, None)


def test_an_item_without_names_is_named_empty():
    assert item_state(protected(None, None, None)).name == ""
    assert item_state(protected(None, None, None)).friendly_name == ""


def test_a_workload_passed_over_or_with_nothing_newer_never_stops_the_next_ones():
    release = new_release(plan())  # payroll comes before crm
    aborted = replace(release.workloads["payroll"], state=WorkloadState.ABORTED)
    items = [item("i3", "vm-crm", replicated=True, rpo=7.0, at=T0)]
    first_done = replace(release, workloads={"payroll": aborted, "crm": release.workloads["crm"]})
    assert [e["id"] for e in events_for(first_done, items, T0)] == [
        "asr:wave-1:crm:vm-crm:replicated:0",
        "asr-lag:wave-1:crm:1795730400000",
    ]
    measured = [*items, item("i1", "vm-web", False, 3.0, T0), item("i2", "vm-db", False, 4.0, T0)]
    payroll = replace(release.workloads["payroll"], lag_at=T0)  # payroll's lag of T0 is recorded already
    first_recorded = replace(release, workloads={"payroll": payroll, "crm": release.workloads["crm"]})
    assert [e["id"] for e in events_for(first_recorded, measured, T0)] == [
        "asr:wave-1:crm:vm-crm:replicated:0",
        "asr-lag:wave-1:crm:1795730400000",
    ]
