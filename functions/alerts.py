"""HTTP trigger: the Azure Monitor common alert schema -> an `alert` message on the release's stream."""

import logging

import azure.functions as func

from functions._http import reply

bp = func.Blueprint()
log = logging.getLogger("promote.alerts")


@bp.function_name("alerts")
@bp.route(route="alerts", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def alerts(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.alerts import AlertError, alert_event
    from shared.application.bootstrap import stack

    try:
        event = alert_event(req.get_body())
    except AlertError as exc:
        return reply(exc.status, {"error": str(exc)})
    if event is None:
        return reply(200, {"accepted": False, "reason": "resolved alerts are not acted on"})
    stack().publisher.publish(event)
    log.info("alert %s for %s/%s published", event["id"], event["data"]["release"], event["data"]["workload"])
    return reply(202, {"accepted": True, "id": event["id"]})
