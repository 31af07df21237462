"""Azure Migrate drives the workloads (contract v3 §16): the pure facts built on the plan's `source` and
`rehearsal` sections and a workload's recorded operations. No I/O, no clock reads: `now` is passed in.

- `AzureMigrate`: the effect that starts one operation over a workload's machines (carried out before the
  commit, idempotently: a job already under way for a machine is found, never started twice);
- `rehearsal_hash`: what a rehearsal proves, hashed: the workload's section, the source and the test network;
- the two gates: `rehearsal` (a cutover waits for a passing rehearsal of this plan, recent enough) and
  `migration-job` (routing moves only once Azure Migrate's migrate job succeeded);
- `rehearsal_json` / `migration_json`: what status and the board show.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.model import Op, Release, Workload, WorkloadState
from shared.domain.times import iso_s

TEST_MIGRATE, CLEANUP, MIGRATE, COMPLETE = "test-migrate", "test-migrate-cleanup", "migrate", "complete-migration"
# an operation -> the workload's fields: its state and its job
FIELDS = {
    TEST_MIGRATE: ("test_migration", "test_job"),
    CLEANUP: ("cleanup", "cleanup_job"),
    MIGRATE: ("migration", "migration_job"),
    COMPLETE: ("completion", "completion_job"),
}
WHAT = {
    TEST_MIGRATE: "test migration",
    CLEANUP: "test migration clean-up",
    MIGRATE: "migration",
    COMPLETE: "completion",
}
# migrationState of an item Azure Migrate migrated (lower case): its replication is over
MIGRATED = ("migrationsucceeded", "migrationcompletedwithinformation", "migrationpartiallysucceeded")


@dataclass(frozen=True)
class AzureMigrate:
    """Start one Azure Migrate operation (`op`: test-migrate into `network`, test-migrate-cleanup, migrate with
    the source shut down first when `shutdown`, complete-migration) over `machines` of the vault. Idempotent:
    a machine whose operation is already under way or done is left as it is."""

    workload: str
    op: str
    vault: str
    machines: tuple[str, ...]
    network: str | None = None
    shutdown: bool = True


@dataclass(frozen=True)
class OpStatus:
    """What the vault says of one operation over a workload's machines: running, succeeded or failed, with the
    Site Recovery job name(s) and, when it failed, why."""

    state: str  # running | succeeded | failed
    job: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class MachineState:
    """One migration item as promote needs it (import, asset-replicated)."""

    name: str  # the machine's name (the item's friendly name)
    item: str  # the migration item's name
    state: str  # migrationState: Replicating, MigrationSucceeded, ...
    replicated: bool  # in delta sync: test migration and migration are possible
    group: str | None = None  # a tag or group the machine belongs to, for import --group
    recovery_point: datetime | None = None  # when its last recovery point was received (the lag: now minus it)

    @property
    def migrated(self) -> bool:
        """Migrated: its last recovery point is the final replication's and stays so (it is no lag)."""
        return self.state.lower() in MIGRATED


def started_at(w: Workload, op: str) -> datetime | None:
    """When the operation `op` of `w` was decided: its instance (a job result names it)."""
    if op in (TEST_MIGRATE, CLEANUP):
        return w.rehearsal_at
    if op == MIGRATE:
        return w.migration_at
    return w.finalized_at


def machines_of(release: Release, name: str) -> tuple[str, ...]:
    spec = release.plan.workload(name)
    assert spec is not None, name
    return tuple(spec.machine_names)


def effect(release: Release, name: str, op: str) -> AzureMigrate:
    source, rehearsal = release.plan.source, release.plan.rehearsal
    assert source is not None
    network = rehearsal.network if op == TEST_MIGRATE and rehearsal else None
    return AzureMigrate(name, op, source.vault, machines_of(release, name), network, source.shutdown_source)


