"""Board actions over plain HTTP (v3 §19): what protects them (a session's form token, Origin and Fetch
Metadata, a form body, a reason) and who the actor is on Azure (the signed-in principal, never a field)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from shared.application.override_proof import ENV_OVERRIDE_KEY, PROOF_ATTRIBUTE
from tests.board.conftest import APPROVER, OPERATOR, drain, principal


def call(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
    data = urlencode(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    if data is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session(url: str, headers: dict | None = None) -> tuple[str, str]:
    """(the Cookie header, the form token) a confirmation page gives its visitor."""
    status, html, got = call(url, headers=headers)
    assert status == 200, html
    cookie = got["Set-Cookie"].split(";", 1)[0]
    assert "HttpOnly" in got["Set-Cookie"] and "SameSite=Strict" in got["Set-Cookie"]
    return cookie, re.search(r'name="token" value="([^"]+)"', html).group(1)


@pytest.fixture
def staged(demo):
    demo.staged_run()
    return demo


def test_a_board_started_without_an_actor_only_shows(board, staged):
    status, html, _ = call(f"{board}/releases/{staged.staged}")
    assert status == 200 and "wl-actions" not in html and "Read-only: start the board with --actor NAME" in html
    status, html, _ = call(f"{board}/releases/{staged.staged}/act", {"action": "pause", "reason": "x"},
                           {"Origin": board})  # fmt: skip
    assert status == 403 and "read-only" in html


@pytest.mark.parametrize(
    "change, status, says",
    [
        ({"token": "forged"}, 403, "the form has expired or is not from this board"),
        ({"cookie": None}, 403, "the form has expired"),
        ({"Origin": "https://evil.example"}, 403, "cross-site request refused"),
        ({"Origin": None, "Sec-Fetch-Site": "same-site"}, 403, "Sec-Fetch-Site same-site"),
        ({"Origin": None}, 403, "no Origin"),
        ({"Content-Type": "text/plain"}, 415, "a board action is a form"),
        ({"reason": "   "}, 400, "Give a reason"),
    ],
)
def test_what_a_post_needs(acting_board, staged, stack, change, status, says):
    board = acting_board(APPROVER)
    act = f"{board}/releases/{staged.staged}/act"
    cookie, token = session(f"{act}?action=approve&workload=crm")
    form = {"token": token, "action": "approve", "workload": "crm", "reason": "looks good"}
    headers = {"Origin": board, "Cookie": cookie}
    for key, value in change.items():
        target = form if key in form else headers
        if key == "cookie":
            headers.pop("Cookie")
        elif value is None:
            target.pop(key)
        else:
            target[key] = value
    got, html, _ = call(act, form, headers)
    assert got == status and says in html
    drain(stack)
    assert not [e for e in stack.store.list_history(staged.staged) if e.type == "override" and e.actor == APPROVER]


def test_a_token_is_worth_nothing_to_another_actor(acting_board, staged):
    approver, operator = acting_board(APPROVER), acting_board(OPERATOR)
    cookie, token = session(f"{approver}/releases/{staged.staged}/act?action=approve&workload=crm")
    form = {"token": token, "action": "pause", "workload": "crm", "reason": "x"}
    status, html, _ = call(f"{operator}/releases/{staged.staged}/act", form, {"Origin": operator, "Cookie": cookie})
    assert status == 403 and "the form has expired" in html


def test_on_azure_the_actor_is_the_signed_in_principal_and_the_action_carries_its_proof(
    azure_board, staged, stack, monkeypatch
):
    monkeypatch.setenv(ENV_OVERRIDE_KEY, "k" * 40)
    published: list[dict] = []
    real = stack.publisher.publish
    monkeypatch.setattr(stack.publisher, "publish", lambda e: (published.append(e), real(e)))
    signed_in = {"X-MS-CLIENT-PRINCIPAL": principal(APPROVER)}
    act = f"{azure_board}releases/{staged.staged}/act"
    cookie, token = session(f"{act}?action=approve&workload=crm", signed_in)
    origin = azure_board.split("/api/")[0]
    form = {"token": token, "action": "approve", "workload": "crm", "reason": "CAB-1234", "actor": "mallory"}
    status, _, headers = call(act, form, {**signed_in, "Origin": origin, "Cookie": cookie})
    assert status == 303 and "/api/board/releases/" in headers["Location"] and "/outcome/" in headers["Location"]
    [event] = published
    assert event["data"]["actor"] == APPROVER and PROOF_ATTRIBUTE in event  # the field named nobody
    drain(stack)
    status, html, _ = call(origin + headers["Location"], headers=signed_in)
    assert status == 200 and 'data-outcome="applied"' in html and "CAB-1234" in html
    # without a sign-in nothing is acted on
    status, _, _ = call(act, form, {"Origin": origin, "Cookie": cookie})
    assert status == 401


def test_an_acting_board_is_served_to_this_machine_only():
    from types import SimpleNamespace

    from shared.local.board_cli import cmd_board
    from shared.local.common import UsageError

    with pytest.raises(UsageError, match="anyone who reaches the board would act as ana"):
        cmd_board(SimpleNamespace(port=7072, host="0.0.0.0", actor="ana"))  # noqa: S104
