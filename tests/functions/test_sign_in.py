"""Signing in to the board on Azure (issue 26): the board function sends a browser that is not signed in to App
Service authentication's sign-in and refuses anything else with 401; the stand-in of App Service
authentication and Entra ID (tests/functions/easy_auth.py) is as strict as they are about the login flow."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import azure.functions as func
import pytest

from shared.local.localhost import registered_functions
from tests.board.conftest import principal
from tests.functions.easy_auth import SESSION_COOKIE, EasyAuth, infra_excluded_paths, sign_in_url


def board(path: str, headers: dict[str, str], query: str = "") -> func.HttpResponse:
    url = f"https://promote-func.azurewebsites.net/api/board/{path}" + (f"?{query}" if query else "")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    request = func.HttpRequest(
        method="GET", url=url, headers=headers, params=params, route_params={"path": path}, body=b""
    )
    return registered_functions()["board"](request)


@pytest.fixture
def auth_on(stack, monkeypatch):
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    return stack


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Mode": "navigate", "Accept": "text/html,application/xhtml+xml"},
        {"Accept": "text/html"},  # a browser without Fetch Metadata
    ],
)
def test_a_page_asked_for_without_sign_in_is_sent_to_sign_in_and_back(auth_on, headers):
    response = board("releases/r1", headers, query="workload=web")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/.auth/login/aad" and not location.netloc  # this app's own sign-in
    assert parse_qs(location.query)["post_login_redirect_uri"] == ["/api/board/releases/r1?workload=web"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Mode": "cors", "Accept": "text/html"},  # the page's own refresh (fetch)
        {"Sec-Fetch-Mode": "no-cors", "Accept": "*/*"},  # its script
        {"Accept": "application/json"},  # a program
        {},
    ],
)
def test_anything_else_without_sign_in_gets_401(auth_on, headers):
    response = board("static/board.js", headers)
    assert response.status_code == 401 and "Location" not in response.headers


def test_without_app_service_authentication_there_is_no_sign_in_to_send_anyone_to(stack, monkeypatch):
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED", raising=False)
    assert board("", {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}).status_code == 401


def test_a_signed_in_page_is_served(auth_on):
    response = board("", {"Sec-Fetch-Mode": "navigate", "X-MS-CLIENT-PRINCIPAL": principal()})
    assert response.status_code == 200 and b"<html" in response.get_body()


# -- the stand-in's login flow, without a browser ---------------------------------------------------------------
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def opener(jar: http.cookiejar.CookieJar, follow: bool = False) -> urllib.request.OpenerDirector:
    handlers: list = [urllib.request.HTTPCookieProcessor(jar)]
    if not follow:
        handlers.append(NoRedirect())
    return urllib.request.build_opener(*handlers)


def fetch(browser, url: str, data: bytes | None = None) -> tuple[int, dict, bytes]:
    try:
        with browser.open(urllib.request.Request(url, data=data)) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def sign_in(easy_auth: EasyAuth, browser, page: str) -> tuple[int, dict, bytes]:
    """Follow the flow by hand: login -> provider (pick the only account) -> callback."""
    status, headers, _ = fetch(browser, sign_in_url(easy_auth.url, page))
    assert status == 302, status
    status, _, body = fetch(browser, headers["Location"])
    if status != 200:
        return status, {}, body
    form = body.decode()
    token = form.split('name="id_token" value="')[1].split('"')[0]
    state = form.split('name="state" value="')[1].split('"')[0]
    action = form.split('action="')[1].split('"')[0]
    return fetch(browser, action, data=f"id_token={token}&state={state}".encode())


def test_the_login_flow_starts_a_session_that_serves_the_page_it_was_asked_for(stack):
    jar = http.cookiejar.CookieJar()
    browser = opener(jar)
    with EasyAuth(accounts={"ana@contoso.com": principal("ana@contoso.com")}) as easy_auth:
        assert fetch(browser, f"{easy_auth.url}/.auth/me")[0] == 401
        status, headers, _ = sign_in(easy_auth, browser, "/api/board/")
        assert (status, headers["Location"]) == (302, "/api/board/")
        session = next(c for c in jar if c.name == SESSION_COOKIE)
        assert session.has_nonstandard_attr("HttpOnly")
        status, _, body = fetch(browser, f"{easy_auth.url}/.auth/me")
        [me] = json.loads(body)
        assert (status, me["provider_name"], me["user_id"]) == (200, "aad", "ana@contoso.com")
        assert fetch(browser, f"{easy_auth.url}/api/board/")[0] == 200
        # a caller's own principal header never gets through; a stranger's browser has no session
        assert fetch(opener(http.cookiejar.CookieJar()), f"{easy_auth.url}/api/board/")[0] == 401
        fetch(browser, f"{easy_auth.url}/.auth/logout")
        assert fetch(browser, f"{easy_auth.url}/api/board/")[0] == 401


def test_the_login_flow_needs_the_redirect_uri_and_id_tokens_that_set_auth_sh_configures(stack):
    accounts = {"ana@contoso.com": principal("ana@contoso.com")}
    with EasyAuth(accounts=accounts, redirect_uris=[]) as easy_auth:
        status, _, body = sign_in(easy_auth, opener(http.cookiejar.CookieJar()), "/api/board/")
        assert status == 400 and b"AADSTS50011" in body
    with EasyAuth(accounts=accounts, id_tokens=False) as easy_auth:
        status, _, body = sign_in(easy_auth, opener(http.cookiejar.CookieJar()), "/api/board/")
        assert status == 400 and b"AADSTS700054" in body


def test_the_login_flow_refuses_another_sites_return_address_and_a_foreign_state(stack):
    with EasyAuth(accounts={"ana@contoso.com": principal("ana@contoso.com")}) as easy_auth:
        browser = opener(http.cookiejar.CookieJar())
        for elsewhere in ("https://evil.example/", "//evil.example/"):
            assert fetch(browser, sign_in_url(easy_auth.url, elsewhere))[0] == 400
        # a callback this browser did not start (no nonce cookie for that state)
        status, headers, _ = fetch(browser, sign_in_url(easy_auth.url, "/api/board/"))
        state = parse_qs(urlsplit(headers["Location"]).query)["state"][0]
        stranger = opener(http.cookiejar.CookieJar())
        assert fetch(stranger, f"{easy_auth.url}/.auth/login/aad/callback", data=f"state={state}".encode())[0] == 401


def test_the_stand_in_lets_through_unauthenticated_only_what_infra_excludes():
    assert "/api/alerts" in infra_excluded_paths()
    with EasyAuth() as easy_auth:
        assert easy_auth.excluded_paths == infra_excluded_paths()
