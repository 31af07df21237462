"""HTTP routes of the board (contract §12) on Azure: the same pages as `promote board`, behind Entra ID.

The function app's App Service Authentication signs people in (Entra ID's login flow, its session cookie
AppServiceAuthSession) and passes who they are in X-MS-CLIENT-PRINCIPAL; the platform strips that header from
what clients send. The board's paths are excluded from its 401 for unauthenticated calls (authsettingsV2
excludedPaths) so that this function can send a browser that is not signed in to the sign-in page
(/.auth/login/aad, then back to the page it asked for); anything else without a valid principal (a script, a
stylesheet, the page's own refresh) is refused with 401, never served.

The signed-in person may act from it (v3 §19): a POST to releases/<name>/act queues an override as the
override endpoint does (the actor is the principal, never a form field; on Azure it carries the endpoint's
proof of that principal), after the board's own checks that the form came from its own page.
"""

import logging
from urllib.parse import quote

import azure.functions as func

from functions._http import principal
from shared.application import config

LOGIN = "/.auth/login/aad"  # App Service authentication's sign-in for Entra ID

STORAGE_DOWN = (
    "board unavailable: the function app cannot read its storage account (releases table) right now. Nothing was "
    "changed. Reload in a minute; if it persists, check the storage account's health and network rules and the "
    "app's managed identity role (docs/deploy.md). `promote status --release R` reads the same data."
)

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


def page_navigation(req: func.HttpRequest) -> bool:
    """A person's browser asking for a page (which may be sent to sign in), not a script's or a page's own
    request (which gets 401): Sec-Fetch-Mode navigate, or, from a browser without Fetch Metadata, an HTML
    Accept."""
    mode = req.headers.get("sec-fetch-mode")
    if mode is not None:
        return mode.lower() == "navigate"
    return "text/html" in req.headers.get("accept", "").lower()


def _sign_in(req: func.HttpRequest) -> func.HttpResponse:
    """302 to the sign-in, which brings the browser back to this page (a path of this app: App Service
    authentication accepts no other site as post_login_redirect_uri unless configured to)."""
    from urllib.parse import urlsplit

    url = urlsplit(req.url)
    back = url.path + (f"?{url.query}" if url.query else "")
    return func.HttpResponse(
        status_code=302,
        headers={"Location": f"{LOGIN}?post_login_redirect_uri={quote(back, safe='')}", "Cache-Control": "no-store"},
    )


def _refuse() -> func.HttpResponse:
    return func.HttpResponse(
        "sign-in required: the board is served only to Entra ID-authenticated users",
        status_code=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": 'Bearer realm="promote board"', "Cache-Control": "no-store"},
    )


@bp.function_name("board")
@bp.route(route=ROUTE_PREFIX + "/{*path}", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
def board(req: func.HttpRequest) -> func.HttpResponse:
    # ANONYMOUS at the Functions level on purpose: browsers carry no function key; App Service
    # Authentication in front of the app is the gate, and this check refuses anything it did not vouch for.
    if not signed_in(req):
        # no sign-in page to send anyone to when App Service authentication is off
        navigating = req.method == "GET" and page_navigation(req)
        return _sign_in(req) if navigating and config.easy_auth_enabled() else _refuse()
    from shared.application.board.actions import visitor_of
    from shared.application.bootstrap import stack

    s = stack()
    app, path, headers = s.board(BASE), req.route_params.get("path") or "", dict(req.headers)
    actor = principal(req)
    visitor = visitor_of(headers, actor, secure=_secure(headers, req.url))
    try:
        if req.method == "POST":
            page = _act(s, app, path, req, visitor, headers)
        else:
            page = app.handle(path, {k: [v] for k, v in req.params.items()}, visitor)
    except Exception:  # storage away: say what to do, not an exception's name
        logging.getLogger("promote.board").exception("board %s %s", req.method, path)
        return func.HttpResponse(
            STORAGE_DOWN,
            status_code=503,
            mimetype="text/plain",
            headers={"Retry-After": "10", "Cache-Control": "no-store"},
        )
    return func.HttpResponse(
        page.body, status_code=page.status, headers={**page.headers, "Content-Type": page.content_type}
    )


def _secure(headers: dict[str, str], url: str) -> bool:
    from shared.application.overrides import app_origin

    return app_origin(headers, url).startswith("https://")


def _act(s, app, path: str, req: func.HttpRequest, visitor, headers: dict[str, str]):
    """A board action: queued with the proof of the signed-in principal, as the override endpoint queues one."""
    from shared.application.override_proof import ENV_OVERRIDE_KEY, OverrideKeyError, from_environ

    try:
        proofs = from_environ()
    except OverrideKeyError as exc:
        proofs, problem = None, str(exc)
    else:
        problem = ""
    if proofs is None and (problem or s.settings.overrides_need_principal):
        why = problem or f"{ENV_OVERRIDE_KEY} is not set: the events function could not tell this action came from a "
        why += "" if problem else "signed-in person, and would reject it (docs/deploy.md)"
        from shared.application.board.actions import Req

        return app.error(503, f"acting from the board is not set up: {why}", Req.of(visitor, app.key, app.base))
    return app.post(
        path,
        req.get_body(),
        next((v for k, v in headers.items() if k.lower() == "content-type"), ""),
        visitor,
        headers,
        req.url,
        s.publisher.publish,
        proofs.sign if proofs is not None else None,
    )
