"""The Azure Migrate adapter: the real Site Recovery client against a local Resource Manager as strict as Azure
for migration items and their jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.adapters.migrate import AzureMigrator
from shared.domain.errors import RoutingError
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate, OpStatus
from tests.migrate.conftest import VAULT, VNET

MACHINES = ("vm-web-01", "vm-db-01", "vm-app-01")


def op(name: str, machines=MACHINES[:2], shutdown: bool = True) -> AzureMigrate:
    return AzureMigrate("payroll", name, VAULT, tuple(machines), VNET if name == TEST_MIGRATE else None, shutdown)


@pytest.fixture
def migrator(vault, vault_settings):
    for machine in MACHINES:
        vault.add_machine(VAULT, machine, tags={"group": "payroll" if "app" not in machine else "crm"})
    return AzureMigrator(vault_settings)


def test_the_machines_are_read_across_pages(vault, migrator):
    vault.add_machine(VAULT, "vm-new-01", state="InitialSeedingInProgress")
    found = {m.name: (m.replicated, m.group) for m in migrator.machines(VAULT)}
    assert found == {
        "vm-web-01": (True, "payroll"), "vm-db-01": (True, "payroll"), "vm-app-01": (True, "crm"),
        "vm-new-01": (False, None),
    }  # fmt: skip
    lists = [c for c in vault.log if c.path.lower().endswith("/replicationmigrationitems")]
    assert len(lists) == 2 and all(c.method == "GET" for c in vault.log)


def test_each_machine_says_when_its_last_recovery_point_came_none_before_the_first(vault, migrator):
    vault.add_machine(VAULT, "vm-new-01", state="InitialSeedingInProgress")
    vault.recovery_point("vm-db-01", "2026-12-07T10:15:30.1234567Z")
    points = {m.name: m.recovery_point for m in migrator.machines(VAULT)}
    assert points["vm-db-01"] == datetime(2026, 12, 7, 10, 15, 30, 123456, tzinfo=UTC)
    assert points["vm-web-01"] == datetime(2026, 11, 26, 21, 55, 0, 123456, tzinfo=UTC)
    assert points["vm-new-01"] is None


def test_a_rehearsal_test_migrates_into_the_network_from_the_latest_point_and_is_cleaned_up(vault, migrator):
    started = migrator.start(op(TEST_MIGRATE))
    assert [s.split(" job ")[0] for s in started] == ["vm-web-01", "vm-db-01"]
    post = next(c for c in vault.log if c.method == "POST")
    details = post.body["properties"]["providerSpecificDetails"]
    assert details["networkId"] == VNET and details["instanceType"] == "VMwareCbt"
    assert (
        details["recoveryPointId"]
        == vault.item("vm-web-01")["properties"]["providerSpecificDetails"]["lastRecoveryPointId"]
    )
    assert migrator.status(VAULT, op(TEST_MIGRATE).machines, TEST_MIGRATE).state == "running"
    assert migrator.start(op(TEST_MIGRATE)) == []  # found under way: nothing started twice
    vault.end_jobs("TestMigrate")
    done = migrator.status(VAULT, op(TEST_MIGRATE).machines, TEST_MIGRATE)
    assert done.state == "succeeded" and done.job and len(done.job.split(",")) == 2
    # Azure Migrate refuses a test migration or a migration until the last test migration is cleaned up
    with pytest.raises(RoutingError, match="does not allow Migrate now .*TestMigrationSucceeded"):
        migrator.start(op(MIGRATE))
    migrator.start(op(CLEANUP))
    vault.end_jobs("TestMigrateCleanup")
    assert migrator.status(VAULT, op(CLEANUP).machines, CLEANUP).state == "succeeded"
    assert [a for _, a in vault.started()] == ["TestMigrate"] * 2 + ["TestMigrateCleanup"] * 2


def test_migrate_shuts_the_source_down_and_a_failed_job_says_why(vault, migrator):
    migrator.start(op(MIGRATE))
    body = next(c for c in vault.log if c.method == "POST").body
    assert body["properties"]["providerSpecificDetails"]["performShutdown"] == "true"
    vault.end_jobs("Migrate", "Failed", "The final replication cycle failed: the appliance lost the host")
    failed = migrator.status(VAULT, op(MIGRATE).machines, MIGRATE)
    assert failed.state == "failed" and "appliance lost the host" in (failed.error or "")
    assert "job " in failed.error and "failed" in failed.error  # read from the job itself
    assert len(migrator.start(op(MIGRATE))) == 2  # a failed migration may be started again


def test_complete_migration_is_refused_before_the_migration_and_removes_the_items_after(vault, migrator):
    with pytest.raises(RoutingError, match="vm-web-01: not migrated .*would only stop its replication"):
        migrator.start(op(COMPLETE))  # DELETE of a replicating item is "stop replication": never that
    assert migrator.start(op(COMPLETE, machines=["vm-gone"])) == []  # no item left: completed already
    migrator.start(op(MIGRATE))
    vault.end_jobs("Migrate")
    assert migrator.status(VAULT, op(MIGRATE).machines, MIGRATE).state == "succeeded"
    migrator.start(op(COMPLETE))
    assert [c.method for c in vault.log if c.status == 202][-2:] == ["DELETE", "DELETE"]
    vault.end_jobs("DisableMigration")
    assert migrator.status(VAULT, op(COMPLETE).machines, COMPLETE).state == "succeeded"
    assert {m.name for m in migrator.machines(VAULT)} == {"vm-app-01"}


def test_initial_seeding_allows_no_test_migration(vault, migrator):
    vault.set_state("vm-web-01", "InitialSeedingInProgress")
    with pytest.raises(RoutingError, match="vm-web-01: Azure Migrate does not allow TestMigrate"):
        migrator.start(op(TEST_MIGRATE))


def test_throttling_is_waited_out_and_the_action_is_sent_once(vault, migrator):
    vault.fail("POST", "/migrate", 429, times=1, retry_after="1")
    started = migrator.start(op(MIGRATE, machines=["vm-web-01"]))
    assert len(started) == 1 and vault.started() == [("vm-web-01", "Migrate")]
    assert [c.status for c in vault.log if c.method == "POST"] == [429, 202]


def test_an_unknown_machine_or_vault_is_named(vault, migrator):
    with pytest.raises(RoutingError, match="no migration item for vm-nope"):
        migrator.start(op(TEST_MIGRATE, machines=["vm-nope"]))
    other = VAULT.replace("vault-migrate", "vault-other")
    with pytest.raises(RoutingError, match="vault-other: not found"):
        migrator.machines(other)


def test_an_operation_over_names_its_own_job_not_the_next_one_running_or_over(vault, migrator):
    """A clean-up's success starts the migrate; a host killed before that commit leaves the clean-up running in
    the store while the migrate runs (and ends) in the vault: the clean-up's job is still the clean-up's."""
    machines = op(TEST_MIGRATE).machines
    jobs = {}
    for name, scenario in ((TEST_MIGRATE, "TestMigrate"), (CLEANUP, "TestMigrateCleanup")):
        migrator.start(op(name))
        jobs[name] = migrator.status(VAULT, machines, name).job
        vault.end_jobs(scenario)
    assert migrator.status(VAULT, machines, CLEANUP).job == jobs[CLEANUP]  # idle: currentJob is "None"
    migrator.start(op(MIGRATE))
    assert migrator.status(VAULT, machines, CLEANUP).job == jobs[CLEANUP]  # the migrate runs
    assert migrator.status(VAULT, machines, MIGRATE).job not in (None, jobs[CLEANUP])
    vault.end_jobs("Migrate")
    assert migrator.status(VAULT, machines, CLEANUP) == OpStatus("succeeded", jobs[CLEANUP])  # the migrate is over too


def test_a_migrated_machine_says_so_its_last_recovery_point_is_the_final_replications(vault, migrator):
    migrator.start(op(MIGRATE, machines=["vm-web-01"]))
    before = {m.name: m for m in migrator.machines(VAULT)}
    assert not before["vm-web-01"].migrated  # MigrationInProgress: not over yet
    vault.end_jobs("Migrate")
    after = {m.name: m for m in migrator.machines(VAULT)}
    assert after["vm-web-01"].migrated and not after["vm-db-01"].migrated
    assert after["vm-web-01"].recovery_point == before["vm-web-01"].recovery_point
