"""HTTP trigger: an operator's override on Azure, from the authenticated Entra ID principal (contract §18).

Anonymous at the Functions level because App Service authentication (Entra ID, 401 for unauthenticated
calls) sits in front of the app; the function still refuses a request without a valid client principal
(401), and takes the actor from it, never from the body.

It never routes: it authenticates, validates, and queues the override on the release's session of the events
topic, answering 202 with where to watch. The events function decides it in order with the release's other
messages, so a routing change that takes minutes (Application Gateway) never runs inside an HTTP call, and a
transient failure is retried there like any other. The topic cannot prove who sent a message, so the
override carries the endpoint's proof of the principal (shared/application/override_proof.py); on Azure one
without a valid proof is rejected and audited.

A signed-in browser is not a reason to act: a request from another site's page (an Origin that is not this
app's, and no bearer token) is refused 403, and a body not declared application/json 415, before it is read.
"""

import json
import logging

import azure.functions as func

from functions._http import principal, refused_cross_site, reply
from shared.application import config

bp = func.Blueprint()
log = logging.getLogger("promote.overrides")


@bp.function_name("overrides")
@bp.route(route=config.OVERRIDES_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def overrides(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.bootstrap import stack
    from shared.application.override_proof import ENV_OVERRIDE_KEY, OverrideKeyError, from_environ
    from shared.application.overrides import OverrideRequestError, PrincipalError, override_event, queued_reply
    from shared.domain.errors import UnknownRelease

    try:
        actor = principal(req)
    except PrincipalError as exc:
        return reply(401, {"error": str(exc)})
    refused = refused_cross_site(req)
    if refused is not None:
        return refused
    s = stack()
    try:
        proofs = from_environ()
    except OverrideKeyError as exc:
        return reply(503, {"error": str(exc)})
    if proofs is None and s.settings.overrides_need_principal:
        return reply(
            503,
            {
                "error": f"{ENV_OVERRIDE_KEY} is not set: the events function could not tell this override "
                "came through the endpoint, and would reject it (docs/deploy.md)"
            },
        )
    try:
        event = override_event(req.get_body(), actor, s.clock.now())
    except OverrideRequestError as exc:
        return reply(400, {"error": str(exc)})
    data = event["data"]
    try:  # a release never applied is answered now, not dead-lettered behind the caller's back
        s.store.get_release(data["release"], data.get("workload"), whole=False)
    except UnknownRelease as exc:
        return reply(404, {"error": str(exc)})
    try:
        s.publisher.publish(proofs.sign(event, actor) if proofs is not None else event)
    except Exception as exc:  # Service Bus (or the local queue) did not take it: nothing was queued, or it was
        log.exception("override %s was not queued", event["id"])
        return reply(
            503,
            {
                "error": f"{type(exc).__name__}: {exc}",
                "id": event["id"],
                "retry": "send the override again with the same id: if it was queued after all, "
                "it is recorded as a duplicate",
            },
        )
    log.info("override %s by %s queued on release %s", event["id"], actor.name, data["release"])
    doc = queued_reply(event, dict(req.headers), req.url)
    return func.HttpResponse(
        json.dumps(doc), status_code=202, mimetype="application/json", headers={"Location": doc["status_url"]}
    )
