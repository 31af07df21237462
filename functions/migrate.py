"""Timer trigger: every minute, read Azure Migrate's vault for releases whose plan has `source: {provider:
azure-migrate}` and publish what it says: `migration-job` for the operations promote started (test migration,
clean-up, migration, completion) and `asset-replicated` for machines in delta sync (v3 §16)."""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("promote.migrate")
SCHEDULE = "0 * * * * *"


@bp.function_name("migrate")
@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False)
def migrate_watch(timer: func.TimerRequest) -> None:
    from shared.application.bootstrap import stack
    from shared.application.migrate_watch import poll

    s = stack()
    run = poll(s.store, s.migrator, s.publisher.publish, s.clock.now())
    log.info("azure migrate: %d release(s) read, %d event(s) published", run.releases, len(run.published))
    if run.failures:
        raise RuntimeError("Azure Migrate's vault could not be read: " + "; ".join(run.failures))
