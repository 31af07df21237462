"""The Azure Migrate adapter (shared/adapters/migrate) against the local Resource Manager for migration items:
the exact request of each operation, the machines read, every refusal's text and what a failed job says."""

from __future__ import annotations

import pytest

from shared.adapters.migrate import AzureMigrator
from shared.domain.errors import RoutingError
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate, MachineState, OpStatus
from tests.migrate.conftest import VAULT, VNET, vault, vault_settings  # noqa: F401  (fixtures)

ITEMS = "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationMigrationItems"


def op(name: str, machines=("vm-web-01",), shutdown: bool = True) -> AzureMigrate:
    return AzureMigrate("payroll", name, VAULT, tuple(machines), VNET if name == TEST_MIGRATE else None, shutdown)


@pytest.fixture
def migrator(vault, vault_settings):  # noqa: F811
    vault.add_machine(VAULT, "vm-web-01", tags={"group": "payroll"})
    vault.add_machine(VAULT, "vm-db-01", tags={"Group": "payroll-db"})
    vault.add_machine(VAULT, "vm-new-01", state="InitialSeedingInProgress")
    return AzureMigrator(vault_settings)


def posts(fake) -> list:
    return [c for c in fake.log if c.method in ("POST", "DELETE")]


def test_every_machine_of_the_vault_is_read_with_its_item_state_group_and_recovery_point(vault, migrator):  # noqa: F811
    from datetime import UTC, datetime

    machines = sorted(migrator.machines(VAULT), key=lambda m: m.name)
    item = {m: vault.item(m)["name"] for m in ("vm-web-01", "vm-db-01", "vm-new-01")}
    point = datetime(2026, 11, 26, 21, 55, 0, 123456, tzinfo=UTC)
    assert machines == [
        MachineState("vm-db-01", item["vm-db-01"], "Replicating", True, "payroll-db", point),
        MachineState("vm-new-01", item["vm-new-01"], "InitialSeedingInProgress", False, None, None),
        MachineState("vm-web-01", item["vm-web-01"], "Replicating", True, "payroll", point),
    ]


def test_a_machine_in_delta_sync_is_replicated_even_while_a_job_runs(vault, migrator):  # noqa: F811
    migrator.start(op(TEST_MIGRATE))  # no operation allowed meanwhile
    web = next(m for m in migrator.machines(VAULT) if m.name == "vm-web-01")
    assert web.replicated and web.state == "Replicating"


def test_a_test_migration_is_sent_into_the_network_from_the_latest_point_and_named_by_its_job(vault, migrator):  # noqa: F811
    started = migrator.start(op(TEST_MIGRATE, machines=("vm-web-01", "VM-DB-01")))
    [(web_job, web), (db_job, db)] = [(j, v) for j, v in vault.jobs.items()]
    assert started == [f"vm-web-01 job {web_job}", f"VM-DB-01 job {db_job}"]
    [first, second] = posts(vault)
    point = vault.item("vm-web-01")["properties"]["providerSpecificDetails"]["lastRecoveryPointId"]
    assert first.path.endswith(f"/replicationMigrationItems/{vault.item('vm-web-01')['name']}/testMigrate")
    assert first.body == {
        "properties": {
            "providerSpecificDetails": {"instanceType": "VMwareCbt", "recoveryPointId": point, "networkId": VNET}
        }
    }
    assert migrator.status(VAULT, ("vm-web-01", "vm-db-01"), TEST_MIGRATE) == OpStatus("running", f"{web_job},{db_job}")
    vault.end_job(web_job)
    assert migrator.status(VAULT, ("vm-web-01", "vm-db-01"), TEST_MIGRATE).state == "running"  # one still runs
    vault.end_job(db_job)
    assert migrator.status(VAULT, ("vm-web-01", "vm-db-01"), TEST_MIGRATE) == OpStatus(
        "succeeded", f"{web_job},{db_job}"
    )

    migrator.start(op(CLEANUP))
    cleanup = posts(vault)[-1]
    assert cleanup.path.endswith("/testMigrateCleanup")
    assert cleanup.body == {"properties": {"comments": "promote: rehearsal over"}}


@pytest.mark.parametrize(("shutdown", "sent"), [(True, "true"), (False, "false")])
def test_a_migration_shuts_the_source_down_only_when_asked(vault, migrator, shutdown, sent):  # noqa: F811
    migrator.start(op(MIGRATE, shutdown=shutdown))
    [post] = posts(vault)
    assert post.path.endswith("/migrate")
    assert post.body == {
        "properties": {"providerSpecificDetails": {"instanceType": "VMwareCbt", "performShutdown": sent}}
    }


def test_a_failed_job_says_why_once_per_distinct_message(vault, migrator):  # noqa: F811
    migrator.start(op(MIGRATE, machines=("vm-web-01", "vm-db-01")))
    [web_job, db_job] = list(vault.jobs)
    vault.end_job(web_job, "Failed", "The final replication cycle failed")  # the same text twice in the job
    vault.end_job(db_job, "Failed")  # no errors given
    status = migrator.status(VAULT, ("vm-web-01", "vm-db-01"), MIGRATE)
    assert status == OpStatus(
        "failed",
        f"{web_job},{db_job}",
        f"vm-web-01: job {web_job} failed: The final replication cycle failed; "
        f"vm-db-01: job {db_job} failed: no error given",
    )


def test_a_machine_without_an_item_is_named(vault, migrator):  # noqa: F811
    with pytest.raises(RoutingError) as error:
        migrator.start(op(TEST_MIGRATE, machines=("vm-web-01", "vm-nope", "vm-gone")))
    assert str(error.value) == "Azure Migrate vault has no migration item for vm-nope, vm-gone"
    assert posts(vault) == []


