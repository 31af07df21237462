"""Notifier adapters (contract §11): Teams (an Adaptive Card to a Teams workflow URL), webhook (a CloudEvent),
Event Grid (azure-eventgrid). Each raises DeliveryError on anything but acceptance (a redirect included: none
is followed) and within its deadline, whatever the receiver does; an HTTP answer that refuses the notice is a
Refused carrying its status (the deliverer decides which are worth retrying). No error text ever contains the
URL, which is a secret held in an app setting."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.adapters.http_post import DEADLINE_SECONDS, READ_TIMEOUT_SECONDS, PostError, post, within
from shared.domain.errors import DeliveryError

# A slow receiver costs the deliverer at most DEADLINE_SECONDS a delivery (settable per notifier), never the
# state machine; one that goes quiet fails after READ_TIMEOUT_SECONDS.
TIMEOUT_SECONDS = READ_TIMEOUT_SECONDS
EVENT_TYPE_PREFIX = "promote."  # CloudEvents type: promote.flight-started, promote.rolled-back, ...
PUBLIC_EVENT_GRID_AUDIENCE = "https://eventgrid.azure.net"


class Refused(DeliveryError):
    """The receiver answered, and refused the notice: `status` is its HTTP status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def cloud_event(notice: dict) -> dict[str, Any]:
    """The notice as a CloudEvents 1.0 structured document; `id` is the notice's stable id."""
    subject = notice["release"] + (f"/{notice['workload']}" if notice.get("workload") else "")
    return {
        "specversion": "1.0",
        "id": notice["id"],
        "source": f"promote/{notice['release']}",
        "type": EVENT_TYPE_PREFIX + notice["kind"],
        "time": notice["at"],
        "subject": subject,
        "datacontenttype": "application/json",
        "data": notice,
    }


def _title(notice: dict) -> str:
    where = notice["release"] + (f"/{notice['workload']}" if notice.get("workload") else "")
    return f"{where}: {notice['kind']}"


def adaptive_card(notice: dict) -> dict[str, Any]:
    """A Teams message with one Adaptive Card (the shape Teams workflows' 'post card' trigger takes)."""
    facts = [{"title": "State", "value": str(notice.get("state") or "-")}]
    if notice.get("traffic_percent") is not None:
        facts.append({"title": "Traffic", "value": f"{notice['traffic_percent']}%"})
    if notice.get("flight"):
        facts.append({"title": "Flight", "value": str(notice["flight"])})
    if notice.get("actor"):
        facts.append(
            {
                "title": "Actor",
                "value": notice["actor"] + (f" ({notice['actor_reason']})" if notice.get("actor_reason") else ""),
            }
        )
    facts.append({"title": "Notification id", "value": notice["id"]})
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": _title(notice), "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": notice.get("reason") or "", "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _post(url: str, body: bytes, content_type: str, what: str, deadline: float) -> None:
    try:
        status = post(url, body, {"Content-Type": content_type}, deadline=deadline)
    except PostError as exc:
        raise DeliveryError(f"{what}: the receiver {exc}") from None
    if 300 <= status < 400:  # followed, the POST would become a GET to wherever it points
        raise DeliveryError(
            f"{what}: the receiver answered HTTP {status}, a redirect; notifications follow none "
            "(set the URL it redirects to)"
        )
    if not 200 <= status < 300:
        raise Refused(f"{what}: the receiver answered HTTP {status}", status)


class WebhookNotifier:
    """POSTs the notice as a structured CloudEvent; any 2xx is acceptance."""

    def __init__(self, deadline_seconds: float = DEADLINE_SECONDS):
        self.deadline = deadline_seconds

    def send(self, url: str, notice: dict, *, target: dict) -> None:
        _post(
            url,
            json.dumps(cloud_event(notice)).encode(),
            "application/cloudevents+json; charset=utf-8",
            f"webhook ({target['url_setting']})",
            self.deadline,
        )


class TeamsNotifier:
    """POSTs an Adaptive Card to a Teams workflow ('When a Teams webhook request is received'); 2xx accepts."""

    def __init__(self, deadline_seconds: float = DEADLINE_SECONDS):
        self.deadline = deadline_seconds

    def send(self, url: str, notice: dict, *, target: dict) -> None:
        body = json.dumps(adaptive_card(notice)).encode()
        _post(url, body, "application/json", f"teams ({target['url_setting']})", self.deadline)


