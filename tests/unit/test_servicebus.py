"""The Service Bus adapter at its boundary: the messages it builds, sends and schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from azure.servicebus import ServiceBusMessage

from shared.adapters.servicebus import ServiceBusTopic, build_message, client_from_settings
from shared.application.config import load_settings
from shared.domain.machine import schedule_id
from shared.domain.messages import new_event

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)


class FakeSender:
    def __init__(self):
        self.sent, self.scheduled, self.closed = [], [], False

    def send_messages(self, message):
        self.sent.append(message)

    def schedule_messages(self, message, when):
        self.scheduled.append((message, when))
        return [1]

    def close(self):
        self.closed = True


class FakeClient:
    def __init__(self):
        self.sender, self.topics = FakeSender(), []

    def get_topic_sender(self, topic):
        self.topics.append(topic)
        return self.sender


def test_build_message_maps_cloudevents_onto_service_bus_properties():
    event = new_event(
        "tests-passed",
        {"release": "wave-1", "workload": "payroll", "suite": "smoke"},
        id="0c3e-1",
        source="pipeline",
        time=NOW,
    )
    message = build_message(event)
    assert isinstance(message, ServiceBusMessage)
    assert message.session_id == "wave-1"  # one session per release: ordered, one at a time
    assert message.message_id == "0c3e-1"  # the CloudEvents id: duplicate detection
    assert message.content_type == "application/cloudevents+json; charset=utf-8"
    assert message.subject == "tests-passed"
    assert json.loads(str(message)) == event
    assert message.application_properties["cloudEvents:type"] == "tests-passed"


def test_ids_longer_than_service_bus_allows_are_fitted_and_the_body_keeps_the_whole_id():
    """Two 63-character names make ids Service Bus refuses (over 128 characters): the broker's message id is
    fitted, deterministically and distinctly; promote's de-duplication reads the whole id from the body."""
    a, b = "a" * 63, "b" * 63
    ids = [schedule_id("dependency-promoted", b, None, f"{a}:{n}") for n in (12, 13)]
    assert all(len(i) > 128 for i in ids)
    messages = [
        build_message(
            new_event("dependency-promoted", {"release": b, "dependency": a}, id=i, source="promote/timer", time=NOW)
        )
        for i in ids
    ]
    fitted = [m.message_id for m in messages]
    assert all(len(f) == 128 for f in fitted) and fitted[0] != fitted[1]
    assert fitted[0] == build_message(json.loads(str(messages[0]))).message_id  # the same id every time
    assert [json.loads(str(m))["id"] for m in messages] == ids
    assert [m.application_properties["cloudEvents:id"] for m in messages] == ids
    short = build_message(new_event("alert", {"release": "r", "workload": "w"}, id="x" * 128, source="s", time=NOW))
    assert short.message_id == "x" * 128


def test_publish_and_schedule_reuse_one_sender_on_the_topic():
    client = FakeClient()
    topic = ServiceBusTopic(lambda: client)
    event = new_event("alert", {"release": "r", "workload": "w"}, id="a1", source="azure-monitor", time=NOW)
    timer = new_event(
        "bake-elapsed",
        {"release": "r", "workload": "w", "flight": 2, "attempt": 0, "started_ms": 5},
        id=schedule_id("bake-elapsed", "r", "w", "0:2:5:9"),
        source="promote/timer",
        time=NOW,
    )
    due = NOW + timedelta(minutes=10)
    topic.publish(event)
    topic.schedule(timer, due)
    assert client.topics == ["promotion-events"]
    assert [m.message_id for m in client.sender.sent] == ["a1"]
    [(scheduled, when)] = client.sender.scheduled
    assert when == due and scheduled.session_id == "r" and scheduled.message_id == "bake-elapsed:r:w:0:2:5:9"
    topic.close()
    assert client.sender.closed


def test_clients_from_settings_connection_string_or_namespace_with_credential():
    conn = load_settings(
        {
            "PROMOTE_SERVICEBUS_CONNECTION_STRING": "Endpoint=sb://sb-promote.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=eA=="
        }
    )
    client = client_from_settings(conn)
    assert client.fully_qualified_namespace == "sb-promote.servicebus.windows.net"
    ns = load_settings({"PROMOTE_SERVICEBUS_NAMESPACE": "sb-promote.servicebus.windows.net"})
    client = client_from_settings(ns)
    assert client.fully_qualified_namespace == "sb-promote.servicebus.windows.net"
    assert type(client._credential).__name__ == "DefaultAzureCredential"
