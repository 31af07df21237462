"""The reasons history shows for Azure Migrate's rules (shared/domain/machine/rules/migrate.py) that no other
test reads in full: refused verdicts, stale and repeated job reports, a rehearsal that cleans up first, the
completion at finalize, and the warnings of abort and rollback."""

from __future__ import annotations

from shared.domain.times import ms
from tests.unit.test_machine import Driver, make_plan
from tests.unit.test_migrate import MigrateDriver, migrate_plan
from tests.unit.test_pin_migrate_rules import said


def test_verdicts_without_a_rehearsal_section_or_before_a_rehearsal_are_refused():
    assert said(Driver(make_plan("single-step")).send("rehearsal-passed")) == [
        ("rejected", "the plan has no rehearsal section")
    ]
    d = MigrateDriver(migrate_plan())
    d.ready()
    assert said(d.send("rehearsal-failed")) == [("rejected", "no rehearsal was started (promote rehearse)")]


def test_job_reports_that_are_stale_repeated_or_new():
    d = MigrateDriver(migrate_plan())
    d.ready()
    assert said(d.send("migration-job", op="test-migrate-cleanup", state="running", job="j", started_ms=0)) == [
        ("ignored", "test migration clean-up result is stale (the test migration clean-up is not started)")
    ]
    d.override("rehearse")
    started = ms(d.wl().rehearsal_at)
    assert said(*d.watch()) == [("applied", "test migration running: job job-1,job-2")]
    assert said(d.send("migration-job", op="test-migrate", state="running", job="job-1,job-2", started_ms=started)) == [
        ("ignored", "test migration still running (job job-1,job-2)")
    ]
    assert said(d.send("migration-job", op="test-migrate", state="running", job="job-9", started_ms=started)) == [
        ("applied", "test migration running: job job-9")
    ]
    assert d.wl().test_job == "job-9"


def test_a_rehearsal_whose_test_vms_remain_cleans_them_up_first():
    d = MigrateDriver(migrate_plan())
    d.rehearsed_then_clean_up_failed("locked")
    d.watch()
    assert said(d.override("rehearse")) == [
        (
            "applied",
            "the last rehearsal's test VMs are cleaned up first (Azure Migrate refuses a test migration before); "
            "rehearse again once that is done; network: Azure Migrate test-migrate-cleanup of 2 machine(s): "
            "vm-a job-5, vm-b job-6",
        )
    ]
    assert (d.wl().cleanup, d.wl().test_migration) == ("running", "succeeded")
    assert said(*d.watch()) == [("applied", "test migration clean-up running: job job-5,job-6")]


def test_abort_waits_for_the_migration_and_rollback_warns_the_source_is_off():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    assert said(d.override("abort")) == [
        (
            "rejected",
            "the migration is running (the source is being shut down and migrated): abort once its job has ended",
        )
    ]
    d.vault.finish("migrate")
    d.watch()
    assert said(d.send("complete-migration", finalized_ms=0)) == [
        ("ignored", "complete-migration is stale (the workload is promoted)")
    ]
    assert said(d.override("rollback")) == [
        (
            "applied",
            "rolled back to 0% by hand; WARNING: the link to the source was severed, changes made since promotion "
            "are not on the source; WARNING: Azure Migrate shut the source down at migration: start it again "
            "before users return -> rolled-back (0%); network: fake r1/w1: share 100 -> 0",
        )
    ]


def test_finalize_completes_the_migration_once():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    d.vault.finish("migrate")
    d.watch()
    d.finalize()
    assert said(*d.tick(0)) == [
        (
            "applied",
            "completing the migration (replication stops, replica disks go); network: Azure Migrate "
            "complete-migration of 2 machine(s): vm-a job-3, vm-b job-4",
        )
    ]
    assert said(d.send("complete-migration", finalized_ms=ms(d.wl().finalized_at))) == [
        ("ignored", "the completion is running already")
    ]
