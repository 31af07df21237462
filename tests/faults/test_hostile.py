"""Hostile and bad input: a clear error, a recorded `rejected` or a dead letter with its reason; never a
crash of the host, never a silent drop, never a secret in a log line."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from shared.application.config import POISON_QUEUE, azurite_connection_string
from shared.domain.plan import validate_plan
from shared.local.localhost import registered_function, service_bus_message
from tests.fakes import event

PROMOTE = str(Path(sys.executable).with_name("promote"))
SECRET = "c2VjcmV0LWtleS10aGF0LW11c3QtbmV2ZXItYmUtbG9nZ2Vk"  # a well-formed (base64) fake account key


def envelope(release: str, **overrides) -> dict:
    doc = {
        "specversion": "1.0",
        "id": "h1",
        "source": "attacker",
        "type": "tests-passed",
        "data": {"release": release, "workload": "web"},
    }
    doc.update(overrides)
    return doc


def deliver(body: bytes) -> None:
    registered_function()(service_bus_message(body, message_id="x", delivery_count=1, enqueued=None))


def poison(stack) -> list[dict]:
    return [json.loads(m.content) for m in stack.queue(POISON_QUEUE).peek_messages(max_messages=32)]


DEAD_LETTERED = [
    pytest.param(b'{"specversion": "1.0", ', "not JSON", id="malformed-json"),
    pytest.param(b"\x00\xff\xfe binary", "not JSON", id="binary"),
    pytest.param(json.dumps({"specversion": "0.3", "id": "1"}).encode(), "specversion", id="cloudevents-0.3"),
    pytest.param(json.dumps({"hello": "world"}).encode(), "specversion", id="not-cloudevents"),
    pytest.param(b"A" * (1024 * 1024), "limit", id="1MiB-body"),
    pytest.param(json.dumps(envelope("wave/1")).encode(), "release", id="slash-in-name"),
    pytest.param(json.dumps(envelope("wave\\1")).encode(), "release", id="backslash-in-name"),
    pytest.param(json.dumps(envelope("wave#1")).encode(), "release", id="hash-in-name"),
    pytest.param(json.dumps(envelope("wave?1")).encode(), "release", id="question-mark-in-name"),
    pytest.param(json.dumps(envelope("wave\x071")).encode(), "release", id="control-char-in-name"),
    pytest.param(json.dumps(envelope("x' or PartitionKey ne 'x")).encode(), "release", id="odata-injection"),
    pytest.param(json.dumps(envelope("never-applied")).encode(), "never applied", id="unknown-release"),
]


@pytest.mark.parametrize("body,words", DEAD_LETTERED)
def test_unusable_messages_are_dead_lettered_with_a_reason(stack, body, words):
    deliver(body)  # must not raise: the platform would retry something that can never succeed
    [letter] = poison(stack)
    assert words in letter["reason"]
    if letter.get("body_truncated"):  # too large for a queue message: its size, digest and first 32 KiB
        assert letter["body_bytes"] == len(body) and letter["body_sha256"] == hashlib.sha256(body).hexdigest()
        assert body.startswith(letter["body"].encode())
    elif letter["body_encoding"] == "utf-8":
        assert letter["body"].encode() == body  # kept whole, so nothing is lost
    else:
        assert base64.b64decode(letter["body"]) == body


def test_messages_of_a_known_release_are_recorded_as_rejected(stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "operators": ["ops@contoso.com"],
                "approvers": ["ana@contoso.com"],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    bodies = [
        envelope(release_name, type="teleport", id="unknown-type"),
        envelope(release_name, id="x" * 300),  # oversized id
        envelope(release_name, type="asset-replicated", id="no-asset"),  # missing field
        envelope(
            release_name,
            type="flight-healthy",
            id="huge-flight",
            data={"release": release_name, "workload": "web", "flight": 10**9},
        ),
        envelope(
            release_name,
            type="override",
            id="nuke",
            data={"release": release_name, "action": "nuke", "actor": "ops@contoso.com", "reason": "x"},
        ),
        envelope(
            release_name,
            type="override",
            id="stranger",
            data={"release": release_name, "action": "abort", "actor": "mallory@evil.example", "reason": "x"},
        ),
        envelope(
            release_name,
            type="override",
            id="forged-approver",
            data={"release": release_name, "action": "approve", "actor": "ops@contoso.com", "reason": "x"},
        ),
        envelope(release_name, id="ghost-workload", data={"release": release_name, "workload": "ghost"}),
        envelope(
            release_name,
            id="huge-description",
            type="alert",
            data={"release": release_name, "workload": "web", "description": "d" * 100_000},
        ),
    ]
    for doc in bodies:
        deliver(json.dumps(doc).encode())
    history = stack.store.list_history(release_name)
    assert len(history) == len(bodies)
    assert all(e.outcome == "rejected" and e.reason for e in history), [(e.event_id, e.outcome) for e in history]
    assert poison(stack) == []
    assert stack.store.get_release(release_name).release.workloads["web"].state == "replicating"


def test_an_injection_attempt_never_reads_another_release(stack, release_name):
    stack.service.apply(
        validate_plan(
            {"release": release_name, "model": "single-step", "workloads": [{"name": "web", "assets": ["vm-1"]}]}
        )
    )
    from shared.domain.errors import UnknownRelease

    for name in (f"{release_name}' or PartitionKey ne 'x", "' or ''='", f"{release_name}\x00"):
        with pytest.raises(UnknownRelease):
            stack.store.get_release(name)


def test_no_secret_in_any_log_line_or_error(azurite, tmp_path, caplog, release_name):
    """A failing storage account with a real-looking key: the key appears in no log record and no stderr."""
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings

    dead = azurite_connection_string(queue_port=9, table_port=9, blob_port=9).replace(
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==", SECRET
    )
    assert SECRET in dead
    use_stack(Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": dead})))
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever the SDK raises, its text must not leak the key
            deliver(event("tests-passed", release_name, "web", "s1").encode())
    finally:
        use_stack(None)
    assert caplog.records and not any(SECRET in r.getMessage() for r in caplog.records)
    env = {"PATH": "/usr/bin:/bin", "PROMOTE_STORAGE_CONNECTION_STRING": dead.replace("127.0.0.1", "localhost")}
    for args in (["status", "--release", "r1"], ["send", "tests-passed", "--release", "r1", "--workload", "w"]):
        done = subprocess.run([PROMOTE, *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and SECRET not in done.stdout + done.stderr