def rehearsal_hash(release: Release, name: str) -> str:
    """The plan hash of a rehearsal: what it proves (the workload's section, the source, the test network), so
    a change of people or deadlines keeps it and a change of machines or routing does not. The workload's
    `health` is left out (kept as null, so hashes without one stay as they were): its thresholds may change in
    a running release (v3 §19) and judge the migrated system under users, which no test migration proves."""
    plan, spec = release.plan, release.plan.workload(name)
    assert spec is not None, name
    doc = {
        "source": plan.source.model_dump(mode="json") if plan.source else None,
        "network": plan.rehearsal.network.lower() if plan.rehearsal else None,
        "workload": spec.model_dump(mode="json", by_alias=True) | {"health": None},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def rehearsal_state(w: Workload) -> str:
    """The contract's rehearsal state: none | running | passed | failed | cleaned (cleaned up, no verdict)."""
    if w.rehearsal_verdict in ("passed", "failed"):
        return str(w.rehearsal_verdict)
    if w.test_migration is None:
        return "none"
    return "cleaned" if w.cleanup == Op.SUCCEEDED else "running"


def test_vms_up(w: Workload) -> bool:
    """A rehearsal's test VMs (may) exist: its test migration ran and they were not cleaned up yet."""
    return w.test_migration in (Op.SUCCEEDED, Op.FAILED) and w.cleanup != Op.SUCCEEDED


def rehearsal_busy(w: Workload) -> bool:
    """A rehearsal is under way: its test migration or its clean-up runs (a migration waits for it)."""
    return Op.RUNNING in (w.test_migration, w.cleanup)


def passing_rehearsal(release: Release, w: Workload, now: datetime) -> bool:
    """A rehearsal of this plan (hash) passed, and started at most `max_age` ago."""
    rehearsal = release.plan.rehearsal
    return (
        rehearsal is not None
        and w.rehearsal_verdict == "passed"
        and w.rehearsal_hash == rehearsal_hash(release, w.name)
        and w.rehearsal_at is not None
        and now <= w.rehearsal_at + timedelta(seconds=rehearsal.max_age)
    )


# -- the gates ----------------------------------------------------------------------------------------
def rehearsal_gate(release: Release, w: Workload, now: datetime) -> dict[str, Any] | None:
    """`rehearsal.required`: the cutover (the first move onto Azure) waits for a passing rehearsal."""
    rehearsal = release.plan.rehearsal
    if rehearsal is None or not rehearsal.required or w.state != WorkloadState.READY or w.migration is not None:
        return None  # a migration started (or done) is past the rehearsal
    if passing_rehearsal(release, w, now):
        return None
    current, state = rehearsal_hash(release, w.name), rehearsal_state(w)
    if state == "passed" and w.rehearsal_hash != current:
        why = f"the passing rehearsal was of another plan ({w.rehearsal_hash}, now {current})"
    elif state == "passed":
        why = f"the passing rehearsal of {iso_s(w.rehearsal_at)} is older than max_age ({rehearsal.max_age}s)"
    elif state == "running":
        why = f"rehearsal under way since {iso_s(w.rehearsal_at)}, waiting for rehearsal-passed"
    elif state == "none":
        why = "no rehearsal yet (promote rehearse)"
    else:
        why = f"the last rehearsal {state}" + (f": {w.rehearsal_note}" if w.rehearsal_note else "")
    return {"why": why, "plan_hash": current, "max_age_seconds": rehearsal.max_age, "last": rehearsal_json(release, w)}


def migration_gate(release: Release, w: Workload, now: datetime) -> dict[str, Any] | None:
    """`source.provider: azure-migrate`: users move onto Azure only once Azure Migrate's migrate job succeeded.
    A migration not started yet holds the cutover too: it starts once this is the one gate left
    (machine/rules/migrate.py), after a rehearsal's test VMs are cleaned up."""
    source = release.plan.source
    if source is None or w.state != WorkloadState.READY or w.migration == Op.SUCCEEDED:
        return None
    if w.migration == Op.FAILED:
        why = f"the migration failed: {w.migration_error}; nothing moved; override retry starts it again"
    elif w.migration == Op.RUNNING:
        job = f": job {w.migration_job}" if w.migration_job else ""
        off = " (the source shut down first)" if source.shutdown_source else ""
        why = f"migrating since {iso_s(w.migration_at)}{off}{job}"
    elif rehearsal_busy(w) or test_vms_up(w):
        why = "the rehearsal's test VMs are cleaned up first; then the migration starts"
    else:
        why = "not started: it starts once nothing else holds the cutover"
    return {"why": why, "state": w.migration or "none", "job": w.migration_job, "error": w.migration_error}


# -- what status and the board show -------------------------------------------------------------------
def rehearsal_json(release: Release, w: Workload) -> dict[str, Any] | None:
    if release.plan.source is None:
        return None
    return {
        "state": rehearsal_state(w),
        "plan_hash": w.rehearsal_hash,
        # whether it is a rehearsal of the plan as it is now (null: none yet); another plan's does not count
        "plan_matches": None if w.rehearsal_hash is None else w.rehearsal_hash == rehearsal_hash(release, w.name),
        "at": iso_s(w.rehearsal_at),
        "job": w.test_job,
        "by": w.rehearsal_by,
        "note": w.rehearsal_note,
        "cleanup": {"state": w.cleanup or "none", "job": w.cleanup_job},
    }


def migration_json(release: Release, w: Workload) -> dict[str, Any] | None:
    if release.plan.source is None:
        return None
    return {
        "state": w.migration or "none",
        "job": w.migration_job,
        "at": iso_s(w.migration_at),
        "error": w.migration_error,
        "completion": {"state": w.completion or "none", "job": w.completion_job},
    }
