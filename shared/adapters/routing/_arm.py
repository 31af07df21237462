"""Resource Manager plumbing shared by the Azure providers: credential, clients, waiting, errors.

Nothing here imports an Azure SDK at module import; providers pass in the client class they imported.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

from shared.domain.errors import RoutingError

_lock = threading.Lock()
_credential: Any = None
_clients: dict[tuple, Any] = {}

_REASONS = {401: "not authenticated", 403: "access denied", 404: "not found", 409: "conflict",
            412: "changed by someone else meanwhile", 429: "throttled"}


def credential(settings: Any) -> Any:
    """DefaultAzureCredential (managed identity on Azure), once per process.

    `settings.arm_credential`, when a settings object has one, is used instead (tests pass a fake).
    """
    given = getattr(settings, "arm_credential", None)
    if given is not None:
        return given
    global _credential
    with _lock:
        if _credential is None:
            from azure.identity import DefaultAzureCredential

            _credential = DefaultAzureCredential()
        return _credential


def client(client_class: type, settings: Any, subscription: str) -> Any:
    """A management client for `subscription`, cached per process, pointed at PROMOTE_ARM_ENDPOINT if set."""
    cred = credential(settings)
    endpoint = (settings.arm_endpoint or "").rstrip("/")
    key = (client_class, subscription, endpoint, cred)
    with _lock:
        if key not in _clients:
            options = {"base_url": endpoint, "credential_scopes": [f"{endpoint}/.default"]} if endpoint else {}
            _clients[key] = client_class(cred, subscription, **options)
        return _clients[key]


@contextmanager
def arm_errors(what: str, needs: str = "") -> Iterator[None]:
    """Turn an SDK failure into a RoutingError naming the resource (and, on 403, the permission it needs)."""
    from azure.core.exceptions import AzureError, HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code
        if status is None:  # a credential that could not get a token
            raise RoutingError(f"{what}: could not authenticate to Resource Manager: {_first_line(exc)}") from exc
        reason = f"{_REASONS.get(status, 'failed')} ({status})"
        hint = f"; the identity needs {needs}" if status == 403 and needs else ""
        raise RoutingError(f"{what}: {reason}{hint}: {_detail(exc)}") from exc
    except AzureError as exc:
        raise RoutingError(f"{what}: {type(exc).__name__}: {_first_line(exc)}") from exc


def wait(poller: Any) -> Any:
    """Wait for a long-running operation (Azure-AsyncOperation polling is done by the SDK)."""
    return poller.result()


def text(value: Any) -> str:
    """An SDK enum member as the plain string Resource Manager sent ('Deny', not 'SecurityRuleAccess.DENY')."""
    return "" if value is None else str(getattr(value, "value", value))


def _detail(exc: Any) -> str:
    error = getattr(exc, "error", None)
    if error is not None and getattr(error, "code", None):
        return f"{error.code}: {error.message}"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
