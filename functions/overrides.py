"""HTTP trigger: an operator's override on Azure, from the authenticated Entra ID principal.

Anonymous at the Functions level because App Service authentication (Entra ID, 401 for unauthenticated
calls) sits in front of the app; the function still refuses a request without a valid client principal
(401), and takes the actor from it, never from the body. The override is handed to the service directly:
the Service Bus topic cannot prove who sent a message, so on Azure an override arriving there is rejected
and audited, and this call answers with the outcome recorded in history.

A signed-in browser is not a reason to act: a request from another site's page (an Origin that is not this
app's, and no bearer token) is refused 403, and a body not declared application/json 415, before it is read.
"""

import json
import logging

import azure.functions as func

from functions._http import principal, reply
from shared.application import config

bp = func.Blueprint()
log = logging.getLogger("promote.overrides")


@bp.function_name("overrides")
@bp.route(route=config.OVERRIDES_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def overrides(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.bootstrap import stack
    from shared.application.overrides import (
        OverrideRequestError,
        PrincipalError,
        cross_site,
        not_json,
        override_event,
    )
    from shared.application.views import history_json
    from shared.domain.errors import UnknownRelease

    try:
        actor = principal(req)
    except PrincipalError as exc:
        return reply(401, {"error": str(exc)})
    headers = dict(req.headers)
    refused = cross_site(headers, req.url)
    if refused:
        return reply(403, {"error": refused})
    refused = not_json(headers)
    if refused:
        return reply(415, {"error": refused})
    s = stack()
    try:
        event = override_event(req.get_body(), actor, s.clock.now())
    except OverrideRequestError as exc:
        return reply(400, {"error": str(exc)})
    try:
        result = s.service.handle(json.dumps(event), principal=actor)
    except UnknownRelease as exc:
        return reply(404, {"error": str(exc)})
    except Exception as exc:  # e.g. a routing change failed: the routing moved was put back
        log.exception("override %s failed", event["id"])
        return reply(
            503,
            {
                "error": f"{type(exc).__name__}: {exc}",
                "id": event["id"],
                "retry": "send the override again with the same id: if it was recorded after all, "
                "it is answered as a duplicate",
            },
        )
    log.info("override %s by %s: %s: %s", event["id"], actor.name, result.outcome, result.reason)
    return reply(
        200,
        {
            "id": event["id"],
            "release": result.release,
            "actor": actor.name,
            "outcome": result.outcome,
            "reason": result.reason,
            "entries": history_json(result.entries),
        },
    )
