"""Timer trigger: every five minutes, the live share of every workload against the share its state says.

Drift is recorded in the release's history (`drift-check`); the recorded share is re-applied only when the
plan says `on_drift: reapply`. Resources that cannot be read fail the run, so it shows in the monitoring.
"""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("promote.drift")
SCHEDULE = "0 */5 * * * *"


@bp.function_name("drift")
@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False)
def drift(timer: func.TimerRequest) -> None:
    from shared.application.bootstrap import stack
    from shared.application.drift import check_all

    s = stack()
    run = check_all(s.store, s.service.routers, s.clock.now())
    for entry in run.recorded:
        log.warning("drift %s: %s", entry.workload, entry.reason)
    log.info(
        "drift check: %d workload(s) read, %d drift(s) recorded, %d failure(s)%s",
        run.checked,
        len(run.recorded),
        len(run.failures),
        " (timer was past due)" if timer.past_due else "",
    )
    if run.failures:
        raise RuntimeError("drift check could not read: " + "; ".join(run.failures))
