"""The Service Bus message promote sends (shared/adapters/servicebus.py), pinned whole: its properties, the
broker id fitted to 128 characters at and past the limit, and one sender opened per topic."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from shared.adapters.servicebus import ServiceBusTopic, broker_message_id, build_message

NOW = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
EVENT = {
    "specversion": "1.0",
    "id": "0c3e-1",
    "source": "pipeline",
    "type": "tests-passed",
    "time": "2026-11-26T22:00:00Z",
    "data": {"release": "wave-1", "workload": "payroll"},
}


def test_the_message_carries_the_cloudevents_attributes_as_application_properties():
    message = build_message(EVENT)
    assert message.application_properties == {
        "cloudEvents:specversion": "1.0",
        "cloudEvents:type": "tests-passed",
        "cloudEvents:source": "pipeline",
        "cloudEvents:id": "0c3e-1",
    }
    assert (message.message_id, message.session_id, message.subject) == ("0c3e-1", "wave-1", "tests-passed")
    assert message.content_type == "application/cloudevents+json; charset=utf-8"
    assert str(message) == (
        '{"specversion":"1.0","id":"0c3e-1","source":"pipeline","type":"tests-passed",'
        '"time":"2026-11-26T22:00:00Z","data":{"release":"wave-1","workload":"payroll"}}'
    )


def test_an_id_of_128_characters_is_the_broker_id_and_one_more_is_fitted_with_a_digest():
    assert broker_message_id("i" * 128) == "i" * 128
    long = "i" * 129
    fitted = broker_message_id(long)
    assert fitted == "i" * 111 + "~" + hashlib.sha256(long.encode()).hexdigest()[:16]
    assert len(fitted) == 128


class Sender:
    def __init__(self):
        self.sent: list = []
        self.scheduled: list = []
        self.closed = 0

    def send_messages(self, message):
        self.sent.append(message)

    def schedule_messages(self, message, when):
        self.scheduled.append((message, when))

    def close(self):
        self.closed += 1


class Client:
    def __init__(self):
        self.senders: list[tuple[str, Sender]] = []

    def get_topic_sender(self, topic):
        self.senders.append((topic, Sender()))
        return self.senders[-1][1]


def test_one_sender_is_opened_on_the_named_topic_and_closed_once():
    clients: list[Client] = []

    def factory() -> Client:
        clients.append(Client())
        return clients[-1]

    topic = ServiceBusTopic(factory, topic="other-topic")
    topic.close()  # nothing opened yet: nothing to close
    assert clients == []
    topic.publish(EVENT)
    topic.publish(EVENT)
    topic.schedule(EVENT, NOW + timedelta(minutes=1))
    [client] = clients
    [(name, sender)] = client.senders
    assert name == "other-topic"
    assert [json.loads(str(m))["id"] for m in sender.sent] == ["0c3e-1", "0c3e-1"]
    [(message, due)] = sender.scheduled
    assert due == NOW + timedelta(minutes=1) and message.message_id == "0c3e-1"
    topic.close()
    assert sender.closed == 1
