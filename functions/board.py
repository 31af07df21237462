"""HTTP routes of the board (contract §12) on Azure: the same pages as `promote board`, behind Entra ID.

The function app's App Service Authentication (infra: authsettingsV2, requireAuthentication) signs people in
and passes who they are in X-MS-CLIENT-PRINCIPAL; the platform strips that header from what clients send. As
a second line, any request that arrives without a valid principal is refused here with 401, never served.
"""

import azure.functions as func

from functions._http import principal

bp = func.Blueprint()
ROUTE_PREFIX = "board"
BASE = f"/api/{ROUTE_PREFIX}/"  # host.json keeps the default routePrefix "api"


def signed_in(req: func.HttpRequest) -> bool:
    """App Service authentication is on and vouches for an Entra ID principal (the override endpoint's rule)."""
    from shared.application.overrides import PrincipalError

    try:
        principal(req)
    except PrincipalError:
        return False
    return True


def _refuse() -> func.HttpResponse:
    return func.HttpResponse(
        "sign-in required: the board is served only to Entra ID-authenticated users",
        status_code=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": 'Bearer realm="promote board"', "Cache-Control": "no-store"},
    )


@bp.function_name("board")
@bp.route(route=ROUTE_PREFIX + "/{*path}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def board(req: func.HttpRequest) -> func.HttpResponse:
    # ANONYMOUS at the Functions level on purpose: browsers carry no function key; App Service
    # Authentication in front of the app is the gate, and this check refuses anything it did not vouch for.
    if not signed_in(req):
        return _refuse()
    from shared.application.bootstrap import stack

    page = stack().board(BASE).handle(req.route_params.get("path") or "", {k: [v] for k, v in req.params.items()})
    return func.HttpResponse(
        page.body, status_code=page.status, headers={**page.headers, "Content-Type": page.content_type}
    )
