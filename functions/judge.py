"""Timer trigger (contract §10): a round of the health judge every ten seconds.

Each round evaluates the checks of every flighting workload whose evaluation is due (every `interval` from the
start of its flight) and publishes `flight-healthy` / `flight-unhealthy` on the topic like any other judge.
Azure runs a timer function on one instance at a time (a blob lease), and a round that overruns makes the
next one late, not concurrent; if two judges do meet, the judge's ETag-guarded records and deterministic
verdict ids keep each evaluation judged once. The app's managed identity reads Azure Monitor.
"""

import logging

import azure.functions as func

bp = func.Blueprint()
log = logging.getLogger("promote.judge")
SCHEDULE = "*/10 * * * * *"  # evaluations are due at most this late after their interval


@bp.function_name("judge")
@bp.timer_trigger(schedule=SCHEDULE, arg_name="timer", run_on_startup=False)
def judge(timer: func.TimerRequest) -> None:
    from shared.application.bootstrap import stack

    run = stack().judge.round()
    if run.evaluated or run.published or run.failures:
        log.info(
            "judge: %d flighting workload(s) judged, %d evaluated, %d verdict(s) published, %d claimed by "
            "another judge%s",
            run.judged,
            run.evaluated,
            len(run.published),
            run.conflicts,
            " (timer was past due)" if timer.past_due else "",
        )
    if run.failures:  # storage faults: visible in monitoring; the next round tries again
        raise RuntimeError("judge round could not read: " + "; ".join(run.failures))
