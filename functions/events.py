"""Service Bus topic trigger: one session per release, so a release's messages are handled in order."""

import logging

import azure.functions as func

from shared.application import config

bp = func.Blueprint()
log = logging.getLogger("promote.events")


@bp.function_name("events")
@bp.service_bus_topic_trigger(
    arg_name="msg",
    topic_name=config.TOPIC,
    subscription_name=config.SUBSCRIPTION,
    connection=config.SERVICEBUS_CONNECTION,
    is_sessions_enabled=True,
)
def events(msg: func.ServiceBusMessage) -> None:
    """Decode, hand to the service, and let failures propagate so the platform retries / dead-letters.

    Messages that can never be handled (unparseable, unknown release) are recorded with their reason by
    the service's dead-letter port before this returns and the message is completed: never dropped silently.
    """
    from shared.application import telemetry
    from shared.application.bootstrap import stack

    with telemetry.delivery(msg, servicebus=stack().settings.uses_servicebus):  # the span's messaging.* attributes
        result = stack().service.handle(msg.get_body())
    log.info(
        "message %s (delivery %s): %s: %s",
        result.event_id or msg.message_id,
        msg.delivery_count,
        result.outcome,
        result.reason,
    )
