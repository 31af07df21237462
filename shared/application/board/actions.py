"""Acting from the board (v3 §19): who acts, the forms' protection against other sites, and the override a
confirmed action queues. Board actions use the same rules and outcomes as overrides: what is offered is what
decide() would apply (shared/domain/offers.py), and a confirmed action is queued as the override endpoint
queues one (shared/application/overrides.py: same validation, same proof of the signed-in principal on Azure);
its outcome is the one history records.

The actor is never a form field: locally the identity `promote board --actor` was started with, on Azure the
principal App Service authentication signed in. A POST is accepted only from the board's own pages: its
Sec-Fetch-Site (when sent) is same-origin, its Origin (when sent) is this app, one of them is there, and it
carries the form token of the visitor's session (an HMAC of the session cookie and the actor, so a token seen
by another person or another session is worth nothing).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from shared.application.overrides import OverrideRequestError, cross_site, override_event
from shared.domain.actors import Principal, clip_actor_reason
from shared.domain.messages import dedup_key, parse_message

SESSION_COOKIE = "promote_board_session"
FORM_LIMIT = 16 * 1024  # a board form is an action, a workload, a reason and a token
SOURCE = "promote/board"


@dataclass(frozen=True)
class Visitor:
    """Who looks at the board. `actor` None: they may only look (`why_not` says why)."""

    actor: Principal | None = None
    session: str | None = None  # the session cookie they sent (None: none yet, the page sets one)
    secure: bool = False  # served over https: the cookie is Secure
    why_not: str = "start the board with --actor NAME to act from it"


def visitor_of(
    headers: Mapping[str, str], actor: Principal | None, *, secure: bool = False, why_not: str = ""
) -> Visitor:
    """The visitor of a request: its actor (decided by the caller, never by the request) and session cookie."""
    session = None
    raw = _header(headers, "cookie")
    if raw:
        try:
            jar = SimpleCookie(raw)
        except CookieError:
            jar = SimpleCookie()
        morsel = jar.get(SESSION_COOKIE)
        value = morsel.value if morsel is not None else ""
        session = value if 20 <= len(value) <= 100 and value.replace("-", "").replace("_", "").isalnum() else None
    return Visitor(actor, session, secure, why_not or Visitor.why_not)


def new_session() -> str:
    return secrets.token_urlsafe(24)


def session_cookie(session: str, base: str, secure: bool) -> str:
    """Set-Cookie for a new session: not readable by scripts, never sent with another site's request."""
    flags = "; Secure" if secure else ""
    return f"{SESSION_COOKIE}={session}; Path={base}; HttpOnly; SameSite=Strict{flags}"


def form_token(key: bytes, session: str, actor: Principal) -> str:
    mac = hmac.new(key, f"board-form\n{session}\n{actor.name.lower()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def refused(visitor: Visitor, key: bytes, headers: Mapping[str, str], url: str, form: Mapping[str, str]) -> str | None:
    """Why this POST is refused (403), or None: no actor, another site, or no valid form token."""
    if visitor.actor is None:
        return f"this board is read-only for you: {visitor.why_not}"
    site = _header(headers, "sec-fetch-site").lower()
    if site and site != "same-origin":
        return f"cross-site request refused: the browser says it came from another site (Sec-Fetch-Site {site})"
    plain = {k: v for k, v in headers.items() if k.lower() != "authorization"}  # a bearer token vouches for nothing
    origin = _header(headers, "origin")
    if not site and not origin:
        return "cross-site request refused: a board action is sent by the board's own page (no Origin)"
    if origin and (why := cross_site(plain, url)):
        return why
    if not visitor.session or not hmac.compare_digest(
        form.get("token", ""), form_token(key, visitor.session, visitor.actor)
    ):
        return "the form has expired or is not from this board: reload the page and try again"
    return None


def parse_form(body: bytes, content_type: str) -> dict[str, str] | None:
    """An urlencoded form's fields (the last of each), or None if the body is not one."""
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded" or len(body) > FORM_LIMIT:
        return None
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[-1] for k, v in fields.items()}


@dataclass(frozen=True)
class Queued:
    event: dict
    key: str  # its de-duplication key: the marker that will hold its outcome


def override(release: str, workload: str | None, action: str, reason: str, actor: Principal, now: datetime) -> Queued:
    """The override a confirmed action sends, validated as the endpoint validates one; OverrideRequestError."""
    body = {"release": release, "workload": workload or None, "action": action, "reason": clip_actor_reason(reason)}
    event = override_event(json.dumps({k: v for k, v in body.items() if v}).encode(), actor, now)
    event["source"] = SOURCE
    try:
        key = dedup_key(parse_message(json.dumps(event)))
    except Exception as exc:  # noqa: BLE001 - validated just above; a change of source cannot make it invalid
        raise OverrideRequestError(str(exc)) from None
    return Queued(event, key)


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "").strip()


@dataclass(frozen=True)
class Req:
    """One request's visitor and what its page needs to act: the form token of their session, and the
    Set-Cookie of a session started by this page (None: they had one, or may not act)."""

    visitor: Visitor
    token: str | None = None
    cookie: str | None = None

    @staticmethod
    def of(visitor: Visitor | None, key: bytes, base: str) -> Req:
        if visitor is None or visitor.actor is None:
            return Req(visitor or Visitor())
        session = visitor.session or new_session()
        cookie = None if visitor.session else session_cookie(session, base, visitor.secure)
        return Req(visitor, form_token(key, session, visitor.actor), cookie)
