"""Azure Migrate's item states read by the adapter (shared/adapters/migrate): where an operation stands, which
job is an operation's own, and when a machine's last recovery point came (items as Resource Manager sends them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.adapters.migrate import _job, _name, _received, _state, _under_way
from shared.domain.migration import CLEANUP, COMPLETE, MIGRATE, TEST_MIGRATE


def item(migration: str = "Replicating", test: str = "None", current: str | None = None, history=(), **more) -> dict:
    props: dict = {"migrationState": migration, "testMigrateState": test, **more}
    if current is not None:
        props["currentJob"] = {"jobName": current}
    if history:
        props["criticalJobHistory"] = [{"jobName": h, "jobStatus": "Succeeded"} for h in history]
    return {"name": "vm-web-01-1a2b", "properties": props}


def test_a_machine_is_named_by_its_machine_name_else_its_item():
    assert _name(item(machineName="vm-web-01")) == "vm-web-01"
    assert _name(item()) == "vm-web-01-1a2b"
    assert _name({"properties": None}) == ""


def test_a_state_is_read_lower_case_and_nothing_is_empty():
    assert _state(item("MigrationSucceeded"), "migrationState") == "migrationsucceeded"
    assert _state(item(), "health") == ""
    assert _state(None, "migrationState") == ""


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-12-07T10:15:30.1234567Z", datetime(2026, 12, 7, 10, 15, 30, 123456, tzinfo=UTC)),
        ("2026-12-07T10:15:30", datetime(2026, 12, 7, 10, 15, 30, tzinfo=UTC)),  # naive: UTC
        ("2026-12-07T12:15:30+02:00", datetime(2026, 12, 7, 10, 15, 30, tzinfo=UTC)),
        (datetime(2026, 12, 7, 10, 15), datetime(2026, 12, 7, 10, 15, tzinfo=UTC)),
        (None, None),  # none yet: initial seeding
        ("soon", None),
    ],
)
def test_the_last_recovery_point_is_a_utc_time_or_none(value, moment):
    got = _received({"lastRecoveryPointReceived": value} if value is not None else {})
    assert got == moment and (got is None or got.tzinfo is not None)


@pytest.mark.parametrize(
    ("op", "migration", "test", "stands"),
    [
        (TEST_MIGRATE, "Replicating", "None", None),
        (TEST_MIGRATE, "Replicating", "TestMigrationInProgress", "running"),
        (TEST_MIGRATE, "Replicating", "TestMigrationSucceeded", "succeeded"),
        (TEST_MIGRATE, "Replicating", "TestMigrationCompletedWithInformation", "succeeded"),
        (TEST_MIGRATE, "Replicating", "TestMigrationPartiallySucceeded", "succeeded"),
        (TEST_MIGRATE, "Replicating", "TestMigrationFailed", "failed"),
        (TEST_MIGRATE, "Replicating", "TestMigrationCleanupInProgress", None),
        (CLEANUP, "Replicating", "TestMigrationCleanupInProgress", "running"),
        (CLEANUP, "Replicating", "None", "succeeded"),
        (CLEANUP, "Replicating", "", "succeeded"),
        (CLEANUP, "Replicating", "TestMigrationSucceeded", None),
        (MIGRATE, "Replicating", "None", None),
        (MIGRATE, "MigrationInProgress", "None", "running"),
        (MIGRATE, "MigrationSucceeded", "None", "succeeded"),
        (MIGRATE, "MigrationCompletedWithInformation", "None", "succeeded"),
        (MIGRATE, "MigrationPartiallySucceeded", "None", "succeeded"),
        (MIGRATE, "MigrationFailed", "None", "failed"),
        (COMPLETE, "MigrationSucceeded", "None", None),
        (COMPLETE, "DisableMigrationInProgress", "None", "running"),
        (COMPLETE, "DisableMigrationFailed", "None", "failed"),
    ],
)
def test_where_an_operation_stands_from_the_items_states(op, migration, test, stands):
    assert _under_way(item(migration, test), op) == stands


def test_a_completed_migration_is_an_item_gone():
    assert _under_way(None, COMPLETE) == "succeeded"
    assert _under_way(None, TEST_MIGRATE) is None
    assert _under_way(None, MIGRATE) is None


def test_a_running_operations_job_is_the_current_one():
    assert _job(item(current="job-3", history=["job-1", "job-2"]), TEST_MIGRATE, "running") == "job-3"
    assert _job(item(current="None", history=["job-1", "job-2"]), TEST_MIGRATE, "running") == "job-2"
    assert _job(item(current="job-3", history=["job-1", "job-2"]), TEST_MIGRATE, "succeeded") == "job-2"
    assert _job(item(current="None"), TEST_MIGRATE, "succeeded") is None
    assert _job(item(history=["job-1"]), MIGRATE, None) == "job-1"


def test_a_cleanup_over_while_the_migrate_it_started_is_over_too_is_the_job_before_the_last():
    migrated = item("MigrationSucceeded", current="None", history=["test", "cleanup", "migrate"])
    assert _job(migrated, CLEANUP, "succeeded") == "cleanup"
    failed = item("MigrationFailed", current="None", history=["test", "cleanup", "migrate"])
    assert _job(failed, CLEANUP, "succeeded") == "cleanup"
    # the migrate still running: the current job is the migrate's, the last finished the clean-up's
    running = item("MigrationInProgress", current="migrate", history=["test", "cleanup"])
    assert _job(running, CLEANUP, "succeeded") == "cleanup"
    # only a clean-up looks past the last job, and only once the migrate is over
    assert _job(migrated, MIGRATE, "succeeded") == "migrate"
    assert _job(item("Replicating", current="None", history=["test", "cleanup"]), CLEANUP, "succeeded") == "cleanup"
    history_without_names = item(current="None", history=["a"])
    history_without_names["properties"]["criticalJobHistory"].append({"jobStatus": "Succeeded"})
    assert _job(history_without_names, TEST_MIGRATE, "succeeded") == "a"
