"""What the HTTP functions share: JSON replies, and the principal App Service authentication signed in.

Nothing heavy is imported here at import time: function_app imports every blueprint on a cold start."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import azure.functions as func

from shared.application import config

if TYPE_CHECKING:
    from shared.domain.actors import Principal


def reply(status: int, body: Any) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


def principal(req: func.HttpRequest) -> Principal:
    """The Entra ID principal App Service authentication vouches for in X-MS-CLIENT-PRINCIPAL; PrincipalError
    (401) if there is none, or if App Service authentication is off (then anyone could have set the header)."""
    from shared.application.overrides import PRINCIPAL_HEADER, PrincipalError, principal_from_header

    if not config.easy_auth_enabled():
        raise PrincipalError(
            f"App Service authentication is not enabled on this app: {PRINCIPAL_HEADER} could come from anyone, "
            "so requests that need a signed-in user are refused"
        )
    return principal_from_header(req.headers.get(PRINCIPAL_HEADER))


def refused_cross_site(req: func.HttpRequest) -> func.HttpResponse | None:
    """The answer to a state-changing request a signed-in browser may have been made to send from another
    site's page (403: its Origin is not this app, and it carries no bearer token; 415: a body not declared
    application/json, which a page may send across sites without a CORS preflight), or None to go on."""
    from shared.application.overrides import cross_site, not_json

    headers = dict(req.headers)
    refused = cross_site(headers, req.url)
    if refused:
        return reply(403, {"error": refused})
    refused = not_json(headers)
    if refused:
        return reply(415, {"error": refused})
    return None
