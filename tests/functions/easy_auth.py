"""A local stand-in for App Service authentication (Easy Auth, Entra ID) in front of the function app, and for
Entra ID's sign-in page behind it, as strict as the real ones where it matters here:

- A bearer token must be one Entra ID issued (`tokens`), else 401, whatever the path.
- The login flow: /.auth/login/aad?post_login_redirect_uri=/path (a path of this app only: another site needs
  allowedExternalRedirectUrls, which promote does not set) sends the browser to the identity provider's
  authorize endpoint (another origin) with redirect_uri <app>/.auth/login/aad/callback, response_type
  "code id_token", response_mode form_post, a state and a nonce cookie. The provider refuses a redirect URI
  the app registration does not list (AADSTS50011) and an ID token the registration does not issue
  (AADSTS700054): what infra/set-auth.sh sets. It posts the ID token back; the callback checks the state
  against the nonce cookie, starts a session (cookie AppServiceAuthSession, HttpOnly) and redirects to the page.
- /.auth/me: the session's identity (401 without one); /.auth/logout ends the session.
- Every other request: any X-MS-CLIENT-PRINCIPAL* header the caller sent is dropped; a valid token or session
  sets X-MS-CLIENT-PRINCIPAL; without one a path not excluded (infra's excludedPaths) gets 401
  (unauthenticatedClientAction Return401), an excluded one reaches its function unauthenticated. The request
  is routed to the registered function as the Functions host routes it (routePrefix api)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import secrets
import threading
from functools import lru_cache
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import azure.functions as func

from shared.application.config import ENV_EASY_AUTH_ENABLED
from shared.local.localhost import registered_functions
from tools.worker_host import match_route

ROOT = Path(__file__).resolve().parents[2]
SESSION_COOKIE = "AppServiceAuthSession"
NONCE_COOKIE = "Nonce"
CALLBACK = "/.auth/login/aad/callback"
DENIED = b"You do not have permission to view this directory or page."  # App Service's 401 page says so


def infra_excluded_paths() -> list[str]:
    """globalValidation.excludedPaths of infra/modules/functionapp.bicep: what Azure lets through unauthenticated."""
    text = (ROOT / "infra" / "modules" / "functionapp.bicep").read_text()
    block = re.search(r"excludedPaths:\s*\[(.*?)\]", text, re.S)
    return re.findall(r"'([^']+)'", block.group(1)) if block else []


def excluded(path: str, patterns: list[str]) -> bool:
    return any(path == p or (p.endswith("/*") and path.startswith(p[:-1])) for p in patterns)


def claims_of(principal: str) -> list[dict]:
    return json.loads(base64.b64decode(principal))["claims"]


class EasyAuth:
    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        *,
        accounts: dict[str, str] | None = None,
        excluded_paths: list[str] | None = None,
        redirect_uris: list[str] | None = None,
        id_tokens: bool = True,
    ):
        """`tokens`: bearer token -> the X-MS-CLIENT-PRINCIPAL value Entra ID's claims would give; `accounts`: who
        can sign in on the provider's page (name -> principal value); `excluded_paths`: infra's by default;
        `redirect_uris` and `id_tokens`: the app registration (default: as infra/set-auth.sh leaves it)."""
        self.tokens, self.accounts = dict(tokens or {}), dict(accounts or {})
        self.excluded_paths = infra_excluded_paths() if excluded_paths is None else excluded_paths
        self.seen_headers: list[dict[str, str]] = []
        self.sessions: dict[str, str] = {}  # session cookie -> principal
        self.pending: dict[str, str] = {}  # state -> post-login path
        self.issued: dict[str, str] = {}  # ID token -> principal
        self.app = ThreadingHTTPServer(("127.0.0.1", 0), self._app_handler())
        self.idp = ThreadingHTTPServer(("127.0.0.1", 0), self._idp_handler())
        self.url = f"http://127.0.0.1:{self.app.server_address[1]}"
        self.idp_url = f"http://127.0.0.1:{self.idp.server_address[1]}"  # another origin, as Entra ID's is
        self.redirect_uris = [self.url + CALLBACK] if redirect_uris is None else redirect_uris
        self.id_tokens = id_tokens
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (self.app, self.idp)]

    def __enter__(self) -> EasyAuth:
        # App Service sets this app setting while authentication is on (the functions trust the principal by it)
        self._setting = os.environ.get(ENV_EASY_AUTH_ENABLED)
        os.environ[ENV_EASY_AUTH_ENABLED] = "True"
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        for server in (self.app, self.idp):
            server.shutdown()
            server.server_close()
        if self._setting is None:
            os.environ.pop(ENV_EASY_AUTH_ENABLED, None)
        else:
            os.environ[ENV_EASY_AUTH_ENABLED] = self._setting

    # the app's front door --------------------------------------------------------------------------------
    def _app_handler(self):
        outer = self

        class Handler(_Base):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = urlsplit(self.path).path
                if path == "/.auth/login/aad":
                    return self._login()
                if path == "/.auth/me":
                    return self._me()
                if path == "/.auth/logout":
                    return self._logout()
                self._app("GET")

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path == CALLBACK:
                    return self._callback()
                self._app("POST")

            def _login(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                back = query.get("post_login_redirect_uri", ["/"])[0]
                if not back.startswith("/") or back.startswith("//"):
                    return self._send(400, b"post_login_redirect_uri must be a path of this app", {})
                state = secrets.token_urlsafe(16)
                outer.pending[state] = back
                authorize = {
                    "client_id": "promote-api",
                    "redirect_uri": outer.url + CALLBACK,
                    "response_type": "code id_token",
                    "response_mode": "form_post",
                    "scope": "openid profile email",
                    "state": state,
                    "nonce": secrets.token_urlsafe(8),
                }
                cookie = f"{NONCE_COOKIE}={state}; Path=/; HttpOnly; SameSite=Lax"
                self._send(
                    302, b"", {"Location": f"{outer.idp_url}/authorize?{urlencode(authorize)}", "Set-Cookie": cookie}
                )

            def _callback(self) -> None:
                form = parse_qs(self._body().decode())
                state, token = form.get("state", [""])[0], form.get("id_token", [""])[0]
                if not state or self._cookie(NONCE_COOKIE) != state or state not in outer.pending:
                    return self._send(401, b"the sign-in's state does not match this browser's", {})
                principal = outer.issued.pop(token, None)
                if principal is None:
                    return self._send(401, b"the ID token was not issued by the identity provider", {})
                session = secrets.token_urlsafe(24)
                outer.sessions[session] = principal
                headers = {"Location": outer.pending.pop(state)}
                self._send(302, b"", headers, cookies=[
                    f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax",
                    f"{NONCE_COOKIE}=; Path=/; Max-Age=0",
                ])  # fmt: skip

            def _me(self) -> None:
                principal = self._principal()
                if principal is None:
                    return self._send(401, b"", {})
                claims = claims_of(principal)
                upn = next(
                    (c["val"] for c in claims if c["typ"].endswith("upn") or c["typ"] == "preferred_username"), ""
                )
                doc = [{"provider_name": "aad", "user_id": upn, "user_claims": claims}]
                self._send(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})

            def _logout(self) -> None:
                outer.sessions.pop(self._cookie(SESSION_COOKIE) or "", None)
                self._send(302, b"", {"Location": "/"}, cookies=[f"{SESSION_COOKIE}=; Path=/; Max-Age=0"])

            def _principal(self) -> str | None:
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Bearer "):
                    return outer.tokens.get(auth.removeprefix("Bearer "))
                return outer.sessions.get(self._cookie(SESSION_COOKIE) or "")

            def _app(self, method: str) -> None:
                body = self._body()
                url = urlsplit(self.path)
                principal = self._principal()
                bad_token = self.headers.get("Authorization", "").startswith("Bearer ") and principal is None
                if bad_token or (principal is None and not excluded(url.path, outer.excluded_paths)):
                    return self._send(
                        401, DENIED, {"WWW-Authenticate": 'Bearer realm="promote"', "Content-Type": "text/html"}
                    )
                headers = {k: v for k, v in self.headers.items() if not k.lower().startswith("x-ms-client-principal")}
                if principal is not None:
                    headers["X-MS-CLIENT-PRINCIPAL"] = principal
                outer.seen_headers.append(headers)
                matched = match_route(_http_routes(), method, url.path)
                if matched is None:
                    return self._send(404, b"", {})
                name, params = matched
                request = func.HttpRequest(
                    method=method,
                    url=outer.url + self.path,
                    headers=headers,
                    params={k: v[0] for k, v in parse_qs(url.query).items()},
                    route_params=params,
                    body=body,
                )
                response = registered_functions()[name](request)
                sent = dict(response.headers)
                if not any(k.lower() == "content-type" for k in sent) and response.mimetype:
                    sent["Content-Type"] = f"{response.mimetype}; charset={response.charset}"
                self._send(response.status_code, response.get_body(), sent)

        return Handler

    # the identity provider ------------------------------------------------------------------------------
    def _idp_handler(self):
        outer = self

        class Handler(_Base):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/authorize":
                    return self._send(404, b"", {})
                redirect = query.get("redirect_uri", "")
                if redirect not in outer.redirect_uris:
                    message = (
                        f"AADSTS50011: The redirect URI '{redirect}' does not match the redirect URIs "
                        "configured for the application."
                    )
                    return self._send(400, message.encode(), {"Content-Type": "text/plain"})
                if "id_token" in query.get("response_type", "").split() and not outer.id_tokens:
                    message = "AADSTS700054: response_type 'id_token' is not enabled for the application."
                    return self._send(400, message.encode(), {"Content-Type": "text/plain"})
                forms = []
                for name, principal in outer.accounts.items():
                    token = secrets.token_urlsafe(24)
                    outer.issued[token] = principal
                    forms.append(
                        f'<form method="post" action="{html.escape(redirect)}">'
                        f'<input type="hidden" name="id_token" value="{token}">'
                        f'<input type="hidden" name="state" value="{html.escape(query.get("state", ""))}">'
                        f"<button>{html.escape(name)}</button></form>"
                    )
                page = f"<!doctype html><title>Sign in</title><h1>Pick an account</h1>{''.join(forms)}"
                self._send(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

        return Handler


@lru_cache(maxsize=1)
def _http_routes() -> dict[str, tuple[str, list[str]]]:
    """function -> (route, methods) of each HTTP trigger, from the app's one indexing."""
    import function_app

    registered_functions()  # the app is indexed once; its builders keep what it found
    routes = {}
    for builder in function_app.app._function_builders:
        f = builder._function
        for b in f.get_bindings():
            d = b.get_dict_repr()
            if d["type"] == "httpTrigger":
                routes[str(f.get_function_name())] = (d["route"], [str(getattr(m, "value", m)) for m in d["methods"]])
    return routes


class _Base(BaseHTTPRequestHandler):
    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cookie(self, name: str) -> str | None:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        return jar[name].value if name in jar else None

    def _send(self, status: int, body: bytes, headers: dict[str, str], cookies: tuple | list = ()) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def sign_in_url(base: str, page: str) -> str:
    return f"{base}/.auth/login/aad?post_login_redirect_uri={quote(page, safe='')}"
