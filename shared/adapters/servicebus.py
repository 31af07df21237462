"""Service Bus: publish to the topic (one session per release) and schedule bake timers."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.application.config import TOPIC
from shared.domain.messages import CLOUDEVENTS_CONTENT_TYPE

MAX_MESSAGE_ID = 128  # Service Bus refuses a longer message id


def broker_message_id(event_id: str) -> str:
    """The CloudEvents id, or, when longer than Service Bus allows (ids promote builds from two 63-character
    names can be), its start and a digest of the whole. promote de-duplicates by the CloudEvents id in the
    body, which is kept whole; the broker's own duplicate detection is off (infra/modules/servicebus.bicep)."""
    if len(event_id) <= MAX_MESSAGE_ID:
        return event_id
    return f"{event_id[: MAX_MESSAGE_ID - 17]}~{hashlib.sha256(event_id.encode()).hexdigest()[:16]}"


def build_message(event: dict) -> Any:
    """The Service Bus message for a CloudEvents document: session = release (ordered, one at a time per
    release), message id = CloudEvents id (fitted to Service Bus's limit), structured-mode content type."""
    from azure.servicebus import ServiceBusMessage

    return ServiceBusMessage(
        json.dumps(event, separators=(",", ":")),
        message_id=broker_message_id(event["id"]),
        session_id=event["data"]["release"],
        content_type=CLOUDEVENTS_CONTENT_TYPE,
        subject=event["type"],
        application_properties={
            "cloudEvents:specversion": "1.0",
            "cloudEvents:type": event["type"],
            "cloudEvents:source": event["source"],
            "cloudEvents:id": event["id"],
        },
    )


def client_from_settings(settings) -> Any:
    """A ServiceBusClient from a connection string, or from the namespace with DefaultAzureCredential."""
    from azure.servicebus import ServiceBusClient

    if settings.servicebus_connection_string:
        return ServiceBusClient.from_connection_string(settings.servicebus_connection_string)
    from azure.identity import DefaultAzureCredential

    return ServiceBusClient(settings.servicebus_namespace, credential=DefaultAzureCredential())


class ServiceBusTopic:
    """Publisher and Scheduler on the `promotion-events` topic. The sender is opened once and reused."""

    def __init__(self, client_factory: Callable[[], Any], topic: str = TOPIC):
        self._client_factory, self.topic = client_factory, topic
        self._sender = None
        self._lock = threading.Lock()

    def _get_sender(self):
        with self._lock:
            if self._sender is None:
                self._sender = self._client_factory().get_topic_sender(self.topic)
            return self._sender

    def publish(self, event: dict) -> None:
        self._get_sender().send_messages(build_message(event))

    def schedule(self, event: dict, due: datetime) -> None:
        # A timer scheduled twice carries the same id: the orchestrator records the second as a duplicate.
        self._get_sender().schedule_messages(build_message(event), due)

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()
