"""Acting from the board (board/actions.py, v3 §19): who the visitor is, the session cookie, the form token,
every reason a POST is refused in its words (a bearer token never stands in for the page's own Origin), the
form's limits on both sides, and the override a confirmed action queues."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.application.board.actions import (
    FORM_LIMIT,
    SESSION_COOKIE,
    Req,
    Visitor,
    form_token,
    override,
    parse_form,
    refused,
    session_cookie,
    visitor_of,
)
from shared.domain.actors import ACTOR_REASON_LIMIT, Principal

KEY = b"k" * 32
SESSION = "s" * 24
ANA = Principal("ana@contoso.com")
TOKEN = "7hQq6bgufuOhgYxYFBwpgPnSfFpvdwsFbpflHLdVxwU"  # HMAC-SHA256 of the session and the actor, base64url
URL = "http://localhost:7071/releases/wave-7/act"


def test_the_visitor_is_the_actor_given_with_the_session_cookie_they_sent():
    def session(cookie: str) -> str | None:
        return visitor_of({"Cookie": cookie}, ANA).session

    assert session(f"{SESSION_COOKIE}={'a' * 20}") == "a" * 20
    assert session(f"other=1; {SESSION_COOKIE}={'a-b_' * 25}") == "a-b_" * 25  # 100 characters
    assert session(f"{SESSION_COOKIE}={'a' * 19}") is None
    assert session(f"{SESSION_COOKIE}={'a' * 101}") is None
    assert session(f"{SESSION_COOKIE}={'a' * 19}!") is None
    assert session("other=1") is None
    assert session('x="unterminated') is None
    assert session(f"a@b=c; {SESSION_COOKIE}={'a' * 20}") is None  # a header Python refuses to parse: no session
    assert visitor_of({"cookie": f"{SESSION_COOKIE}={'b' * 30}"}, None).session == "b" * 30  # any case of the name
    assert visitor_of({}, ANA, secure=True, why_not="") == Visitor(
        ANA, None, True, "start the board with --actor NAME to act from it"
    )
    assert visitor_of({}, None, why_not="sign in as an operator").why_not == "sign in as an operator"
    assert visitor_of({}, ANA) == Visitor(ANA, None, False, "start the board with --actor NAME to act from it")


def test_the_session_cookie_and_the_form_token():
    assert session_cookie(SESSION, "/board/", False) == (
        f"promote_board_session={SESSION}; Path=/board/; HttpOnly; SameSite=Strict"
    )
    assert (
        session_cookie(SESSION, "/", True)
        == f"promote_board_session={SESSION}; Path=/; HttpOnly; SameSite=Strict; Secure"
    )
    assert form_token(KEY, SESSION, ANA) == TOKEN
    assert form_token(KEY, SESSION, Principal("Ana@Contoso.COM")) == TOKEN  # actors compare case-insensitively
    assert form_token(KEY, "t" * 24, ANA) != TOKEN and form_token(b"j" * 32, SESSION, ANA) != TOKEN
    assert form_token(KEY, SESSION, Principal("bo@contoso.com")) != TOKEN


def test_a_request_carries_its_token_and_a_new_session_its_cookie():
    assert Req.of(None, KEY, "/") == Req(Visitor())
    looker = Visitor(None, SESSION)
    assert Req.of(looker, KEY, "/") == Req(looker)
    known = Visitor(ANA, SESSION)
    assert Req.of(known, KEY, "/") == Req(known, TOKEN, None)
    new = Req.of(Visitor(ANA, None, True), KEY, "/b/")
    session = new.cookie.split(";")[0].split("=", 1)[1]
    assert new.cookie == f"promote_board_session={session}; Path=/b/; HttpOnly; SameSite=Strict; Secure"
    assert len(session) == 32 and new.token == form_token(KEY, session, ANA)


SAME = {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost:7071"}


@pytest.mark.parametrize(
    ("visitor", "headers", "form", "why"),
    [
        (Visitor(None, SESSION, why_not="no actor here"), SAME, {"token": TOKEN},
         "this board is read-only for you: no actor here"),
        (Visitor(ANA, SESSION), {"Sec-Fetch-Site": "cross-site"}, {"token": TOKEN},
         "cross-site request refused: the browser says it came from another site (Sec-Fetch-Site cross-site)"),
        (Visitor(ANA, SESSION), {"Sec-Fetch-Site": "Same-Site"}, {"token": TOKEN},
         "cross-site request refused: the browser says it came from another site (Sec-Fetch-Site same-site)"),
        (Visitor(ANA, SESSION), {}, {"token": TOKEN},
         "cross-site request refused: a board action is sent by the board's own page (no Origin)"),
        (Visitor(ANA, SESSION), {"Origin": "https://evil.example"}, {"token": TOKEN},
         "cross-site request refused: Origin 'https://evil.example' is not this app (http://localhost:7071)"),
        # a bearer token vouches for nothing here: the Origin is still checked
        (Visitor(ANA, SESSION), {"Origin": "https://evil.example", "Authorization": "Bearer x"}, {"token": TOKEN},
         "cross-site request refused: Origin 'https://evil.example' is not this app (http://localhost:7071)"),
        (Visitor(ANA, None), SAME, {"token": TOKEN},
         "the form has expired or is not from this board: reload the page and try again"),
        (Visitor(ANA, SESSION), SAME, {"token": TOKEN[:-1]},
         "the form has expired or is not from this board: reload the page and try again"),
        (Visitor(ANA, SESSION), SAME, {},
         "the form has expired or is not from this board: reload the page and try again"),
    ],
)  # fmt: skip
def test_each_reason_a_post_is_refused(visitor, headers, form, why):
    assert refused(visitor, KEY, headers, URL, form) == why


def test_the_boards_own_page_is_accepted_by_its_fetch_site_or_its_origin():
    assert refused(Visitor(ANA, SESSION), KEY, SAME, URL, {"token": TOKEN}) is None
    assert refused(Visitor(ANA, SESSION), KEY, {"sec-fetch-site": "same-origin"}, URL, {"token": TOKEN}) is None
    assert refused(Visitor(ANA, SESSION), KEY, {"Origin": "http://localhost:7071"}, URL, {"token": TOKEN}) is None


def test_a_form_is_urlencoded_ascii_at_most_16_kib_and_20_fields():
    form = "application/x-www-form-urlencoded"
    assert parse_form(b"action=pause&reason=&action=resume", f"{form}; charset=utf-8") == {
        "action": "resume",
        "reason": "",
    }
    assert parse_form(b"a=1", "Application/X-WWW-Form-Urlencoded") == {"a": "1"}
    assert parse_form(b"a=1", "multipart/form-data") is None
    exact = b"a=" + b"x" * (FORM_LIMIT - 2)
    assert FORM_LIMIT == 16 * 1024 and parse_form(exact, form) == {"a": "x" * (FORM_LIMIT - 2)}
    assert parse_form(exact + b"x", form) is None
    assert parse_form("a=é".encode(), form) is None
    twenty = "&".join(f"f{i}=v" for i in range(20)).encode()
    assert len(parse_form(twenty, form)) == 20
    assert parse_form(twenty + b"&f20=v", form) is None


def test_a_confirmed_action_queues_the_override_the_endpoint_would():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    queued = override("wave-7", "crm", "approve", "tests green", ANA, now)
    uuid.UUID(queued.event["id"])  # a new id each time: its outcome is found under it
    assert queued.key == queued.event["id"]
    event = {k: v for k, v in queued.event.items() if k not in ("id", "traceparent")}
    assert event == {
        "specversion": "1.0",
        "source": "promote/board",
        "type": "override",
        "time": "2026-03-02T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {"release": "wave-7", "workload": "crm", "action": "approve", "actor": "ana@contoso.com",
                 "reason": "tests green"},
    }  # fmt: skip
    release_wide = override("wave-7", "", "pause", "x" * (ACTOR_REASON_LIMIT + 5), ANA, now)
    assert release_wide.event["data"] == {
        "release": "wave-7", "action": "pause", "actor": "ana@contoso.com",
        "reason": "x" * (ACTOR_REASON_LIMIT - 1) + "…",
    }  # fmt: skip