def test_completing_a_migration_not_over_is_refused_naming_its_state(vault, migrator):  # noqa: F811
    with pytest.raises(RoutingError) as error:
        migrator.start(op(COMPLETE))
    assert str(error.value) == "vm-web-01: not migrated (Replicating): completing would only stop its replication"
    migrator.start(op(MIGRATE))
    vault.end_jobs("Migrate")
    [started] = migrator.start(op(COMPLETE))
    assert posts(vault)[-1].method == "DELETE" and started.startswith("vm-web-01 job ")
    assert migrator.status(VAULT, ("vm-web-01",), COMPLETE).state == "running"
    vault.end_jobs("DisableMigration")
    assert migrator.status(VAULT, ("vm-web-01",), COMPLETE) == OpStatus("succeeded", None)  # the item is gone


def test_an_operation_azure_migrate_does_not_allow_is_refused_with_the_states_and_what_it_allows(vault, migrator):  # noqa: F811
    with pytest.raises(RoutingError) as error:
        migrator.start(op(TEST_MIGRATE, machines=("vm-new-01",)))
    assert str(error.value) == (
        "vm-new-01: Azure Migrate does not allow TestMigrate now (migration InitialSeedingInProgress, "
        "test migration None; allowed: DisableMigration)"
    )
    migrator.start(op(TEST_MIGRATE))  # nothing is allowed while its job runs
    with pytest.raises(RoutingError) as error:
        migrator.start(op(CLEANUP))
    assert str(error.value) == (
        "vm-web-01: Azure Migrate does not allow TestMigrateCleanup now (migration Replicating, "
        "test migration TestMigrationInProgress; allowed: nothing)"
    )


@pytest.mark.parametrize(
    ("name", "method", "path", "operation", "action"),
    [
        (TEST_MIGRATE, "POST", "/testmigrate", "TestMigrate", f"{ITEMS}/testMigrate/action"),
        (MIGRATE, "POST", "/migrate", "Migrate", f"{ITEMS}/migrate/action"),
    ],
)
def test_a_refused_action_names_its_permission(vault, migrator, name, method, path, operation, action):  # noqa: F811
    vault.fail(method, path, 403)
    with pytest.raises(RoutingError) as error:
        migrator.start(op(name))
    assert str(error.value) == (
        f"Azure Migrate {operation} of vm-web-01: access denied (403); the identity needs {action}: "
        "ServiceUnavailable: injected"
    )


def test_a_cleanup_and_a_completion_refused_for_want_of_a_role_name_theirs(vault, migrator):  # noqa: F811
    migrator.start(op(TEST_MIGRATE))
    vault.end_jobs("TestMigrate")
    vault.fail("POST", "/testmigratecleanup", 403)
    with pytest.raises(RoutingError, match=rf"; the identity needs {ITEMS}/testMigrateCleanup/action: "):
        migrator.start(op(CLEANUP))
    migrator.start(op(CLEANUP))
    vault.end_jobs("TestMigrateCleanup")
    migrator.start(op(MIGRATE))
    vault.end_jobs("Migrate")
    vault.fail("DELETE", "/replicationmigrationitems/", 403)
    with pytest.raises(RoutingError) as error:
        migrator.start(op(COMPLETE))
    assert str(error.value).startswith(
        f"Azure Migrate DisableMigration of vm-web-01: access denied (403); the identity needs {ITEMS}/delete: "
    )


def test_a_vault_that_cannot_be_listed_names_the_permission_to_read_it(vault, migrator):  # noqa: F811
    vault.fail("GET", "/replicationmigrationitems", 403)
    with pytest.raises(RoutingError) as error:
        migrator.machines(VAULT)
    assert str(error.value) == (
        "Azure Migrate vault vault-migrate: access denied (403); the identity needs "
        "Microsoft.RecoveryServices/vaults/replicationMigrationItems/read: ServiceUnavailable: injected"
    )


def test_a_failed_job_that_cannot_be_read_names_the_permission_to_read_jobs(vault, migrator):  # noqa: F811
    migrator.start(op(MIGRATE))
    [job] = list(vault.jobs)
    vault.end_job(job, "Failed", "boom")
    vault.fail("GET", "/replicationjobs/", 403)
    with pytest.raises(RoutingError) as error:
        migrator.status(VAULT, ("vm-web-01",), MIGRATE)
    assert str(error.value) == (
        f"Site Recovery job {job}: access denied (403); the identity needs "
        "Microsoft.RecoveryServices/vaults/replicationJobs/read: ServiceUnavailable: injected"
    )


def test_a_vault_id_that_is_not_one_is_refused(migrator):
    with pytest.raises(RoutingError) as error:
        migrator.machines("vault-migrate")
    assert str(error.value) == "'vault-migrate' is not a Recovery Services vault id"


def test_a_site_recovery_vault_refused_for_want_of_a_role_names_the_permission(vault, vault_settings):  # noqa: F811
    from types import SimpleNamespace

    from shared.adapters.site_recovery import SiteRecoveryReader

    vault.fail("GET", "/replicationprotecteditems", 403)
    source = SimpleNamespace(subscription=VAULT.split("/")[2], resource_group="rg-migrate", vault="vault-migrate")
    with pytest.raises(RoutingError) as error:
        SiteRecoveryReader(vault_settings).items(source)
    assert str(error.value) == (
        "Site Recovery vault vault-migrate: access denied (403); the identity needs "
        "Microsoft.RecoveryServices/vaults/replicationProtectedItems/read (promote's role, or Site Recovery Reader): "
        "ServiceUnavailable: injected"
    )
