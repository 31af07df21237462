"""A workload on Azure Migrate (`source.provider: azure-migrate`) with a data-sync gate (contract §8, v3 §16):
the lag comes from its machines' migration items (the time since each one's last recovery point), nobody sends
replication-lag; a lagging machine holds the cutover (the migration does not start), a fresh recovery point
releases it, and once Azure Migrate's migrate succeeded (the final replication, the source shut down) the
replication is over: a lag report gone stale meanwhile does not hold the move onto Azure."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.finishing import finish_holds
from tests.unit.test_migrate import MigrateDriver, migrate_plan

SYNC = {"max_lag": "10m", "max_age": "5m"}


def synced_plan(**extra) -> dict:
    workload = {"name": "w1", "assets": ["a", "b"], "machines": ["vm-a", "vm-b"], "data_sync": SYNC}
    return migrate_plan(required=False, workloads=[workload], **extra)


def holds(d: MigrateDriver) -> list[str]:
    return [h.gate for h in finish_holds(d.release, d.wl(), d.w.clock.now())]


def test_the_migration_items_recovery_points_hold_and_release_the_cutover_then_the_migration_ends_the_sync():
    d = MigrateDriver(synced_plan())
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(minutes=20), "vm-b": now - timedelta(minutes=1)}
    assert d.ready().state == "ready"
    w = d.wl()
    assert w.lag_seconds == 20 * 60 and w.lag_at == now  # the worst machine's, measured by the round
    assert holds(d) == ["data-sync"]
    assert d.vault.started == [] and d.routed() == 0  # the lagging machine holds the cutover

    d.w.clock.advance(30)
    d.vault.points["vm-a"] = d.w.clock.now() - timedelta(seconds=40)  # a delta cycle ended: a new recovery point
    d.watch()
    assert d.wl().lag_seconds == 90  # vm-b's recovery point is now the oldest
    assert [op for _, op in d.vault.started] == ["migrate", "migrate"] and d.wl().migration == "running"

    d.w.clock.advance(45 * 60)  # the final replication takes a while: the last lag report goes stale meanwhile
    d.vault.finish("migrate")
    d.watch()
    assert d.wl().state == "promoted" and d.routed() == 100, holds(d)


def test_a_stalled_replication_closes_the_gate_again_before_the_cutover():
    d = MigrateDriver(synced_plan(approval="manual"))
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(seconds=30), "vm-b": now - timedelta(seconds=30)}
    d.ready()
    assert "data-sync" not in holds(d)
    d.w.clock.advance(20 * 60)  # no new recovery point for 20 minutes: the replica is 20m30s behind
    d.watch()
    assert d.wl().lag_seconds == 20 * 60 + 30
    assert holds(d) == ["data-sync"] and d.vault.started == []


def test_a_machine_migrated_before_its_partner_failed_does_not_hold_the_retry_forever():
    """One machine migrated, the other's migrate failed: the migrated one's last recovery point is its final
    replication's and never moves again; it is not a lag (the other machine's replication goes on), so the
    data-sync gate does not hold the retry for ever."""
    d = MigrateDriver(synced_plan())
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(seconds=30), "vm-b": now - timedelta(seconds=30)}
    d.ready()
    assert d.wl().migration == "running"
    d.vault.finish("migrate", only=("vm-a",))
    d.vault.finish("migrate", ok=False, error="appliance offline", only=("vm-b",))
    d.watch()
    assert d.wl().migration == "failed"

    d.w.clock.advance(30 * 60)  # vm-b replicates on; vm-a's last recovery point stays the final replication's
    d.vault.points["vm-b"] = d.w.clock.now() - timedelta(seconds=20)
    d.watch()
    assert d.wl().lag_seconds == 20 and "data-sync" not in holds(d)
    assert d.override("retry").outcome == "applied"
    assert d.wl().migration == "running"
    assert [m for m, op in d.vault.started if op == "migrate"] == ["vm-a", "vm-b", "vm-b"]
