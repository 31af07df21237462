"""The Azure Migrate role (infra/modules/finish-access.bicep, vaultRights=migrate) grants exactly what promote's
adapters send to the vault: each request the Azure Migrate adapter and the replication timer make against their
strict local stand-ins is turned into the RBAC action Resource Manager checks for it (resource type + read /
delete / {action}/action), and that set is the role's action list, no more and no less (docs/migrate.md's table)."""

from __future__ import annotations

from shared.adapters.migrate import OPERATION, AzureMigrator
from shared.adapters.site_recovery import SiteRecoveryReader
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE, AzureMigrate
from shared.domain.plan.finishing import SiteRecoverySource
from tests.finish.conftest import azure, azure_settings  # noqa: F401  (fixtures)
from tests.finish.fake_azure import protected_item
from tests.infra.test_infra import MODULES, expanded
from tests.migrate.conftest import SUB, VAULT, VNET, vault, vault_settings  # noqa: F401  (fixtures)
from tests.routing.conftest import arm_tls, credential  # noqa: F401  (fixtures)

VERBS = {"GET": "read", "DELETE": "delete", "PUT": "write", "PATCH": "write"}


def action_of(method: str, path: str) -> str:
    """The RBAC action of one request: the provider, the resource types of the path, then the verb; an odd
    segment after the last name is a collection (GET: read) or a POST's action (`{name}/action`)."""
    parts = path.strip("/").split("/")
    at = [p.lower() for p in parts].index("providers")
    namespace, rest = parts[at + 1], parts[at + 2 :]
    types = rest[0::2]
    if len(rest) % 2 and method == "POST":
        return "/".join([namespace, *types[:-1], types[-1], "action"])
    assert method != "POST", path
    return "/".join([namespace, *types, VERBS[method]])


def test_action_of_reads_arm_paths():
    v = "/subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v"
    item = f"{v}/replicationFabrics/f/replicationProtectionContainers/c/replicationMigrationItems/i"
    assert action_of("GET", f"{v}/replicationMigrationItems") == (
        "Microsoft.RecoveryServices/vaults/replicationMigrationItems/read"
    )
    assert action_of("POST", f"{item}/testMigrate").endswith("/replicationMigrationItems/testMigrate/action")
    assert action_of("DELETE", item).endswith("/replicationProtectionContainers/replicationMigrationItems/delete")
    assert action_of("GET", f"{v}/replicationJobs/j") == "Microsoft.RecoveryServices/vaults/replicationJobs/read"


def sent(log) -> set[str]:
    return {action_of(c.method, c.path).lower() for c in log if c.status < 400}


def migrate_adapter_actions(vault, settings) -> set[str]:  # noqa: F811
    """Every operation of the Azure Migrate adapter, a failed job's errors read too."""
    vault.add_machine(VAULT, "vm-1")
    migrator = AzureMigrator(settings)
    assert [m.name for m in migrator.machines(VAULT)] == ["vm-1"]  # import, asset-replicated, the lag
    done = []
    for op, scenario, ok in (
        (TEST_MIGRATE, "TestMigrate", False),  # a failed test migration: its job's errors are read
        (CLEANUP, "TestMigrateCleanup", True),
        (MIGRATE, "Migrate", True),
        (COMPLETE, "DisableMigration", True),
    ):
        effect = AzureMigrate("w", op, VAULT, ("vm-1",), VNET if op == TEST_MIGRATE else None)
        assert migrator.start(effect), op
        vault.end_jobs(scenario, "Succeeded" if ok else "Failed", "" if ok else "no network")
        status = migrator.status(VAULT, ("vm-1",), op)
        assert status.state == ("succeeded" if ok else "failed"), (op, status)
        done.append(op)
    assert set(done) == set(OPERATION)  # every operation the adapter can start was sent
    return sent(vault.log)


def test_the_migrate_role_grants_exactly_the_operations_promote_sends(vault, vault_settings, azure, azure_settings):  # noqa: F811
    adapter = migrate_adapter_actions(vault, vault_settings)
    azure.add_vault(VAULT, [protected_item("i1", "vm-1", rpo=12)])
    reader = SiteRecoveryReader(azure_settings)
    assert reader.items(SiteRecoverySource(subscription=SUB, resource_group="rg-migrate", vault="vault-migrate"))
    timer = sent(azure.log)  # the replication timer (plans with `replication`): the role replaces Site Recovery Reader
    role = {a.lower() for a in expanded(MODULES / "finish-access.bicep", "migrationActions")}
    assert role == adapter | timer, (
        f"missing: {sorted((adapter | timer) - role)}; not used: {sorted(role - adapter - timer)}"
    )
