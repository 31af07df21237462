"""The override endpoint's translation: App Service authentication's client principal -> a Principal, and an
HTTP request body -> an override CloudEvent whose actor is that principal (never a field of the request).

App Service authentication (Easy Auth) with Entra ID sits in front of the function app: it rejects
unauthenticated calls (401) and, for an authenticated one, sets X-MS-CLIENT-PRINCIPAL, a base64-encoded
JSON document {"auth_typ", "claims": [{"typ", "val"}], "name_typ", "role_typ"}. Callers cannot set that
header themselves: App Service strips it from incoming requests.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from shared.domain.actors import Principal
from shared.domain.errors import MessageError, PromoteError
from shared.domain.messages import new_event, parse_message

PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
MAX_PRINCIPAL_HEADER = 64 * 1024
ENTRA_AUTH_TYPE = "aad"
# Claim types as App Service presents them (short or mapped to the WS-Federation URIs), most specific first:
# the user principal name is what plans list; an application (a pipeline) has none, and is named by its
# object id.
NAME_CLAIMS = ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "upn", "preferred_username")
OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
GROUP_CLAIMS = ("groups", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups")
ALLOWED_FIELDS = {"release", "workload", "action", "reason", "id"}


class PrincipalError(PromoteError):
    """No valid client principal: the caller is not authenticated (401)."""


class OverrideRequestError(PromoteError):
    """The request body is not a valid override (400)."""


def principal_from_header(value: str | None) -> Principal:
    """The authenticated Entra ID principal in X-MS-CLIENT-PRINCIPAL; PrincipalError if there is none."""
    if not value:
        raise PrincipalError(
            f"no {PRINCIPAL_HEADER} header: the request was not authenticated by App Service authentication (Entra ID)"
        )
    if len(value) > MAX_PRINCIPAL_HEADER:
        raise PrincipalError(f"{PRINCIPAL_HEADER} is too large")
    try:
        doc = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise PrincipalError(f"{PRINCIPAL_HEADER} is not base64-encoded JSON: {exc}") from None
    except RecursionError:  # a few KB of '[': json.loads gives up at Python's recursion limit
        raise PrincipalError(f"{PRINCIPAL_HEADER} is not JSON: nested too deeply") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise PrincipalError(f"{PRINCIPAL_HEADER} has no claims")
    if str(doc.get("auth_typ", "")).lower() != ENTRA_AUTH_TYPE:
        raise PrincipalError(
            f"{PRINCIPAL_HEADER} is from identity provider {doc.get('auth_typ')!r}; "
            f"overrides need Entra ID ({ENTRA_AUTH_TYPE!r})"
        )
    claims: list[tuple[str, str]] = [
        (c["typ"], c["val"])
        for c in doc["claims"]
        if isinstance(c, dict) and isinstance(c.get("typ"), str) and isinstance(c.get("val"), str)
    ]

    def first(types: tuple[str, ...]) -> str | None:
        for wanted in types:
            for typ, val in claims:
                if typ == wanted and val.strip():
                    return val.strip()
        return None

    name_typ = doc.get("name_typ")
    name = first(NAME_CLAIMS) or (first((name_typ,)) if isinstance(name_typ, str) else None) or first(OBJECT_ID_CLAIMS)
    if not name or len(name) > 256 or any(ord(c) < 32 for c in name):
        raise PrincipalError(f"{PRINCIPAL_HEADER} names no user principal name or object id")
    groups = tuple(dict.fromkeys(val for typ, val in claims if typ in GROUP_CLAIMS))
    return Principal(name=name, groups=groups, authenticated=True)


def not_json(headers: Mapping[str, str]) -> str | None:
    """Why the request's body is not declared JSON (415), or None. A browser sends text/plain, form and
    multipart bodies across sites without asking the app first (no CORS preflight); application/json it may
    send only after a preflight this app never grants."""
    declared = _header(headers, "content-type")
    if declared.split(";", 1)[0].strip().lower() == "application/json":
        return None
    return f"an override is a JSON body: Content-Type must be application/json (got {declared or 'none'!r})"


def cross_site(headers: Mapping[str, str], url: str) -> str | None:
    """Why the request is refused as cross-site (403), or None. A request that names an Origin other than the
    app's own came from another site's page; one with a bearer token did not (browsers never attach one by
    themselves, and App Service authentication has validated it). The app's own origin is where the request
    was sent: the host and scheme App Service forwards (X-Forwarded-Host, X-Forwarded-Proto), else its URL's."""
    origin = _header(headers, "origin")
    if not origin or _header(headers, "authorization").lower().startswith("bearer "):
        return None
    app = app_origin(headers, url)
    claimed = _origin(origin)
    if claimed is not None and claimed == _origin(app):
        return None
    return f"cross-site request refused: Origin {origin!r} is not this app ({app})"


