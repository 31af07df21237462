"""A workload on Azure Migrate (`source.provider: azure-migrate`) with a data-sync gate (contract §8, v3 §16):
the lag comes from its machines' migration items (the time since each one's last recovery point), nobody sends
replication-lag; a lagging machine holds the cutover (the migration does not start), a fresh recovery point
releases it, and once Azure Migrate's migrate succeeded (the final replication, the source shut down) the
replication is over: a lag report gone stale meanwhile does not hold the move onto Azure."""

from __future__ import annotations

import json
from datetime import timedelta

from shared.application import migrate_watch
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


def lag_events(d: MigrateDriver, now) -> list[dict]:
    published: list[dict] = []
    migrate_watch.poll(d.w.store, d.vault, published.append, now)
    return [e for e in published if e["type"] == "replication-lag"]


def handle(d: MigrateDriver, events: list[dict]) -> None:
    for e in events:
        d.w.service.handle(json.dumps(e))


def test_a_recovery_point_in_the_future_or_a_watcher_clock_ahead_is_reported_once_not_every_round():
    """The vault's clock (or the watcher's) is ahead: a recovery point in the future is a lag of 0, reported
    once; the next rounds have nothing new to say (they published a report each round, for ever)."""
    d = MigrateDriver(synced_plan(approval="manual"))
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now + timedelta(minutes=5), "vm-b": now - timedelta(minutes=5)}
    d.ready()
    assert d.wl().lag_seconds == 300 and d.wl().lag_reports == 1
    d.vault.points["vm-b"] = now + timedelta(minutes=3)  # a new cycle, stamped ahead of this host's clock
    d.w.clock.advance(60)
    handle(d, first := lag_events(d, d.w.clock.now()))
    assert len(first) == 1 and d.wl().lag_seconds == 0
    for _ in range(5):
        d.w.clock.advance(2)
        assert lag_events(d, d.w.clock.now()) == []
    skewed = d.w.clock.now() + timedelta(seconds=3)  # a watcher host whose clock is 3 s ahead of the orchestrator's
    assert lag_events(d, skewed) == []


def test_a_watcher_clock_ahead_of_the_orchestrators_does_not_report_the_same_point_every_round():
    """The orchestrator records a report at its own clock when the watcher's is ahead (a report from the future
    counts as now): the point the record implies is off by the skew, which is no new recovery point."""
    d = MigrateDriver(synced_plan(approval="manual"))
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(seconds=50), "vm-b": now - timedelta(seconds=40)}
    handle(d, ahead := lag_events(d, now + timedelta(seconds=3)))  # the watcher's host is 3 s ahead
    assert len(ahead) == 1 and d.wl().lag_seconds == 53 and d.wl().lag_at == now
    for _ in range(5):
        d.w.clock.advance(2)
        assert lag_events(d, d.w.clock.now() + timedelta(seconds=3)) == []
    d.vault.points["vm-a"] = d.w.clock.now()  # a new recovery point: reported
    assert len(lag_events(d, d.w.clock.now() + timedelta(seconds=3))) == 1


def test_two_watchers_at_once_leave_no_history_entry_for_their_lag_reports():
    """Two watcher rounds at once (the timer and a local host, or two instances) both report a new point: both
    are handled quietly (the sooner one, measured before the latest, is ignored); one id for both would leave a
    `duplicate` history entry each time."""
    d = MigrateDriver(synced_plan(approval="manual"))
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(seconds=30), "vm-b": now - timedelta(seconds=40)}
    d.ready()
    entries = len(d.w.store.list_history("r1"))
    d.vault.points["vm-b"] = now  # a new recovery point: vm-a's is the oldest now
    d.w.clock.advance(60)
    later, sooner = lag_events(d, d.w.clock.now()), lag_events(d, d.w.clock.now() - timedelta(milliseconds=700))
    handle(d, later + sooner)
    assert len(later) == len(sooner) == 1 and d.wl().lag_seconds == 90 and d.wl().lag_reports == 2
    assert len(d.w.store.list_history("r1")) == entries


def test_every_machine_migrated_is_no_lag():
    """Every machine was migrated already (by hand in the portal, or before a crash): the replication is over,
    its lag is 0, and the data-sync gate does not hold the cutover that finds those migrations done."""
    d = MigrateDriver(synced_plan(approval="manual"))
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(hours=3), "vm-b": now - timedelta(hours=3)}
    d.vault.migrated |= {"vm-a", "vm-b"}
    d.ready()
    assert d.wl().lag_seconds == 0 and "data-sync" not in holds(d)
    d.w.clock.advance(10)
    assert lag_events(d, d.w.clock.now()) == []


def test_after_a_rollback_the_migrations_final_replication_no_longer_opens_the_data_sync_gate():
    """The migrate's final replication lets the first move onto Azure past a stale lag report; after a rollback
    users wrote to the source again, which Azure never got (its replication is over): the retry's move waits for
    a fresh replication-lag like any data-sync move (§8), it is not let through by the old migration."""
    d = MigrateDriver(synced_plan())
    now = d.w.clock.now()
    d.vault.points = {"vm-a": now - timedelta(seconds=30), "vm-b": now - timedelta(seconds=30)}
    d.ready()
    d.vault.finish("migrate")
    d.w.clock.advance(45 * 60)
    d.watch()
    assert d.wl().state == "promoted" and d.routed() == 100
    assert d.override("rollback").outcome == "applied" and d.routed() == 0
    assert d.override("retry").outcome == "applied"
    d.send("tests-passed")
    assert d.wl().state == "ready" and d.routed() == 0, d.wl().state
    assert holds(d) == ["data-sync"]
    (hold,) = finish_holds(d.release, d.wl(), d.w.clock.now())
    assert "no replication-lag reported yet" in hold.reason and "back on the source since" in hold.reason
    assert d.send("replication-lag", lag_seconds=12).outcome == "applied"  # the data synced again, by other means
    assert d.wl().state == "promoted" and d.routed() == 100
