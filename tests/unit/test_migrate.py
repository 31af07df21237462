"""Contract v3 §16 through the service with fakes: the rehearsal (test migration, verdict, clean-up), the
`rehearsal` and `migration-job` gates, the cutover through Azure Migrate's migrate before routing moves, and
finalize completing the migration. The vault's answers come as the watcher publishes them."""

from __future__ import annotations

import json

import pytest

from shared.application import migrate_watch
from shared.domain.errors import PlanError
from shared.domain.gates import describe, waiting_for
from shared.domain.plan import validate_plan
from tests.migrate.fake_migrator import FakeMigrator
from tests.unit.test_machine import APPROVER, OPERATOR, Driver, make_plan

SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-mig/providers/Microsoft.RecoveryServices/vaults/vault-mig"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test"


def migrate_plan(model: str = "single-step", required: bool = True, **extra) -> dict:
    sections = {
        "source": {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": True},
        "rehearsal": {"network": VNET, "required": required, "max_age": "14d", "cleanup_after": "4h"},
        "workloads": [{"name": "w1", "assets": ["a", "b"], "machines": ["vm-a", "vm-b"]}],
    }
    return make_plan(model, **(sections | extra))


class MigrateDriver(Driver):
    def __init__(self, plan: dict):
        super().__init__(plan)
        self.vault = FakeMigrator()
        self.vault.add("vm-a", "vm-b", "vm-c")
        self.w.service.migrator = self.vault

    def watch(self) -> list:
        """One watcher round, its events handled; their outcomes."""
        published: list[dict] = []
        migrate_watch.poll(self.w.store, self.vault, published.append, self.w.clock.now())
        return [self.w.service.handle(json.dumps(e)) for e in published]

    def ready(self):
        self.watch()  # asset-replicated from the vault
        self.send("tests-passed")
        return self.wl()

    def gates(self) -> list[str]:
        return [g.gate for g in waiting_for(self.release, self.wl(), self.w.clock.now())]

    def rehearsed_then_clean_up_failed(self, error: str) -> None:
        """Ready, rehearsed, passed; the vault's clean-up of the test VMs fails with `error` (not yet watched)."""
        self.ready()
        self.override("rehearse")
        self.vault.finish("test-migrate")
        self.watch()
        self.send("rehearsal-passed")
        self.vault.finish("test-migrate-cleanup", ok=False, error=error)


def test_a_required_rehearsal_holds_the_cutover_until_it_passes_then_migrate_runs_before_routing():
    d = MigrateDriver(migrate_plan())
    assert d.ready().state == "ready"
    assert d.gates() == ["rehearsal", "migration-job"] and d.routed() == 0 and d.vault.started == []
    gate = waiting_for(d.release, d.wl(), d.w.clock.now())[0]
    assert "no rehearsal yet (promote rehearse)" in describe(gate)

    result = d.override("rehearse")
    assert result.outcome == "applied", result
    assert d.vault.started == [("vm-a", "test-migrate"), ("vm-b", "test-migrate")]
    assert d.wl().rehearsal_hash and d.wl().test_migration == "running"
    assert d.send("rehearsal-passed").outcome == "rejected"  # test VMs not up yet
    d.vault.finish("test-migrate")
    d.watch()
    assert d.wl().test_migration == "succeeded" and d.wl().test_job == "job-1,job-2"
    assert d.send("rehearsal-passed", suite="smoke", run="42").outcome == "applied"
    assert ("vm-a", "test-migrate-cleanup") in d.vault.started
    assert d.gates() == ["migration-job"] and d.vault.started[-1][1] == "test-migrate-cleanup"
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    # cleaned up: nothing holds the cutover, migrate starts (the source shut down first); users stay put
    assert d.wl().migration == "running" and d.routed() == 0
    assert [op for _, op in d.vault.started].count("migrate") == 2
    assert d.gates() == ["migration-job"]
    d.vault.finish("migrate")
    d.watch()
    assert d.wl().state == "promoted" and d.routed() == 100
    status = d.release.workloads["w1"]
    assert status.rehearsal_verdict == "passed" and status.migration == "succeeded"


def test_a_failed_migration_moves_nothing_says_why_and_retry_starts_it_again():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    assert d.wl().migration == "running"  # no rehearsal required: the cutover migrates at once
    d.vault.finish("migrate", ok=False, error="final replication failed: appliance offline")
    d.watch()
    w = d.wl()
    assert w.state == "ready" and d.routed() == 0 and w.migration == "failed"
    assert "appliance offline" in (w.stuck or "")
    assert d.override("retry").outcome == "applied"
    assert d.wl().migration == "running"
    assert [op for _, op in d.vault.started].count("migrate") == 4  # each machine's failed job started again


def test_a_host_crash_after_migrate_and_before_the_commit_starts_nothing_twice_on_redelivery():
    d = MigrateDriver(migrate_plan(required=False))
    d.watch()
    body = (
        '{"specversion":"1.0","id":"t1","source":"test","type":"tests-passed","data":{"release":"r1","workload":"w1"}}'
    )
    real_commit, crashes = d.w.store.commit, []

    def crash_once(*args, **kwargs):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("host killed before the commit")
        return real_commit(*args, **kwargs)

    d.w.store.commit = crash_once
    with pytest.raises(RuntimeError):
        d.w.service.handle(body)
    assert [op for _, op in d.vault.started] == ["migrate", "migrate"] and d.wl().migration is None
    assert d.w.service.handle(body).outcome == "applied"  # the redelivery: the jobs are found under way
    assert [op for _, op in d.vault.started] == ["migrate", "migrate"] and d.wl().migration == "running"


def test_the_cleanup_deadline_cleans_up_without_a_verdict_and_a_stale_rehearsal_does_not_count():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    d.tick(4 * 3600)  # cleanup_after
    assert d.wl().cleanup == "running"
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    assert d.release.workloads["w1"].cleanup == "succeeded"
    assert d.send("rehearsal-passed").outcome == "ignored"
    gate = waiting_for(d.release, d.wl(), d.w.clock.now())[0]
    assert gate.gate == "rehearsal" and "the last rehearsal cleaned" in describe(gate)


def test_an_old_rehearsal_holds_the_cutover_again():
    d = MigrateDriver(migrate_plan(approval="manual"))
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    d.send("rehearsal-passed")
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    d.tick(15 * 24 * 3600)
    assert d.override("approve", APPROVER).outcome == "applied"
    gate = next(g for g in waiting_for(d.release, d.wl(), d.w.clock.now()) if g.gate == "rehearsal")
    assert "older than max_age" in describe(gate) and d.wl().migration is None


def test_finalize_completes_the_migration_and_not_before():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    assert all(op != "complete-migration" for _, op in d.vault.started)
    d.vault.finish("migrate")
    d.watch()
    assert d.wl().state == "promoted"
    d.finalize()
    assert d.wl().state == "finalized" and d.wl().completion is None  # committed first, then completed
    d.tick(0)
    assert d.wl().completion == "running"
    assert ("vm-a", "complete-migration") in d.vault.started
    d.vault.finish("complete-migration")
    d.watch()
    assert d.wl().completion == "succeeded"


def test_rehearse_is_for_operators_and_needs_the_sections():
    d = MigrateDriver(migrate_plan())
    d.ready()
    assert d.override("rehearse", actor="mallory@contoso.com").outcome == "rejected"
    plain = Driver(make_plan("single-step"))
    plain.replicate()
    assert plain.override("rehearse", OPERATOR).outcome == "rejected"


def test_a_vault_refusal_fails_the_message_and_records_nothing_as_started():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.vault.replicated["vm-b"] = False
    result = d.override("rehearse")
    assert d.wl().test_migration is None and d.wl().rehearsal_at is None
    assert "vm-b: not in delta sync" in result.reason


def test_the_plan_sections_are_checked():
    with pytest.raises(PlanError, match="rehearsal: .*needs source"):
        validate_plan(make_plan("single-step", rehearsal={"network": VNET}))
    with pytest.raises(PlanError, match=r"machines: names the machine of each asset"):
        validate_plan(migrate_plan(workloads=[{"name": "w1", "assets": ["a"], "machines": ["x", "y"]}]))
    with pytest.raises(PlanError, match="Recovery Services vault"):
        validate_plan(make_plan("single-step", source={"provider": "azure-migrate", "vault": "/nope"}))
    plan = validate_plan(make_plan("single-step", source={"provider": "azure-migrate", "vault": VAULT}))
    assert plan.workloads[0].machine_names == ["a", "b"] and plan.source.shutdown_source


def test_a_flight_is_refused_a_migrate_that_shuts_the_source_down_before_its_first_share():
    with pytest.raises(PlanError, match=r"source.shutdown_source: a flight moves users a share at a time"):
        validate_plan(make_plan("flight", source={"provider": "azure-migrate", "vault": VAULT}))
    kept_on = {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": False}
    assert validate_plan(make_plan("flight", source=kept_on)).source.shutdown_source is False


def test_staged_migrates_every_workload_once_all_are_ready_and_moves_the_release_when_all_succeeded():
    plan = migrate_plan(
        "staged",
        required=False,
        approval="auto",
        workloads=[
            {"name": "w1", "assets": ["a"], "machines": ["vm-a"]},
            {"name": "w2", "assets": ["b", "c"], "machines": ["vm-b", "vm-c"]},
        ],
    )
    d = MigrateDriver(plan)
    d.watch()
    d.send("tests-passed", "w1")
    assert d.vault.started == []  # w2 is not ready: nothing is migrated yet
    d.send("tests-passed", "w2")
    assert sorted(m for m, op in d.vault.started if op == "migrate") == ["vm-a", "vm-b", "vm-c"]
    d.vault.jobs[("vm-a", "migrate")][1] = "succeeded"
    d.watch()
    assert d.wl("w1").migration == "succeeded" and d.routed("w1") == 0  # the release moves at once
    d.vault.finish("migrate")
    d.watch()
    assert d.release.state == "promoted" and d.routed("w1") == d.routed("w2") == 100


def test_status_shows_each_workload_rehearsal_and_migration():
    from shared.application.views import status_json

    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    [w] = status_json(d.release, d.w.clock.now())["workloads"]
    assert w["rehearsal"]["state"] == "running" and w["rehearsal"]["job"] == "job-1,job-2"
    assert w["rehearsal"]["plan_hash"] == d.wl().rehearsal_hash and w["rehearsal"]["at"]
    assert w["migration"] == {
        "state": "none", "job": None, "at": None, "error": None, "completion": {"state": "none", "job": None},
    }  # fmt: skip
    assert [g["gate"] for g in w["waiting_for"]] == ["rehearsal", "migration-job"]
    plain = Driver(make_plan("single-step"))
    [p] = status_json(plain.release)["workloads"]
    assert p["rehearsal"] is None and p["migration"] is None


def test_a_failed_decommission_completes_nothing():
    d = MigrateDriver(migrate_plan(required=False, decommission={"provider": "local"}))
    d.ready()
    d.vault.finish("migrate")
    d.watch()
    d.w.decommissioner.down = True
    d.finalize()
    d.tick(0)
    assert d.wl().state == "promoted" and d.wl().completion is None
    assert all(op != "complete-migration" for _, op in d.vault.started)


def test_abort_waits_for_a_running_migration_and_rollback_warns_the_source_is_off():
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    refused = d.override("abort")
    assert refused.outcome == "rejected" and "migration is running" in refused.reason
    d.vault.finish("migrate")
    d.watch()
    rolled = d.override("rollback")
    assert rolled.outcome == "applied" and "shut the source down" in rolled.reason and d.routed() == 0


def test_a_failed_test_migration_fails_the_rehearsal_and_is_cleaned_up():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate", ok=False, error="no capacity in the test network")
    d.watch()
    w = d.wl()
    assert w.rehearsal_verdict == "failed" and "no capacity" in (w.rehearsal_note or "") and w.cleanup == "running"
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    assert d.override("rehearse").outcome == "applied"  # cleaned up: a new rehearsal may start
    assert d.wl().test_migration == "running" and d.wl().rehearsal_verdict is None


def test_a_failed_migration_with_a_long_error_is_recorded_failed_not_refused_as_an_invalid_report():
    """Azure Migrate's error is every failed machine's job error joined: past the 2,000 characters a migration-job
    message may carry, the watcher's report was refused as invalid on every round, and the workload showed its
    migration running for ever, its failure never recorded."""
    d = MigrateDriver(migrate_plan(required=False))
    d.ready()
    assert d.wl().migration == "running"
    d.vault.finish("migrate", ok=False, error="final replication failed: " + "appliance offline; " * 200)
    d.watch()
    w = d.wl()
    assert w.migration == "failed" and "appliance offline" in (w.stuck or "") and d.routed() == 0
    assert len(w.migration_error or "") <= 2000
