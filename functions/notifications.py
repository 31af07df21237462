"""Timer trigger: delivers the notification outbox (contract §11) apart from message handling, so a receiver
that is down or slow never holds a promotion. Undelivered rows back off and are retried on later runs."""

import logging

import azure.functions as func

from shared.application import config

bp = func.Blueprint()
log = logging.getLogger("promote.notifications")


@bp.function_name("notifications")
@bp.timer_trigger(arg_name="timer", schedule=config.NOTIFY_SCHEDULE, run_on_startup=False, use_monitor=False)
def notifications(timer: func.TimerRequest) -> None:
    from shared.application.bootstrap import stack

    # well inside functionTimeout (5 min): rows not started now are due again at the next run
    done = stack().deliverer.deliver_due(limit=200, budget_seconds=120)
    if done.delivered or done.failed_attempts:
        log.info(
            "notifications: %d delivered, %d attempts failed, %d rows given up",
            done.delivered,
            done.failed_attempts,
            done.rows_given_up,
        )
