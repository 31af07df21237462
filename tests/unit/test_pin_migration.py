"""Azure Migrate's facts, pure (shared/domain/migration.py and the plan's source/rehearsal sections): the
rehearsal and migration gates' exact reasons, what status shows of them, and the plan's refusals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.errors import PlanError
from shared.domain.migration import (
    COMPLETE,
    MIGRATE,
    TEST_MIGRATE,
    AzureMigrate,
    MachineState,
    effect,
    migration_gate,
    migration_json,
    rehearsal_gate,
    rehearsal_hash,
    rehearsal_json,
    rehearsal_state,
    started_at,
)
from shared.domain.model import Op, WorkloadState, new_release
from shared.domain.plan import validate_plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SUB = "00000000-0000-0000-0000-000000000001"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-mig/providers/Microsoft.RecoveryServices/vaults/vault-mig"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test"


def _raw(**fields) -> dict:
    return {
        "release": "r1",
        "model": "single-step",
        "source": {"provider": "azure-migrate", "vault": VAULT},
        "rehearsal": {"network": VNET, "required": True, "max_age": "1d"},
        "workloads": [{"name": "w1", "assets": ["a", "b"], "machines": ["vm-a", "vm-b"]}],
        **fields,
    }


def _release(**fields):
    return new_release(validate_plan(_raw(**fields)), NOW)


def _ready(release, **fields):
    return dataclasses.replace(release.workloads["w1"], state=WorkloadState.READY, **fields)


def test_the_effect_names_the_vault_the_machines_and_the_test_network():
    release = _release()
    assert effect(release, "w1", TEST_MIGRATE) == AzureMigrate("w1", TEST_MIGRATE, VAULT, ("vm-a", "vm-b"), VNET, True)
    assert effect(release, "w1", MIGRATE) == AzureMigrate("w1", MIGRATE, VAULT, ("vm-a", "vm-b"), None, True)
    unshut = _release(source={"provider": "azure-migrate", "vault": VAULT, "shutdown_source": False})
    assert effect(unshut, "w1", COMPLETE).shutdown is False


def test_which_moment_an_operation_belongs_to():
    w = dataclasses.replace(
        _release().workloads["w1"],
        rehearsal_at=NOW,
        migration_at=NOW + timedelta(hours=1),
        finalized_at=NOW + timedelta(hours=2),
    )
    assert started_at(w, TEST_MIGRATE) == NOW
    assert started_at(w, "test-migrate-cleanup") == NOW
    assert started_at(w, MIGRATE) == NOW + timedelta(hours=1)
    assert started_at(w, COMPLETE) == NOW + timedelta(hours=2)


def test_the_rehearsal_hash_ignores_people_and_health_but_not_machines():
    base = rehearsal_hash(_release(), "w1")
    assert len(base) == 16
    assert rehearsal_hash(_release(approvers=["x"]), "w1") == base
    other = _raw()
    other["workloads"][0]["machines"] = ["vm-a", "vm-c"]
    assert rehearsal_hash(new_release(validate_plan(other), NOW), "w1") != base
    upper = _raw(rehearsal={"network": VNET.upper(), "required": True, "max_age": "1d"})
    assert rehearsal_hash(new_release(validate_plan(upper), NOW), "w1") == base


def test_the_rehearsal_gate_says_why_in_each_state():
    release = _release()
    current = rehearsal_hash(release, "w1")

    def why(**fields):
        gate = rehearsal_gate(release, _ready(release, **fields), NOW)
        return None if gate is None else gate["why"]

    assert why() == "no rehearsal yet (promote rehearse)"
    assert why(test_migration=Op.RUNNING, rehearsal_at=NOW) == (
        "rehearsal under way since 2026-12-07T09:00:00Z, waiting for rehearsal-passed"
    )
    passed = {"rehearsal_verdict": "passed", "rehearsal_hash": current, "test_migration": Op.SUCCEEDED}
    assert why(**passed, rehearsal_at=NOW - timedelta(days=1)) is None  # at max_age
    assert why(**passed, rehearsal_at=NOW - timedelta(days=1, seconds=1)) == (
        "the passing rehearsal of 2026-12-06T08:59:59Z is older than max_age (86400s)"
    )
    assert why(**{**passed, "rehearsal_hash": "0123456789abcdef"}, rehearsal_at=NOW) == (
        f"the passing rehearsal was of another plan (0123456789abcdef, now {current})"
    )
    assert why(rehearsal_verdict="failed", rehearsal_note="suite smoke", rehearsal_at=NOW) == (
        "the last rehearsal failed: suite smoke"
    )
    assert why(test_migration=Op.SUCCEEDED, cleanup=Op.SUCCEEDED) == "the last rehearsal cleaned"
    assert why(migration=Op.RUNNING) is None  # past the rehearsal
    gate = rehearsal_gate(release, _ready(release), NOW)
    assert gate == {
        "why": "no rehearsal yet (promote rehearse)",
        "plan_hash": current,
        "max_age_seconds": 86400,
        "last": {
            "state": "none",
            "plan_hash": None,
            "plan_matches": None,
            "at": None,
            "job": None,
            "by": None,
            "note": None,
            "cleanup": {"state": "none", "job": None},
        },
    }
    assert rehearsal_gate(release, release.workloads["w1"], NOW) is None  # not ready
    optional = _release(rehearsal={"network": VNET})
    assert rehearsal_gate(optional, _ready(optional), NOW) is None


def test_rehearsal_states():
    w = _release().workloads["w1"]
    assert rehearsal_state(w) == "none"
    assert rehearsal_state(dataclasses.replace(w, test_migration=Op.RUNNING)) == "running"
    assert rehearsal_state(dataclasses.replace(w, test_migration=Op.FAILED, cleanup=Op.RUNNING)) == "running"
    assert rehearsal_state(dataclasses.replace(w, test_migration=Op.FAILED, cleanup=Op.SUCCEEDED)) == "cleaned"
    assert rehearsal_state(dataclasses.replace(w, rehearsal_verdict="failed", cleanup=Op.SUCCEEDED)) == "failed"


def test_the_migration_gate_says_why_in_each_state():
    release = _release()

    def gate(**fields):
        return migration_gate(release, _ready(release, **fields), NOW)

    assert gate() == {
        "why": "not started: it starts once nothing else holds the cutover",
        "state": "none",
        "job": None,
        "error": None,
    }
    assert gate(migration=Op.RUNNING, migration_at=NOW, migration_job="job-1") == {
        "why": "migrating since 2026-12-07T09:00:00Z (the source shut down first): job job-1",
        "state": "running",
        "job": "job-1",
        "error": None,
    }
    assert gate(migration=Op.FAILED, migration_error="quota")["why"] == (
        "the migration failed: quota; nothing moved; override retry starts it again"
    )
    assert gate(test_migration=Op.SUCCEEDED)["why"] == (
        "the rehearsal's test VMs are cleaned up first; then the migration starts"
    )
    assert gate(test_migration=Op.FAILED, cleanup=Op.RUNNING)["why"] == (
        "the rehearsal's test VMs are cleaned up first; then the migration starts"
    )
    assert gate(test_migration=Op.SUCCEEDED, cleanup=Op.SUCCEEDED)["why"] == (
        "not started: it starts once nothing else holds the cutover"
    )
    assert gate(migration=Op.SUCCEEDED) is None
    unshut = _release(source={"provider": "azure-migrate", "vault": VAULT, "shutdown_source": False})
    w = _ready(unshut, migration=Op.RUNNING, migration_at=NOW)
    assert migration_gate(unshut, w, NOW)["why"] == "migrating since 2026-12-07T09:00:00Z"
    plain = new_release(
        validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]}), NOW
    )
    assert migration_gate(plain, _ready(plain), NOW) is None
    assert migration_json(plain, plain.workloads["w1"]) is None
    assert rehearsal_json(plain, plain.workloads["w1"]) is None


def test_what_status_shows():
    release = _release()
    current = rehearsal_hash(release, "w1")
    w = _ready(
        release,
        rehearsal_hash=current,
        rehearsal_at=NOW,
        test_job="tj",
        rehearsal_by="ana",
        rehearsal_verdict="passed",
        rehearsal_note="suite s",
        cleanup=Op.SUCCEEDED,
        cleanup_job="cj",
        migration=Op.SUCCEEDED,
        migration_job="mj",
        migration_at=NOW,
        completion=Op.RUNNING,
        completion_job="xj",
    )
    assert rehearsal_json(release, w) == {
        "state": "passed",
        "plan_hash": current,
        "plan_matches": True,
        "at": "2026-12-07T09:00:00Z",
        "job": "tj",
        "by": "ana",
        "note": "suite s",
        "cleanup": {"state": "succeeded", "job": "cj"},
    }
    assert rehearsal_json(release, dataclasses.replace(w, rehearsal_hash="x"))["plan_matches"] is False
    assert migration_json(release, w) == {
        "state": "succeeded",
        "job": "mj",
        "at": "2026-12-07T09:00:00Z",
        "error": None,
        "completion": {"state": "running", "job": "xj"},
    }


def test_machine_states():
    assert MachineState("vm", "item", "MigrationSucceeded", True).migrated
    assert MachineState("vm", "item", "migrationcompletedwithinformation", True).migrated
    assert MachineState("vm", "item", "MigrationPartiallySucceeded", True).migrated
    assert not MachineState("vm", "item", "Replicating", True).migrated


def _problems(raw: dict) -> list:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def test_the_plan_s_azure_migrate_refusals():
    assert _problems(_raw(source=None)) == [
        (
            "",
            "rehearsal: a rehearsal is a test migration by Azure Migrate: it needs source; workloads[0].machines: "
            "machines are Azure Migrate machines: they need source",
        )
    ]
    assert _problems(_raw(model="flight", flights=[{"percent": 100}])) == [
        (
            "",
            "source.shutdown_source: a flight moves users a share at a time, but the migrate shuts the source down "
            "before the first share moves: use single-step or staged, or shutdown_source: false",
        )
    ]
    two = _raw(
        workloads=[
            {"name": "w1", "assets": ["a", "b"], "machines": ["vm-a"]},
            {"name": "w2", "assets": ["VM-A"]},
        ]
    )
    assert _problems(two) == [
        (
            "",
            "workloads[0].machines: names the machine of each asset, in order: 2 asset(s), 1 machine(s); "
            "workloads[1].machines: machine VM-A is also in workload w1",
        )
    ]
    site = {"subscription": SUB, "resource_group": "rg", "vault": "v1"}
    assert _problems(_raw(replication=site)) == [
        ("", "replication: source azure-migrate reads the vault's replication itself: remove replication")
    ]
    assert _problems(_raw(rehearsal={"network": "vnet", "max_age": "59s", "cleanup_after": 59})) == [
        (
            "rehearsal.network",
            "'vnet' is not a virtual network resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.Network/virtualNetworks/<name>)",
        ),
        ("rehearsal.max_age", "max_age must be at least 1m"),
        (
            "rehearsal.cleanup_after",
            "cleanup_after must be at least 1m: the test VMs need time to boot and be tested",
        ),
    ]
    machines = _raw()
    machines["workloads"][0]["machines"] = ["vm-a", "VM-A"]
    assert _problems(machines) == [("workloads[0].machines", "machines must be unique")]


def test_the_vault_s_parts():
    source = validate_plan(_raw()).source
    assert (source.subscription, source.resource_group, source.vault_name, source.shutdown_source) == (
        SUB,
        "rg-mig",
        "vault-mig",
        True,
    )
    assert _problems(_raw(source={"provider": "azure-migrate", "vault": "v"})) == [
        (
            "source.vault",
            "'v' is not a Recovery Services vault resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.RecoveryServices/vaults/<name>)",
        )
    ]


def test_machine_names_are_checked_and_shared_only_with_a_source():
    raw = _raw()
    raw["workloads"][0]["machines"] = ["vm-a", "vm\x01"]
    assert _problems(raw) == [
        ("workloads[0].machines", "machine 'vm\\x01' must be 1-256 characters without control characters")
    ]
    two = _raw(workloads=[{"name": "w1", "assets": ["vm-a"]}, {"name": "w2", "assets": ["vm-b"]}])
    assert [w.machine_names for w in validate_plan(two).workloads] == [["vm-a"], ["vm-b"]]
    plain = {
        "release": "r1",
        "model": "single-step",
        "workloads": [{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["a"]}],
    }
    assert len(validate_plan(plain).workloads) == 2  # the same asset name in two workloads: no machines to share
