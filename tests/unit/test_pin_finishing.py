"""The finishing gates, pure (shared/domain/finishing.py): what holds a workload (data-sync, hypercare,
finalize), in the exact words and JSON status and the board show, at each bound."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shared.domain.finishing import (
    DecommissionTarget,
    Hold,
    data_sync_hold,
    data_synced,
    decommission_of,
    finalize_approval,
    finalize_hold,
    finish_holds,
    hypercare_hold,
    hypercare_until,
    in_hypercare,
    lag_age,
    retry_delay,
)
from shared.domain.model import Op, WorkloadState, new_release
from shared.domain.plan import validate_plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"


def _release(**fields):
    raw = {
        "release": "r1",
        "model": "single-step",
        "approvers": ["ana"],
        "workloads": [
            {"name": "w1", "assets": ["a"], "data_sync": {"max_lag": "5s", "max_age": "2m"}},
            {"name": "w2", "assets": ["b"], "decommission": {"provider": "azure-vm", "source_vms": [VM + "vm2"]}},
        ],
        **fields,
    }
    return new_release(validate_plan(raw), NOW)


def _w(release, name="w1", **fields):
    return dataclasses.replace(release.workloads[name], **fields)


SYNC = {"max_lag_seconds": 5, "max_age_seconds": 120}


def test_the_data_sync_gate_at_its_bounds():
    release = _release()
    none = data_sync_hold(release, _w(release), NOW)
    assert none == Hold(
        "data-sync",
        "data-sync: no replication-lag reported yet",
        {"lag_seconds": None, "reported_at": None, **SYNC},
    )
    assert none.to_json() == {"gate": "data-sync", "lag_seconds": None, "reported_at": None, **SYNC}
    at = NOW - timedelta(seconds=120)
    fresh = _w(release, lag_seconds=5.0, lag_at=at)
    assert data_sync_hold(release, fresh, NOW) is None
    assert data_synced(release, fresh, NOW)
    assert data_sync_hold(release, _w(release, lag_seconds=5.5, lag_at=at), NOW) == Hold(
        "data-sync",
        "data-sync: latest lag 5.5s is above max_lag 5s",
        {"lag_seconds": 5.5, "reported_at": "2026-12-07T08:58:00Z", **SYNC},
    )
    stale = data_sync_hold(release, fresh, NOW + timedelta(seconds=1))
    assert stale.reason == "data-sync: latest lag report is 121s old, older than max_age 120s"
    assert not data_synced(release, fresh, NOW + timedelta(seconds=1))
    assert data_sync_hold(release, _w(release, lag_seconds=None, lag_at=at), NOW).reason == (
        "data-sync: no replication-lag reported yet"
    )
    assert data_sync_hold(release, _w(release, "w2"), NOW) is None  # no data_sync section


def test_lag_age_is_never_negative():
    release = _release()
    assert lag_age(_w(release), NOW) is None
    assert lag_age(_w(release, lag_at=NOW + timedelta(seconds=5)), NOW) == 0.0
    assert lag_age(_w(release, lag_at=NOW - timedelta(seconds=5)), NOW) == 5.0


def test_after_an_azure_migrate_migration_the_data_sync_gate_depends_on_the_attempt():
    vault = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/vault1"
    source = {"provider": "azure-migrate", "vault": vault}
    release = _release(source=source)
    migrated = _w(release, migration=Op.SUCCEEDED)
    assert data_sync_hold(release, migrated, NOW) is None
    retried = _w(release, migration=Op.SUCCEEDED, attempt=1)
    since = "; Azure Migrate's replication ended at the migration, users were back on the source since"
    assert data_sync_hold(release, retried, NOW).reason == "data-sync: no replication-lag reported yet" + since
    old = _w(release, migration=Op.SUCCEEDED, attempt=1, lag_seconds=1.0, lag_at=NOW - timedelta(seconds=200))
    assert data_sync_hold(release, old, NOW).reason == (
        "data-sync: latest lag report is 200s old, older than max_age 120s" + since
    )
    assert data_sync_hold(_release(), _w(_release(), migration=Op.SUCCEEDED), NOW).reason == (
        "data-sync: no replication-lag reported yet"
    )  # no source section: the migration is not Azure Migrate's


def test_hypercare():
    release = _release(hypercare="1h")
    promoted = _w(release, state=WorkloadState.PROMOTED, promoted_at=NOW)
    assert hypercare_until(release, promoted) == NOW + timedelta(hours=1)
    assert hypercare_until(release, _w(release)) is None
    end = NOW + timedelta(hours=1)
    assert in_hypercare(release, promoted, end - timedelta(microseconds=1))
    assert not in_hypercare(release, promoted, end)
    assert not in_hypercare(release, _w(release, state=WorkloadState.FINALIZED, promoted_at=NOW), NOW)
    assert hypercare_hold(release, promoted, NOW) == Hold(
        "hypercare", "hypercare until 2026-12-07T10:00:00Z", {"until": "2026-12-07T10:00:00Z"}
    )
    assert hypercare_hold(release, promoted, end) is None


def test_decommission_targets_and_approval():
    release = _release()
    assert decommission_of(release, "w1") == DecommissionTarget()
    assert decommission_of(release, "w2").source_vms == [VM + "vm2"]
    assert finalize_approval(release) == "manual"
    shared = _release(decommission={"provider": "webhook", "url_setting": "HOOK", "approval": "auto"})
    assert decommission_of(shared, "w1").provider == "webhook"
    assert decommission_of(shared, "w2").provider == "azure-vm"
    assert finalize_approval(shared) == "auto"


def test_the_finalize_gate():
    release = _release(hypercare="1h")
    promoted = _w(release, state=WorkloadState.PROMOTED, promoted_at=NOW)
    assert finalize_hold(release, promoted, NOW) is None  # in hypercare
    assert finalize_hold(release, _w(release), NOW) is None  # not promoted
    after = NOW + timedelta(hours=1)
    details = {"approval": "manual", "approvers": ["ana"], "provider": "local"}
    assert finalize_hold(release, promoted, after) == Hold(
        "finalize", "waiting for finalize (an approver's override finalize)", details
    )
    requested = dataclasses.replace(promoted, finalize_requested_by="ana", finalize_requested_at=after)
    asked = {"requested_by": "ana", "requested_at": "2026-12-07T10:00:00Z", "error": None, "failures": 0}
    assert finalize_hold(release, requested, after) == Hold(
        "finalize", "finalize requested by ana; turning the source off", {**details, **asked}
    )
    failed = dataclasses.replace(requested, decommission_error="boom", decommission_failures=2)
    assert finalize_hold(release, failed, after) == Hold(
        "finalize",
        "finalize requested by ana; decommission failed 2 time(s): boom; retrying",
        {**details, **asked, "error": "boom", "failures": 2},
    )
    errored = dataclasses.replace(requested, decommission_error="boom")
    assert finalize_hold(release, errored, after).reason == (
        "finalize requested by ana; decommission failed 0 time(s): boom; retrying"
    )
    auto = _release(decommission={"approval": "auto"})
    assert finalize_hold(auto, _w(auto, state=WorkloadState.PROMOTED), NOW) is None  # never promoted: no timer
    assert finalize_hold(auto, _w(auto, state=WorkloadState.PROMOTED, promoted_at=NOW), NOW) == Hold(
        "finalize",
        "waiting for finalize (automatic at hypercare end)",
        {"approval": "auto", "approvers": ["ana"], "provider": "local"},
    )


def test_finish_holds_lists_every_gate_in_order():
    release = _release(hypercare="1h")
    assert [h.gate for h in finish_holds(release, _w(release, state=WorkloadState.READY), NOW)] == ["data-sync"]
    assert [h.gate for h in finish_holds(release, _w(release, state=WorkloadState.FLIGHTING), NOW)] == ["data-sync"]
    assert finish_holds(release, _w(release, state=WorkloadState.READY, paused=True), NOW) == []
    assert finish_holds(release, _w(release, state=WorkloadState.TESTING), NOW) == []
    synced = _w(release, state=WorkloadState.READY, lag_seconds=1.0, lag_at=NOW)
    assert finish_holds(release, synced, NOW) == []
    promoted = _w(release, state=WorkloadState.PROMOTED, promoted_at=NOW)
    assert [h.gate for h in finish_holds(release, promoted, NOW)] == ["hypercare"]
    assert [h.gate for h in finish_holds(release, promoted, NOW + timedelta(hours=1))] == ["finalize"]


def test_retry_delays_double_from_30s_to_30m():
    assert [retry_delay(n) for n in (0, 1, 2, 3, 6, 7, 11, 12, 50)] == [30, 30, 60, 120, 960, 1800, 1800, 1800, 1800]
