"""Azure Migrate drives the workloads (contract v3 §16): the rules; the facts and gates are in
shared/domain/migration.py.

- the rehearsal: `promote rehearse` (override `rehearse`) test-migrates a workload's machines into the plan's
  isolated network; the test pipeline's verdict (rehearsal-passed / -failed) is recorded with the plan hash;
  the test VMs are cleaned up at the verdict or at `cleanup_after` (a timer), whichever comes first;
- the cutover: once nothing else holds it, the migration starts (the source shut down first) and routing
  moves only once its job succeeded; a failed job moves nothing and says why (`attention`); `retry` starts it
  again;
- finalize completes the migration (replication stopped, replica disks deleted);
- `migration-job`: what the vault says of an operation (shared/application/migrate_watch.py reads it).
Every operation is an `AzureMigrate` effect, carried out before the commit and idempotent (a job under way is
found, not started twice), so a redelivery or a host crash never starts one twice.
"""

from __future__ import annotations

from datetime import timedelta

from shared.domain import messages as m
from shared.domain.machine.rules import finish, overrides
from shared.domain.machine.step import Ruling, Step
from shared.domain.migration import (
    CLEANUP,
    COMPLETE,
    FIELDS,
    MIGRATE,
    TEST_MIGRATE,
    WHAT,
    effect,
    machines_of,
    rehearsal_busy,
    rehearsal_hash,
    started_at,
    test_vms_up,
)
from shared.domain.model import TERMINAL, GateName, Op, Outcome, Workload, WorkloadState
from shared.domain.times import iso_s, ms

S, G = WorkloadState, GateName
CLEANUP_RECHECK = timedelta(minutes=10)  # cleanup_after came while the test migration still ran


def _start(step: Step, w: Workload, op: str) -> Workload:
    state_field, job_field = FIELDS[op]
    step.effects.append(effect(step.release, w.name, op))
    return w.evolve(**{state_field: Op.RUNNING, job_field: None})


# -- the rehearsal -----------------------------------------------------------------------------------
def on_rehearse(step: Step, w: Workload) -> Ruling:
    plan = step.release.plan
    if plan.source is None or plan.rehearsal is None:
        return Outcome.REJECTED, "rehearse needs the plan's source (azure-migrate) and rehearsal sections", w
    if w.state not in (S.TESTING, S.READY, S.ROLLED_BACK) or w.migration is not None:
        return Outcome.REJECTED, f"nothing to rehearse: the workload is {w.state}, its migration {w.migration}", w
    if rehearsal_busy(w):
        return Outcome.IGNORED, f"a rehearsal is under way (started {iso_s(w.rehearsal_at)} by {w.rehearsal_by})", w
    if test_vms_up(w):
        why = "the last rehearsal's test VMs are cleaned up first (Azure Migrate refuses a test migration before)"
        return Outcome.APPLIED, f"{why}; rehearse again once that is done", _start(step, w, CLEANUP)
    w = w.evolve(
        rehearsal_hash=rehearsal_hash(step.release, w.name),
        rehearsal_at=step.now,
        rehearsal_by=step.actor,
        rehearsal_verdict=None,
        rehearsal_note=None,
        cleanup=None,
        cleanup_job=None,
    )
    w = _start(step, w, TEST_MIGRATE)
    due = step.now + timedelta(seconds=plan.rehearsal.cleanup_after)
    started = ms(step.now)
    step.schedule(m.REHEARSAL_CLEANUP_TYPE, {"workload": w.name, "started_ms": started}, due, f"{started}")
    network = plan.rehearsal.network.rsplit("/", 1)[-1]
    count = len(machines_of(step.release, w.name))
    return (
        Outcome.APPLIED,
        f"rehearsal started by {step.actor}: test migration of {count} machine(s) into {network} "
        f"(plan {w.rehearsal_hash}); test VMs cleaned up at the verdict or by {iso_s(due)}",
        w,
    )


