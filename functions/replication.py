"""Timer trigger: every five minutes, read the migration tool's replication state (Azure Site Recovery /
Azure Migrate) for releases whose plan names a `replication` vault, and publish asset-replicated and
replication-lag events, so a team using Azure Migrate sends nothing by hand (v2 §8)."""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("promote.replication")
SCHEDULE = "0 */5 * * * *"


@bp.function_name("replication")
@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False)
def replication(timer: func.TimerRequest) -> None:
    from shared.adapters.site_recovery import SiteRecoveryReader
    from shared.application.bootstrap import stack
    from shared.application.replication import poll

    s = stack()
    run = poll(s.store, SiteRecoveryReader(s.settings).items, s.publisher.publish, s.clock.now())
    log.info(
        "replication: %d release(s) read, %d event(s) published, %d failure(s)",
        run.releases,
        len(run.published),
        len(run.failures),
    )
    if run.failures:
        raise RuntimeError("replication state could not be read: " + "; ".join(run.failures))
