"""Bearer tokens for the local stand-ins of Azure: what Microsoft Entra ID issues, in the parts a service checks.

`TokenCredential` is a credential (get_token) that issues, for the scope asked, a JWT whose `aud` is that scope's
resource (`https://api.loganalytics.us/.default` -> `https://api.loganalytics.us`), with `exp` and the caller's
`oid`; unsigned (nothing here verifies signatures). It caches each token until it nears expiry, as azure-identity's
credentials do, and counts the tokens it issued. A stand-in reads a request's token with `claims()` and refuses
(401) one for another audience, as Azure does: a token is good for one resource only.

`AUDIENCES` is each cloud's audience per service, as Azure documents them (kept apart from the code's own table
in shared/application/config.py, so a wrong value there fails a test).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

AUDIENCES = {
    "AzureCloud": {
        "arm": "https://management.azure.com",
        "logs": "https://api.loganalytics.io",
        "metrics": "https://metrics.monitor.azure.com",
        "event-grid": "https://eventgrid.azure.net",
    },
    "AzureUSGovernment": {
        "arm": "https://management.usgovcloudapi.net",
        "logs": "https://api.loganalytics.us",
        "metrics": "https://metrics.monitor.azure.us",
        "event-grid": "https://eventgrid.azure.us",
    },
    "AzureChinaCloud": {
        "arm": "https://management.chinacloudapi.cn",
        "logs": "https://api.loganalytics.azure.cn",
        "metrics": "https://metrics.monitor.azure.cn",
        "event-grid": "https://eventgrid.azure.cn",
    },
}
LIFETIME_SECONDS = 3600


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def resource(scope: str) -> str:
    """A scope's resource, as a token's `aud` holds it: `https://x/.default` -> `https://x`."""
    return scope.removesuffix("/.default").rstrip("/")


def token(audience: str, *, oid: str = "promote-app", lifetime: int = LIFETIME_SECONDS) -> str:
    now = int(time.time())
    header = {"typ": "JWT", "alg": "none"}
    return f"{_b64(header)}.{_b64({'aud': audience, 'oid': oid, 'iat': now, 'exp': now + lifetime})}."


def claims(authorization: str | None) -> dict[str, Any] | None:
    """The claims of a request's `Authorization: Bearer <jwt>`; None if there is no readable token."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    parts = authorization[len("Bearer ") :].split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def refusal(authorization: str | None, audience: str) -> str | None:
    """Why a service whose audience is `audience` refuses this token (None: it accepts it)."""
    got = claims(authorization)
    if got is None:
        return "no bearer token"
    if str(got.get("aud", "")).rstrip("/") != audience.rstrip("/"):
        return f"the token is for {got.get('aud')!r}, not {audience!r}"
    if int(got.get("exp", 0)) <= time.time():
        return "the token has expired"
    return None


class TokenCredential:
    """A credential that issues tokens for the scope asked (see the module's text)."""

    def __init__(self, oid: str = "promote-app"):
        self.oid = oid
        self.scopes: list[tuple[str, ...]] = []  # every get_token call's scopes
        self.issued = 0  # tokens minted (a call served from the cache mints none)
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        if len(scopes) != 1:  # Entra ID issues a token for one resource
            raise ValueError(f"one scope per token, got {scopes}")
        with self._lock:
            self.scopes.append(scopes)
            cached = self._cache.get(scopes[0])
            if cached is None or cached.expires_on - 300 <= time.time():
                self.issued += 1
                cached = AccessToken(token(resource(scopes[0]), oid=self.oid), int(time.time()) + LIFETIME_SECONDS)
                self._cache[scopes[0]] = cached
            return cached
