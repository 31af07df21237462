"""HTTP trigger: an operator's override on Azure, from the authenticated Entra ID principal.

Anonymous at the Functions level because App Service authentication (Entra ID, 401 for unauthenticated
calls) sits in front of the app; the function still refuses a request without a valid client principal
(401), and takes the actor from it, never from the body. The override is handed to the service directly:
the Service Bus topic cannot prove who sent a message, so on Azure an override arriving there is rejected
and audited, and this call answers with the outcome recorded in history.
"""

import json
import logging

import azure.functions as func

from shared.application import config

bp = func.Blueprint()
log = logging.getLogger("promote.overrides")


def _reply(status: int, body: dict) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


@bp.function_name("overrides")
@bp.route(route=config.OVERRIDES_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def overrides(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.bootstrap import stack
    from shared.application.overrides import (
        PRINCIPAL_HEADER,
        OverrideRequestError,
        PrincipalError,
        override_event,
        principal_from_header,
    )
    from shared.application.views import history_json
    from shared.domain.errors import UnknownRelease

    if not config.easy_auth_enabled():  # without it, X-MS-CLIENT-PRINCIPAL could come from anyone
        return _reply(401, {"error": "App Service authentication is not enabled on this app: overrides are refused"})
    try:
        principal = principal_from_header(req.headers.get(PRINCIPAL_HEADER))
    except PrincipalError as exc:
        return _reply(401, {"error": str(exc)})
    s = stack()
    try:
        event = override_event(req.get_body(), principal, s.clock.now())
    except OverrideRequestError as exc:
        return _reply(400, {"error": str(exc)})
    try:
        result = s.service.handle(json.dumps(event), principal=principal)
    except UnknownRelease as exc:
        return _reply(404, {"error": str(exc)})
    except Exception as exc:  # e.g. a routing change failed: the routing moved was put back
        log.exception("override %s failed", event["id"])
        return _reply(
            503,
            {
                "error": f"{type(exc).__name__}: {exc}",
                "id": event["id"],
                "retry": "send the override again with the same id: if it was recorded after all, "
                "it is answered as a duplicate",
            },
        )
    log.info("override %s by %s: %s: %s", event["id"], principal.name, result.outcome, result.reason)
    return _reply(
        200,
        {
            "id": event["id"],
            "release": result.release,
            "actor": principal.name,
            "outcome": result.outcome,
            "reason": result.reason,
            "entries": history_json(result.entries),
        },
    )