def app_origin(headers: Mapping[str, str], url: str) -> str:
    """scheme://host of this app as the client addressed it: what App Service forwards (X-Forwarded-Proto,
    X-Forwarded-Host: a custom domain in front), else the request's own URL and Host."""
    sent_to = urlsplit(url)
    scheme = _first(_header(headers, "x-forwarded-proto")) or sent_to.scheme
    host = _first(_header(headers, "x-forwarded-host")) or _header(headers, "host") or sent_to.netloc
    return f"{scheme}://{host}"


def queued_reply(event: dict, headers: Mapping[str, str], url: str) -> dict:
    """The 202 answer once an override is queued (contract §18): its id, its release and where to watch its
    outcome appear (the status route; the board's page for people)."""
    release, origin = event["data"]["release"], app_origin(headers, url)
    return {
        "id": event["id"],
        "release": release,
        "status_url": f"{origin}/api/releases/{release}",
        "board_url": f"{origin}/api/board/releases/{release}",
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "").strip()


def _first(value: str) -> str:
    """The client's end of a forwarded header a chain of proxies appended to."""
    return value.split(",", 1)[0].strip()


def _origin(value: str) -> tuple[str, str] | None:
    """An origin as (scheme, host[:port]) without its default port; None for an opaque one ("null")."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    return parts.scheme, parts.hostname + ("" if port in (None, default) else f":{port}")


def override_event(body: bytes, principal: Principal, now: datetime) -> dict:
    """The override CloudEvent for an endpoint request; the actor is the principal. OverrideRequestError if
    the body is not `{"release", "action", "reason", ["workload"], ["id"]}` or would be an invalid message."""
    try:
        doc: Any = json.loads(body or b"null")
    except (UnicodeDecodeError, ValueError) as exc:
        raise OverrideRequestError(f"the body is not JSON: {exc}") from None
    except RecursionError:  # a few KB of '[': json.loads gives up at Python's recursion limit
        raise OverrideRequestError("the body is not JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise OverrideRequestError('the body is a JSON object: {"release", "action", "reason", "workload", "id"}')
    if "actor" in doc:
        raise OverrideRequestError(f"the body may not name an actor: the actor is who signed in ({principal.name})")
    unknown = sorted(set(doc) - ALLOWED_FIELDS)
    if unknown:
        raise OverrideRequestError(f"unknown field(s): {', '.join(map(str, unknown))}")
    event_id = doc.get("id") or str(uuid.uuid4())
    data = {
        "release": doc.get("release"),
        "workload": doc.get("workload"),
        "action": doc.get("action"),
        "actor": principal.name,
        "reason": doc.get("reason"),
    }
    try:
        event = new_event(
            "override",
            data,
            id=event_id if isinstance(event_id, str) else "",
            source="promote/override-endpoint",
            time=now,
        )
        parse_message(json.dumps(event))  # the orchestrator's own validation, answered now
    except MessageError as exc:
        raise OverrideRequestError(f"invalid override: {exc}") from None
    return event
