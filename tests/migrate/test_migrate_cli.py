"""Azure Migrate through the `promote` command only (contract §16): `import csv`, `import azure-migrate` against
the local vault (PROMOTE_ARM_ENDPOINT, its certificate trusted), then a release taken from import through
rehearsal, cutover (migrate with the source shut down) and routing to complete migration, the vault's answers
read by `promote run` (the local host runs the vault watcher's rounds)."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
import yaml

from shared.local.cli import main
from tests.conftest import LOCAL_QUEUE, POISON_QUEUE, SCHEDULE_TABLE
from tests.migrate.conftest import VAULT, VNET
from tests.routing.conftest import ArmSettings, Naps

OPS, ANA = "ops@contoso.com", "ana@contoso.com"


@pytest.fixture
def stack_on_vault(vault, credential, azurite, tmp_path):
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import Settings, load_settings

    base = load_settings(
        {
            "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "PROMOTE_HOME": str(tmp_path / ".promote"),
            "PROMOTE_ARM_ENDPOINT": vault.url,
        }
    )
    values = {f.name: getattr(base, f.name) for f in fields(Settings)}
    stack = Stack(ArmSettings(**values, arm_credential=credential, arm_sleep=Naps()))
    for name in (LOCAL_QUEUE, POISON_QUEUE):
        stack.queue(name).clear_messages()
    for row in stack.table(SCHEDULE_TABLE).list_entities():
        stack.table(SCHEDULE_TABLE).delete_entity(row["PartitionKey"], row["RowKey"])
    use_stack(stack)
    yield stack
    use_stack(None)


def promote(capsys, *argv: str, expect: int = 0) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == expect, f"promote {' '.join(argv)} -> {code}\n{out}\n{err}"
    return out + err


def test_import_csv_writes_a_plan_apply_takes(stack_on_vault, release_name, tmp_path, capsys):
    sheet = tmp_path / "wave.csv"
    sheet.write_text(
        "Workload,Asset,Owner\npayroll,vm-payroll-web-01,ana\npayroll,vm-payroll-db-01,ana\ncrm,vm-crm-01,bo\n"
    )
    plan = tmp_path / "plan.yaml"
    said = promote(capsys, "import", "csv", str(sheet), "--release", release_name, "-o", str(plan))
    assert "2 workload(s), 3 machine(s)" in said and "promote apply" in said
    doc = yaml.safe_load(plan.read_text())
    assert [(w["name"], w["assets"], w["routing"]) for w in doc["workloads"]] == [
        ("payroll", ["vm-payroll-web-01", "vm-payroll-db-01"], {"provider": "local"}),
        ("crm", ["vm-crm-01"], {"provider": "local"}),
    ]
    assert "registered" in promote(capsys, "apply", str(plan))


def test_import_csv_names_bad_rows_with_their_lines_and_writes_nothing(stack_on_vault, tmp_path, capsys):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("workload,machine\npayroll,vm-1\nPay Roll,vm-2\ncrm,\ncrm,vm-1\n")
    out = promote(capsys, "import", "csv", str(sheet), "-o", str(tmp_path / "p.yaml"), expect=2)
    assert f"{sheet}:3: workload 'Pay Roll'" in out and f"{sheet}:4: machine ''" in out
    assert f"{sheet}:5: machine vm-1 is already in workload payroll" in out
    assert not (tmp_path / "p.yaml").exists()
    headless = tmp_path / "headless.csv"
    headless.write_text("name,server\npayroll,vm-1\n")
    assert "needs columns workload and machine" in promote(capsys, "import", "csv", str(headless), expect=2)


def status(capsys, release: str) -> dict:
    return json.loads(promote(capsys, "status", "--release", release, "--json"))


def run(capsys) -> None:
    promote(capsys, "run", "--until-idle", "--wait", "0.5", "--quiet")


def test_a_release_of_azure_migrate_machines_from_import_to_complete_migration(
    vault, stack_on_vault, release_name, tmp_path, capsys
):
    for machine in ("vm-payroll-web-01", "vm-payroll-db-01"):
        vault.add_machine(VAULT, machine, tags={"group": "payroll"})
    vault.add_machine(VAULT, "vm-crm-01", tags={"group": "crm"})
    path = tmp_path / "plan.yaml"
    promote(capsys, "import", "azure-migrate", "--vault", VAULT, "--group", "payroll", "--release", release_name,
            "-o", str(path))  # fmt: skip
    plan = yaml.safe_load(path.read_text())
    assert plan["source"]["vault"] == VAULT and sorted(plan["workloads"][0]["assets"]) == [
        "vm-payroll-db-01", "vm-payroll-web-01"]  # fmt: skip
    plan |= {"operators": [OPS], "approvers": [ANA], "rehearsal": {"network": VNET, "required": True, "max_age": "14d"}}
    path.write_text(yaml.safe_dump(plan))
    promote(capsys, "apply", str(path))
    who = ["--release", release_name, "--workload", "payroll"]

    run(capsys)  # the vault says both machines are in delta sync: nobody sends asset-replicated
    promote(capsys, "send", "tests-passed", *who)
    run(capsys)
    [w] = status(capsys, release_name)["workloads"]
    assert w["state"] == "ready" and [g["gate"] for g in w["waiting_for"]] == ["rehearsal", "migration-job"]

    promote(capsys, "rehearse", *who, "--actor", OPS, "--reason", "dress rehearsal")
    run(capsys)
    assert sorted(vault.started()) == [("vm-payroll-db-01", "TestMigrate"), ("vm-payroll-web-01", "TestMigrate")]
    vault.end_jobs("TestMigrate")
    run(capsys)
    [w] = status(capsys, release_name)["workloads"]
    assert w["rehearsal"]["state"] == "running" and len(w["rehearsal"]["job"].split(",")) == 2
    promote(capsys, "send", "rehearsal-passed", *who, "--suite", "smoke")
    run(capsys)
    assert vault.started()[-1][1] == "TestMigrateCleanup"
    vault.end_jobs("TestMigrateCleanup")
    run(capsys)  # cleaned up: the migration starts, the source shut down first; users not moved yet
    assert [a for _, a in vault.started()].count("Migrate") == 2
    migrate_body = next(c.body for c in vault.log if c.path.endswith("/migrate"))
    assert migrate_body["properties"]["providerSpecificDetails"]["performShutdown"] == "true"
    [w] = status(capsys, release_name)["workloads"]
    assert (w["state"], w["traffic_percent"], w["migration"]["state"]) == ("ready", 0, "running")

    vault.end_jobs("Migrate")
    run(capsys)
    [w] = status(capsys, release_name)["workloads"]
    assert (w["state"], w["traffic_percent"], w["migration"]["state"]) == ("promoted", 100, "succeeded")
    assert not any(a == "DisableMigration" for _, a in vault.started())  # never before finalize

    promote(capsys, "override", "finalize", *who, "--actor", ANA, "--reason", "cutover done")
    run(capsys)
    [w] = status(capsys, release_name)["workloads"]
    assert w["state"] == "finalized" and w["migration"]["completion"]["state"] == "running"
    vault.end_jobs("DisableMigration")
    run(capsys)
    [w] = status(capsys, release_name)["workloads"]
    assert w["migration"]["completion"]["state"] == "succeeded"
    assert [m["properties"]["machineName"] for m in vault.items.values()] == ["vm-crm-01"]
    assert [a for _, a in vault.started()] == ["TestMigrate"] * 2 + ["TestMigrateCleanup"] * 2 + ["Migrate"] * 2 + [
        "DisableMigration"] * 2  # fmt: skip  # every job started exactly once
