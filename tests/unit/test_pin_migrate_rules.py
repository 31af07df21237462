"""Azure Migrate's rules through the service (shared/domain/machine/rules/migrate.py): the rehearsal, the
cutover's migration and its failure, with the exact reasons history shows at each step."""

from __future__ import annotations

from tests.unit.test_migrate import MigrateDriver, migrate_plan


def said(*results) -> list[tuple[str, str]]:
    return [(str(r.outcome), r.reason) for r in results]


def test_a_rehearsal_then_the_migration_then_the_move():
    d = MigrateDriver(migrate_plan())
    d.ready()
    [started] = said(d.override("rehearse"))
    plan = d.wl().rehearsal_hash
    assert started == (
        "applied",
        "rehearsal started by ops@contoso.com: test migration of 2 machine(s) into vnet-test "
        f"(plan {plan}); test VMs cleaned up at the verdict or by 2026-11-27T02:00:00Z; network: Azure Migrate "
        "test-migrate of 2 machine(s): vm-a job-1, vm-b job-2",
    )
    assert said(d.override("rehearse"), d.send("rehearsal-passed")) == [
        ("ignored", "a rehearsal is under way (started 2026-11-26T22:00:00Z by ops@contoso.com)"),
        ("rejected", "the test migration is still running: its test VMs are not ready for tests"),
    ]
    d.vault.finish("test-migrate")
    assert said(*d.watch()) == [
        (
            "applied",
            "test migration succeeded (job job-1,job-2): the test VMs are up for the test pipeline "
            "(rehearsal-passed / -failed)",
        )
    ]
    assert said(d.send("rehearsal-passed", suite="smoke", run="42")) == [
        (
            "applied",
            f"rehearsal passed (suite smoke run 42), plan {plan}: cleaning up the test VMs; network: Azure Migrate "
            "test-migrate-cleanup of 2 machine(s): vm-a job-3, vm-b job-4",
        )
    ]
    d.vault.finish("test-migrate-cleanup")
    assert said(*d.watch()) == [
        (
            "applied",
            "test VMs cleaned up (job job-3,job-4); nothing else holds the cutover: Azure Migrate migrates (source "
            "shut down); network: Azure Migrate migrate of 2 machine(s): vm-a job-5, vm-b job-6",
        )
    ]
    d.vault.finish("migrate")
    assert said(*d.watch())[-1] == (
        "applied",
        "migrated (job job-5,job-6): Azure Migrate's migrate succeeded; users move next -> promoted (100%); "
        "network: fake r1/w1: share 0 -> 100",
    )
    assert said(d.override("rehearse")) == [
        ("rejected", "nothing to rehearse: the workload is promoted, its migration succeeded")
    ]
    _, done = d.finalize()
    assert said(done) == [
        (
            "applied",
            "turning the source off (finalize requested by ana@contoso.com) -> finalized; the migration is completed "
            "next (Azure Migrate: replication stops); source: source of w1 powered off",
        )
    ]


def test_a_failed_migration_moves_nothing():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    d.vault.finish("migrate", ok=False, error="appliance offline")
    assert said(*d.watch()) == [
        (
            "applied",
            "Azure Migrate's migration failed (job job-1,job-2): vm-a: appliance offline; vm-b: appliance offline; "
            "nothing moved, users stay on the source; the source may be shut down; override retry starts it again",
        )
    ]
    assert (d.wl().state, d.routed()) == ("ready", 0)


def test_the_cleanup_deadline_without_a_verdict():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    assert said(*d.tick(4 * 3600)) == [
        ("ignored", "cleanup_after: the test migration still runs; looked at again at 2026-11-27T02:10:00Z")
    ]
    d.vault.finish("test-migrate")
    d.watch()
    assert said(*d.tick(600)) == [
        (
            "applied",
            "cleanup_after reached without a verdict: cleaning the test VMs up; network: Azure Migrate "
            "test-migrate-cleanup of 2 machine(s): vm-a job-3, vm-b job-4",
        )
    ]
    assert said(d.send("rehearsal-failed", suite="s")) == [
        ("ignored", "its test VMs were cleaned up at cleanup_after, before a verdict: rehearse again")
    ]


def test_rehearse_needs_the_sections():
    from tests.unit.test_machine import Driver, make_plan

    d = Driver(make_plan("single-step"))
    assert said(d.override("rehearse")) == [
        ("rejected", "rehearse needs the plan's source (azure-migrate) and rehearsal sections")
    ]


def test_a_cutover_that_leaves_the_source_running_says_so():
    """`shutdown_source: false`: the migrate keeps the source up, and the history must not say otherwise."""
    plan = migrate_plan(required=False)
    plan["source"] = {**plan["source"], "shutdown_source": False}
    d = MigrateDriver(plan)
    d.watch()  # asset-replicated from the vault
    assert said(d.send("tests-passed")) == [
        (
            "applied",
            "tests passed -> ready; nothing else holds the cutover: Azure Migrate migrates (source left running); "
            "network: Azure Migrate migrate of 2 machine(s): vm-a job-1, vm-b job-2",
        )
    ]
