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
from datetime import datetime
from typing import Any

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


def override_event(body: bytes, principal: Principal, now: datetime) -> dict:
    """The override CloudEvent for an endpoint request; the actor is the principal. OverrideRequestError if
    the body is not `{"release", "action", "reason", ["workload"], ["id"]}` or would be an invalid message."""
    try:
        doc: Any = json.loads(body or b"null")
    except (UnicodeDecodeError, ValueError) as exc:
        raise OverrideRequestError(f"the body is not JSON: {exc}") from None
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
