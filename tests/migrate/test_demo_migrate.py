"""`promote demo`'s Azure Migrate story (shared/local/demo_migrate.py): one line per step from import to complete
migration, every job started once, and its in-memory vault as strict as the stand-in where promote could go wrong."""

from __future__ import annotations

import uuid

import pytest

from shared.domain.errors import RoutingError
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate
from shared.local.demo import Demo
from shared.local.demo_migrate import VAULT, VNET, LocalVault, run_migrate


def test_the_story_takes_an_imported_release_from_rehearsal_to_complete_migration(stack):
    lines: list[str] = []
    demo = Demo(stack, out=lines.append)
    stamp = uuid.uuid4().hex[:11]
    assert run_migrate(demo, stamp) is True
    steps = [line for line in lines if not line.startswith("    ")]
    assert steps[0] == f"\n== azure-migrate: release demo-{stamp}-migrate"
    assert [s.split(":")[0].split(" ")[2] for s in steps[1:3]] == ["import", "the"]
    assert steps[-2] == (
        "  every job started once: 8 for 2 machines (complete-migration, migrate, test-migrate, test-migrate-cleanup)"
    )
    assert steps[-1] == "  => finalized"
    said = "\n".join(lines)
    assert "performShutdown" not in said and "Azure Migrate migrate of 2 machine(s)" in said
    assert "migration completed (job " in said and "rejected" not in said


def effect(op: str, machine: str = "vm-hr-web-01") -> AzureMigrate:
    return AzureMigrate("hr-apps", op, VAULT, (machine,), VNET if op == TEST_MIGRATE else None)


def test_the_local_vault_refuses_what_azure_migrate_refuses_and_starts_nothing_twice():
    vault = LocalVault({"vm-hr-web-01": "hr-apps"})
    with pytest.raises(RoutingError):
        vault.start(effect(COMPLETE))  # not migrated: completing would only stop replication
    with pytest.raises(RoutingError):
        vault.start(effect(CLEANUP))  # no test VMs to clean up
    assert vault.start(effect(TEST_MIGRATE)) and vault.start(effect(TEST_MIGRATE)) == []  # found under way
    with pytest.raises(RoutingError):
        vault.start(effect(MIGRATE))  # a job runs
    vault.end_jobs()
    with pytest.raises(RoutingError):
        vault.start(effect(MIGRATE))  # the test migration is not cleaned up
    vault.start(effect(CLEANUP))
    vault.end_jobs()
    vault.start(effect(MIGRATE))
    vault.end_jobs()
    assert vault.status(VAULT, ("vm-hr-web-01",), MIGRATE).state == "succeeded"
    assert vault.start(effect(COMPLETE)) and vault.started == [
        ("vm-hr-web-01", TEST_MIGRATE), ("vm-hr-web-01", CLEANUP), ("vm-hr-web-01", MIGRATE), ("vm-hr-web-01", COMPLETE)
    ]  # fmt: skip