def on_verdict(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    said = " ".join(
        x for x in (f"suite {data.suite}" if data.suite else "", f"run {data.run}" if data.run else "") if x
    )
    if step.release.plan.rehearsal is None or step.release.plan.source is None:
        return Outcome.REJECTED, "the plan has no rehearsal section", w
    if w.test_migration is None:
        return Outcome.REJECTED, "no rehearsal was started (promote rehearse)", w
    if w.test_migration == Op.RUNNING:
        return Outcome.REJECTED, "the test migration is still running: its test VMs are not ready for tests", w
    if w.rehearsal_verdict is not None:
        return Outcome.IGNORED, f"the rehearsal of {iso_s(w.rehearsal_at)} already {w.rehearsal_verdict}", w
    if w.cleanup is not None:
        return Outcome.IGNORED, "its test VMs were cleaned up at cleanup_after, before a verdict: rehearse again", w
    verdict = "passed" if step.message.type == "rehearsal-passed" else "failed"
    w = w.evolve(rehearsal_verdict=verdict, rehearsal_note=said or None)
    note = f" ({said})" if said else ""
    return (
        Outcome.APPLIED,
        f"rehearsal {verdict}{note}, plan {w.rehearsal_hash}: cleaning up the test VMs",
        _start(step, w, CLEANUP),
    )


def on_cleanup_due(step: Step, w: Workload) -> Ruling:
    started = step.message.data.started_ms
    if w.rehearsal_at is None or started != ms(w.rehearsal_at):
        return Outcome.IGNORED, "clean-up timer of an earlier rehearsal", w
    if w.cleanup is not None:
        return Outcome.IGNORED, f"the test VMs' clean-up is {w.cleanup} already", w
    if w.test_migration == Op.RUNNING:
        due = step.now + CLEANUP_RECHECK
        data = {"workload": w.name, "started_ms": started}
        step.schedule(m.REHEARSAL_CLEANUP_TYPE, data, due, f"{started}:{ms(due)}")
        return Outcome.IGNORED, f"cleanup_after: the test migration still runs; looked at again at {iso_s(due)}", w
    if not test_vms_up(w):
        return Outcome.IGNORED, "cleanup_after: the rehearsal left no test VMs", w
    rehearsal = step.release.plan.rehearsal
    due = w.rehearsal_at + timedelta(seconds=rehearsal.cleanup_after) if rehearsal else step.now
    if step.now < due:  # a timer further out than the transport can hold arrives early
        data = {"workload": w.name, "started_ms": started}
        step.schedule(m.REHEARSAL_CLEANUP_TYPE, data, due, f"{started}:{ms(step.now)}")
        return Outcome.IGNORED, f"clean-up timer arrived early; rescheduled for {iso_s(due)}", w
    return (
        Outcome.APPLIED,
        "cleanup_after reached without a verdict: cleaning the test VMs up",
        _start(step, w, CLEANUP),
    )


# -- the cutover ---------------------------------------------------------------------------------------
def _may_migrate(w: Workload) -> bool:
    return w.migration is None and not rehearsal_busy(w) and not test_vms_up(w)


def start_migration(step: Step, w: Workload) -> Workload:
    """The point of no return of an Azure Migrate cutover (the source is shut down): migrate is carried out
    before this commit; a redelivery finds its job under way instead of starting another."""
    w = w.evolve(migration_at=step.now, migration_error=None, stuck=None)
    return _start(step, w, MIGRATE)


ALONE = {G.MIGRATION_JOB}  # what may still hold a cutover that migrates now
ALONE_STAGED = {G.MIGRATION_JOB, G.RELEASE}  # staged: the others' migrations hold the release too


def _cutover_waits_only_for_migration(step: Step, w: Workload) -> bool:
    if w.state != S.READY or w.paused or not _may_migrate(w) or step.sync_held(w):
        return False
    gates = {g.gate for g in step.waiting_for(w)}
    return G.MIGRATION_JOB in gates and gates <= (ALONE_STAGED if step.release.plan.model == "staged" else ALONE)


def start_cutovers(step: Step) -> None:
    """A cutover whose one gate left is its migration starts it (single-step, flight); staged: once every open
    workload of the release is ready and waits for nothing but migrations, they all start."""
    if step.release.plan.source is None or step.release.partial and step.release.plan.model == "staged":
        return
    open_ = [w for w in step.workloads.values() if w.state not in TERMINAL]
    ready = [w for w in open_ if _cutover_waits_only_for_migration(step, w)]
    if step.release.plan.model == "staged":
        waiting = [w for w in open_ if w.migration != Op.SUCCEEDED]
        others_ok = all(w.state == S.READY and not w.paused for w in open_)
        if not others_ok or any(w.migration is None and w not in ready for w in waiting):
            return
    source = "source shut down" if step.release.plan.source.shutdown_source else "source left running"
    for w in ready:
        before = step.before.workloads.get(w.name, w)
        step.workloads[w.name] = start_migration(step, w)
        step.note_on_entry(w.name, f"nothing else holds the cutover: Azure Migrate migrates ({source})", before)


# -- what the vault says of an operation ---------------------------------------------------------------
def on_job(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    op, (state_field, job_field) = data.op, FIELDS[data.op]
    state, started = getattr(w, state_field), started_at(w, data.op)
    if state != Op.RUNNING or started is None or data.started_ms != ms(started):
        return Outcome.IGNORED, f"{WHAT[op]} result is stale (the {WHAT[op]} is {state or 'not started'})", w
    if data.state == "running":
        if getattr(w, job_field) == data.job:
            return Outcome.IGNORED, f"{WHAT[op]} still running (job {data.job})", w
        return Outcome.APPLIED, f"{WHAT[op]} running: job {data.job}", w.evolve(**{job_field: data.job})
    w = w.evolve(**{job_field: data.job or getattr(w, job_field)})
    job = f" (job {data.job})" if data.job else ""
    if data.state == "succeeded":
        return Outcome.APPLIED, *_succeeded(w, op, job)
    return Outcome.APPLIED, *_failed(step, w, op, (data.error or "no error given")[:1000], job)


def _succeeded(w: Workload, op: str, job: str) -> tuple[str, Workload]:
    if op == TEST_MIGRATE:
        return (
            f"test migration succeeded{job}: the test VMs are up for the test pipeline (rehearsal-passed / -failed)",
            w.evolve(test_migration=Op.SUCCEEDED),
        )
    if op == CLEANUP:
        return f"test VMs cleaned up{job}", w.evolve(cleanup=Op.SUCCEEDED, stuck=None)
    if op == MIGRATE:
        return f"migrated{job}: Azure Migrate's migrate succeeded; users move next", w.evolve(migration=Op.SUCCEEDED)
    return f"migration completed{job}: replication stopped, replica disks deleted", w.evolve(completion=Op.SUCCEEDED)


def _failed(step: Step, w: Workload, op: str, error: str, job: str) -> tuple[str, Workload]:
    """A failed test migration fails the rehearsal and is cleaned up (it may have left test resources); a failed
    migration moves nothing and asks for attention."""
    if op == TEST_MIGRATE:
        w = w.evolve(test_migration=Op.FAILED, rehearsal_verdict="failed", rehearsal_note=f"test migration: {error}")
        return f"rehearsal failed: test migration failed{job}: {error}; cleaning up", _start(step, w, CLEANUP)
    if op == CLEANUP:
        why = f"the rehearsal's test VMs remain: clean-up failed{job}: {error}; promote rehearse cleans up again"
        return why, w.evolve(cleanup=Op.FAILED, stuck=why)
    if op == MIGRATE:
        off = (
            "; the source may be shut down"
            if step.release.plan.source and step.release.plan.source.shutdown_source
            else ""
        )
        why = f"Azure Migrate's migration failed{job}: {error}; nothing moved, users stay on the source{off}"
        return f"{why}; override retry starts it again", w.evolve(migration=Op.FAILED, migration_error=error, stuck=why)
    why = f"complete migration failed{job}: {error}; replication goes on (replica disks billed); finalize retries"
    return why, w.evolve(completion=Op.FAILED, stuck=why)


# -- finalize: complete the migration -------------------------------------------------------------------
def after_decision(step: Step) -> None:
    """A cutover that waits for nothing but its migration starts it; a workload just finalized sends itself
    `complete-migration`, which completes the migration once the finalize is committed (a decommission that
    fails puts the workload back to promoted: nothing is completed then)."""
    if step.release.plan.source is None:
        return
    start_cutovers(step)
    for name, w in step.workloads.items():
        before = step.before.workloads.get(name)
        if before is not None and w.state == S.FINALIZED and before.state != S.FINALIZED and w.finalized_at:
            done = ms(w.finalized_at)
            step.schedule(m.COMPLETE_TYPE, {"workload": name, "finalized_ms": done}, step.now, f"{done}")
            step.note_on_entry(name, "the migration is completed next (Azure Migrate: replication stops)", before)


def on_complete(step: Step, w: Workload) -> Ruling:
    at = w.finalized_at
    if w.state != S.FINALIZED or at is None or ms(at) != step.message.data.finalized_ms:
        return Outcome.IGNORED, f"complete-migration is stale (the workload is {w.state})", w
    if w.completion is not None:
        return Outcome.IGNORED, f"the completion is {w.completion} already", w
    return Outcome.APPLIED, "completing the migration (replication stops, replica disks go)", _start(step, w, COMPLETE)


# -- overrides with an Azure Migrate side ----------------------------------------------------------------
def retry(step: Step, w: Workload) -> Ruling:
    """`retry` of a workload whose migration failed starts the migration again."""
    if step.release.plan.source is not None and w.state == S.READY and w.migration == Op.FAILED:
        last = w.migration_error
        return Outcome.APPLIED, f"retry: the migration starts again (last: {last})", w.evolve(migration=None)
    outcome, reason, after = overrides.retry(step, w)
    if outcome == Outcome.APPLIED and step.release.plan.source is not None and w.migration == Op.SUCCEEDED:
        # users were back on the source: a lag measured before (the migration's final replication) vouches for
        # nothing since; the data-sync gate waits for a new report (finishing.data_sync_hold)
        after = after.evolve(lag_seconds=None, lag_at=None)
    return outcome, reason, after


def finalize(step: Step, w: Workload) -> Ruling:
    """`finalize` of a finalized workload whose completion failed completes the migration again."""
    if step.release.plan.source is not None and w.state == S.FINALIZED and w.completion == Op.FAILED:
        return Outcome.APPLIED, "complete the migration again", _start(step, w, COMPLETE)
    return finish.on_finalize(step, w)


def rollback(step: Step, w: Workload) -> Ruling:
    outcome, reason, after = overrides.rollback(step, w)
    source = step.release.plan.source
    if outcome == Outcome.APPLIED and source is not None and source.shutdown_source and w.migration == Op.SUCCEEDED:
        reason += "; WARNING: Azure Migrate shut the source down at migration: start it again before users return"
    return outcome, reason, after


def abort(step: Step, w: Workload) -> Ruling:
    if step.release.plan.source is not None and w.migration == Op.RUNNING:
        why = "the migration is running (the source is being shut down and migrated): abort once its job has ended"
        return Outcome.REJECTED, why, w
    return overrides.abort(step, w)
