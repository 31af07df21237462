"""Signing in to the board in a real headless Chromium (issue 26): Entra ID's login flow through App Service
authentication (the stand-in in tests/functions/easy_auth.py), then the board as that person."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.board.conftest import APPROVER, principal
from tests.functions.easy_auth import SESSION_COOKIE, EasyAuth, infra_excluded_paths, sign_in_url


def pick_account(page, easy_auth: EasyAuth, who: str) -> None:
    """Entra ID's page (another origin): pick the account; it posts the ID token back to the app."""
    expect(page).to_have_url(re.compile("^" + re.escape(f"{easy_auth.idp_url}/authorize?")))
    expect(page.get_by_role("heading")).to_have_text("Pick an account")
    page.get_by_role("button", name=who).click()


def test_a_browser_signs_in_with_entra_id_and_sees_the_board(page, demo):
    demo.up_to_rollback()
    with EasyAuth(accounts={APPROVER: principal(APPROVER), "ops@contoso.com": principal("ops@contoso.com")}) as auth:
        # as infra deploys it, App Service answers 401 to a browser that is not signed in...
        response = page.goto(f"{auth.url}/api/board/")
        assert response is not None and response.status == 401
        # ...and the board's address signs in first, then lands on the board
        page.goto(sign_in_url(auth.url, "/api/board/"))
        pick_account(page, auth, APPROVER)
        expect(page).to_have_url(f"{auth.url}/api/board/")
        expect(page.locator(f"tr[data-release='{demo.flight}'] td").nth(1)).to_have_text("rolled-back")
        [session] = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        assert session["httpOnly"]  # no script of any page can read it
        me = page.evaluate("fetch('/.auth/me').then(r => r.json())")
        assert me[0]["user_id"] == APPROVER
        page.get_by_role("link", name=demo.flight).click()
        expect(page).to_have_url(re.compile(f"/api/board/releases/{demo.flight}$"))
        expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("rolled-back")
        # signed out, the same browser is refused again
        page.goto(f"{auth.url}/.auth/logout")
        response = page.goto(f"{auth.url}/api/board/releases/{demo.flight}")
        assert response is not None and response.status == 401


def test_with_the_board_excluded_from_the_401_a_page_sends_the_browser_to_sign_in_and_back(page, demo):
    # the board's paths excluded (authsettingsV2 excludedPaths): the board function itself answers a browser
    # that is not signed in with the sign-in, which brings it back to the page it asked for
    excluded = [*infra_excluded_paths(), "/api/board/*"]
    with EasyAuth(accounts={APPROVER: principal(APPROVER)}, excluded_paths=excluded) as auth:
        page.goto(f"{auth.url}/api/board/releases/{demo.flight}")
        pick_account(page, auth, APPROVER)
        expect(page).to_have_url(f"{auth.url}/api/board/releases/{demo.flight}")
        expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("replicating")
        # the page's own requests (its script, its refresh) are never redirected: 401 without the session
        assert page.request.get(f"{auth.url}/api/board/static/board.js").status == 200  # the context's cookie
        stranger = page.context.browser.new_context()
        try:
            assert stranger.request.get(f"{auth.url}/api/board/static/board.js").status == 401
        finally:
            stranger.close()
