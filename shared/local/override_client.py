"""`promote override` on Azure: POST the override to the function app's endpoint with the user's Entra ID
token (DefaultAzureCredential: az login, a managed identity, environment credentials). App Service
authentication turns the token into the client principal the endpoint takes the actor from."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from shared.application.config import OVERRIDES_ROUTE

TIMEOUT_SECONDS = 240  # a routing change may wait on a long-running ARM operation; the front end gives up at 230s


@dataclass
class EndpointReply:
    status: int
    doc: dict


def azure_token(scope: str) -> Callable[[], str]:
    """A token provider for the endpoint's app registration (scope e.g. api://<client-id>/.default)."""

    def get() -> str:
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential().get_token(scope).token

    return get


class OverrideClient:
    def __init__(self, base_url: str, token: Callable[[], str], timeout: float = TIMEOUT_SECONDS):
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            # the request carries an Entra ID bearer token: never in clear text over a network
            raise ValueError(f"PROMOTE_API_URL must be an https:// URL (got {base_url!r})")
        self.url = f"{base_url.rstrip('/')}/api/{OVERRIDES_ROUTE}"
        self.token, self.timeout = token, timeout

    def send(self, body: dict) -> EndpointReply:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https URL from config
                return EndpointReply(response.status, _json(response.read()))
        except urllib.error.HTTPError as exc:
            return EndpointReply(exc.code, _json(exc.read()))


def _json(raw: bytes) -> dict:
    try:
        doc = json.loads(raw or b"{}")
    except ValueError:
        return {"error": raw[:300].decode("utf-8", "replace")}
    return doc if isinstance(doc, dict) else {"error": str(doc)[:300]}