class EventGridNotifier:
    """Publishes the notice as a CloudEvent to an Event Grid topic with azure-eventgrid.

    The setting holds the topic endpoint; `<url_setting>_KEY`, when set, is an access key, else the app's
    Entra ID identity is used (EventGrid Data Sender on the topic): one credential for the life of the notifier
    (the process's, from `credential`), asked for tokens of the cloud's Event Grid `audience`."""

    def __init__(
        self,
        setting: Callable[[str], str | None],
        deadline_seconds: float = DEADLINE_SECONDS,
        *,
        credential: Callable[[], Any] | None = None,
        audience: str = PUBLIC_EVENT_GRID_AUDIENCE,
    ):
        self.setting, self.deadline = setting, deadline_seconds
        self._credential_factory = credential or _default_credential
        self.scope = audience.rstrip("/") + "/.default"
        self._credential: Any = None
        self._lock = threading.Lock()

    def token_credential(self) -> Any:
        with self._lock:
            if self._credential is None:
                self._credential = _Scoped(self._credential_factory(), self.scope)
            return self._credential

    def send(self, url: str, notice: dict, *, target: dict) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError
        from azure.core.messaging import CloudEvent

        # The basic-topic client itself: azure.eventgrid.EventGridPublisherClient (4.17+) wraps it for basic
        # topics but drops every option given to it, so the SDK would retry a 5xx 3 times within one delivery
        # attempt, with its own timeouts. The deliverer retries, with its back-off.
        from azure.eventgrid._legacy import EventGridPublisherClient

        key = self.setting(f"{target['url_setting']}_KEY")
        credential: Any
        if key:
            from azure.core.credentials import AzureKeyCredential

            credential = AzureKeyCredential(key)
        else:
            credential = self.token_credential()
        event = CloudEvent(
            source=f"promote/{notice['release']}",
            type=EVENT_TYPE_PREFIX + notice["kind"],
            data=notice,
            id=notice["id"],
            subject=cloud_event(notice)["subject"],
            time=datetime.fromisoformat(notice["at"]),  # when it happened; the SDK's default is the send's time
        )
        what = f"event-grid ({target['url_setting']})"
        try:
            client = EventGridPublisherClient(
                url, credential, retry_total=0, connection_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS
            )
            with client:
                # the SDK bounds each read only: the deadline bounds the send (closing the client on overrun)
                within(self.deadline, lambda: client.send([event]), client.close)
        except PostError as exc:
            raise DeliveryError(f"{what}: the topic {exc}") from None
        except AzureError as exc:
            # the client raises a 404 again without its response (naming Event Grid Namespaces): still a 404
            status = getattr(exc, "status_code", None) or (404 if isinstance(exc, ResourceNotFoundError) else None)
            if status:
                raise Refused(f"{what}: the topic answered HTTP {status}{_why(status)}", status) from None
            raise DeliveryError(f"{what}: the topic could not be reached ({type(exc).__name__})") from None
        except ValueError as exc:  # e.g. an endpoint that is not a URL: say so without repeating it
            raise DeliveryError(f"{what}: the setting does not hold a usable endpoint ({type(exc).__name__})") from None


# What an Event Grid topic's refusal means (Event Grid's publish error codes; its own message may name the topic's
# host, which is not repeated here).
_TOPIC_REFUSALS = {
    400: "the event does not fit the topic (CloudEvents need a topic with inputSchema CloudEventSchemaV1_0)",
    401: "not authorised (its access key; or a token for this cloud's Event Grid, EventGrid Data Sender)",
    403: "the event is too large or the topic is over its quota",
    404: "no such topic",
}


def _why(status: int) -> str:
    return f": {_TOPIC_REFUSALS[status]}" if status in _TOPIC_REFUSALS else ""


def _default_credential() -> Any:
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class _Scoped:
    """A credential that asks for `scope` whatever scope it is asked for. azure-eventgrid's basic-topic client
    asks for the public cloud's scope (https://eventgrid.azure.net/.default) and has no option to change it; a
    topic in another cloud refuses such a token (401)."""

    def __init__(self, inner: Any, scope: str):
        self.inner, self.scope = inner, scope

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self.inner.get_token(self.scope, **kwargs)


def notifiers(
    setting: Callable[[str], str | None],
    deadline_seconds: float = DEADLINE_SECONDS,
    *,
    credential: Callable[[], Any] | None = None,
    event_grid_audience: str = PUBLIC_EVENT_GRID_AUDIENCE,
) -> dict[str, Any]:
    """The notifier of each kind; each delivery ends within `deadline_seconds`, whatever its receiver does.
    `credential` makes the process's token credential (called once), `event_grid_audience` is the cloud's."""
    return {
        "teams": TeamsNotifier(deadline_seconds),
        "webhook": WebhookNotifier(deadline_seconds),
        "event-grid": EventGridNotifier(setting, deadline_seconds, credential=credential, audience=event_grid_audience),
    }
