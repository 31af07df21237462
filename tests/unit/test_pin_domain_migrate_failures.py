"""What each failed Azure Migrate operation leaves on the workload (shared/domain/machine/rules/migrate.py
`_failed`): the operation's state, why it is stuck, the error kept for a retry, and whether the reason warns
that the source may be off; and the clean-up timers that find nothing to do (`on_cleanup_due`)."""

from __future__ import annotations

import json

from shared.domain import messages as m
from shared.domain.machine.decide import decide
from shared.domain.model import Outcome
from shared.domain.times import ms
from tests.unit.test_migrate import VAULT, MigrateDriver, migrate_plan
from tests.unit.test_pin_migrate_rules import said

BOTH = "vm-a: {0}; vm-b: {0}"  # the vault's error of each machine, as the watcher reports a failed job


def _fields(d: MigrateDriver, *names: str) -> tuple:
    w = d.wl()
    return tuple(getattr(w, n) for n in names)


def test_a_failed_test_migration_fails_the_rehearsal_and_cleans_up():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate", ok=False, error="no capacity")
    assert said(*d.watch()) == [
        (
            "applied",
            f"rehearsal failed: test migration failed (job job-1,job-2): {BOTH.format('no capacity')}; cleaning up; "
            "network: Azure Migrate test-migrate-cleanup of 2 machine(s): vm-a job-3, vm-b job-4",
        )
    ]
    assert _fields(d, "test_migration", "rehearsal_verdict", "rehearsal_note", "cleanup", "stuck") == (
        "failed",
        "failed",
        f"test migration: {BOTH.format('no capacity')}",
        "running",
        None,
    )


def test_a_failed_clean_up_is_stuck_and_says_how_to_clean_up_again():
    d = MigrateDriver(migrate_plan())
    d.rehearsed_then_clean_up_failed("locked")
    why = (
        f"the rehearsal's test VMs remain: clean-up failed (job job-3,job-4): {BOTH.format('locked')}; "
        "promote rehearse cleans up again"
    )
    assert said(*d.watch()) == [("applied", why)]
    assert _fields(d, "test_migration", "cleanup", "stuck") == ("succeeded", "failed", why)


def test_a_failed_migration_with_the_source_kept_on_keeps_its_error_for_the_retry():
    kept_on = {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": False}
    d = MigrateDriver(migrate_plan(required=False, source=kept_on))
    d.ready()
    d.vault.finish("migrate", ok=False, error="appliance offline")
    error = BOTH.format("appliance offline")
    why = f"Azure Migrate's migration failed (job job-1,job-2): {error}; nothing moved, users stay on the source"
    assert said(*d.watch()) == [("applied", f"{why}; override retry starts it again")]
    assert _fields(d, "state", "migration", "migration_error", "stuck") == ("ready", "failed", error, why)
    [(outcome, reason)] = said(d.override("retry"))
    assert (outcome, reason.split("; nothing else holds")[0]) == (
        "applied",
        f"retry: the migration starts again (last: {error})",
    )
    assert _fields(d, "migration", "migration_error", "stuck") == ("running", None, None)


def test_a_failed_completion_is_stuck_and_finalize_completes_again():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    d.vault.finish("migrate")
    d.watch()
    d.finalize()
    d.tick(0)
    d.vault.finish("complete-migration", ok=False, error="disk locked")
    why = (
        f"complete migration failed (job job-3,job-4): {BOTH.format('disk locked')}; replication goes on (replica "
        "disks billed); finalize retries"
    )
    assert said(*d.watch()) == [("applied", why)]
    assert _fields(d, "state", "completion", "stuck") == ("finalized", "failed", why)
    request, _ = d.finalize()
    assert said(request) == [
        (
            "applied",
            "complete the migration again; network: Azure Migrate complete-migration of 2 machine(s): vm-a job-5, "
            "vm-b job-6",
        )
    ]
    assert _fields(d, "completion") == ("running",)


def test_the_clean_up_timer_of_an_earlier_rehearsal_changes_nothing():
    d = MigrateDriver(migrate_plan(approval="manual"))  # approval holds the cutover: rehearse twice
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    d.send("rehearsal-passed")
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    d.w.clock.advance(60)
    d.override("rehearse")
    assert said(*d.tick(4 * 3600 - 60)) == [("ignored", "clean-up timer of an earlier rehearsal")]
    assert _fields(d, "test_migration", "cleanup") == ("running", None)


def test_a_clean_up_timer_with_no_test_vms_to_clean_up_changes_nothing():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    release = d.release
    w = release.workloads["w1"]
    release = release.evolve(workloads={"w1": w.evolve(test_migration=None)})  # no test migration ran
    now = d.w.clock.now()
    data = {"release": "r1", "workload": "w1", "started_ms": ms(w.rehearsal_at)}
    event = m.new_event(m.REHEARSAL_CLEANUP_TYPE, data, id="t1", source="promote", time=now)
    decision = decide(release, m.parse_message(json.dumps(event)), now)
    assert [(e.outcome, e.reason) for e in decision.entries] == [
        (Outcome.IGNORED, "cleanup_after: the rehearsal left no test VMs")
    ]
    assert decision.effects == []


def test_a_clean_up_timer_that_arrives_early_is_rescheduled_not_acted_on():
    """Every other timer re-schedules itself when it arrives before its time (the local queue holds a message at
    most 7 days less a minute, and cleanup_after may be 7 days): the clean-up timer cleaned the test VMs up
    whenever it came, under a verdict that could still arrive."""
    from datetime import timedelta

    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    w = d.release.workloads["w1"]
    due = w.rehearsal_at + timedelta(hours=4)  # the plan's cleanup_after
    early = due - timedelta(seconds=60)
    data = {"release": "r1", "workload": "w1", "started_ms": ms(w.rehearsal_at)}
    event = m.new_event(m.REHEARSAL_CLEANUP_TYPE, data, id="t1", source="promote/timer", time=early)
    decision = decide(d.release, m.parse_message(json.dumps(event)), early)
    [entry] = decision.entries
    assert entry.outcome == Outcome.IGNORED and "early" in entry.reason, entry.reason
    assert decision.release.workloads["w1"].cleanup is None
    [timer] = decision.effects
    assert (timer.type, timer.due, timer.data) == (
        m.REHEARSAL_CLEANUP_TYPE,
        due,
        {"workload": "w1", "started_ms": ms(w.rehearsal_at)},
    )
