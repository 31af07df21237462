"""What a sender is told about a message promote cannot read (shared/domain/messages.py): the exact reason,
and what could still be salvaged to record it under its release; and the de-duplication namespaces."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.domain.errors import MessageError
from shared.domain.messages import Unparsed, dedup_key, new_event, parse_message

NAME = "'^[a-z0-9][a-z0-9-]{0,62}$'"


def _refused(body: bytes | str) -> tuple[str, Unparsed]:
    with pytest.raises(MessageError) as caught:
        parse_message(body)
    return str(caught.value), caught.value.unparsed


def _doc(type_: str = "tests-passed", data: dict | None = None, **fields) -> str:
    doc = {"specversion": "1.0", "id": "m1", "source": "ci", "type": type_, **fields}
    doc["data"] = {"release": "r1", "workload": "w1"} if data is None else data
    return json.dumps(doc)


def test_size_limit_both_sides():
    at_limit = _doc(data={"release": "r1", "workload": "w1", "suite": "s"})
    at_limit = at_limit[:-1] + " " * (256 * 1024 - len(at_limit)) + "}"
    assert len(at_limit.encode()) == 256 * 1024
    assert parse_message(at_limit).type == "tests-passed"
    reason, unparsed = _refused(at_limit + " ")
    assert reason == "message is 262145 bytes; the limit is 262144"
    assert unparsed == Unparsed(reason=reason)


def test_not_a_cloudevent():
    assert _refused("[1]") == (
        "a CloudEvents message is a JSON object",
        Unparsed(reason="a CloudEvents message is a JSON object"),
    )
    reason, _ = _refused(b"{")
    assert reason == "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert _refused(b"\xff")[0].startswith("not JSON: ")
    reason, unparsed = _refused(json.dumps({"specversion": "0.3", "id": "m1", "data": {"release": "r1"}}))
    assert reason == "specversion must be '1.0' (CloudEvents 1.0), got '0.3'"
    assert unparsed == Unparsed(id="m1", release="r1", reason=reason)
    reason, _ = _refused(json.dumps({"specversion": "x" * 100}))
    assert reason == f"specversion must be '1.0' (CloudEvents 1.0), got '{'x' * 79}..."
    reason, _ = _refused(json.dumps({"specversion": "x" * 78}))
    assert reason == f"specversion must be '1.0' (CloudEvents 1.0), got '{'x' * 78}'"
    assert _refused(json.dumps({}))[0] == "specversion must be '1.0' (CloudEvents 1.0), got None"


def test_unknown_or_missing_types_name_the_public_ones():
    reason, unparsed = _refused(_doc("boom"))
    assert reason == (
        "unknown type 'boom'; expected one of: asset-replicated, tests-passed, tests-failed, flight-healthy, "
        "flight-unhealthy, alert, override, rehearsal-passed, rehearsal-failed, replication-lag"
    )
    assert unparsed == Unparsed(id="m1", type="boom", release="r1", workload="w1", reason=reason)
    doc = json.loads(_doc())
    del doc["type"]
    assert _refused(json.dumps(doc))[0] == "type is required"


def test_field_problems_are_named_by_path_at_most_five():
    reason, unparsed = _refused(
        _doc(
            "alert",
            {"release": "R", "workload": "w1"},
            id="",
            source="",
            time="2026-01-01T00:00:00",
        )
    )
    assert reason == (
        "id: String should have at least 1 character; source: String should have at least 1 character; "
        "time: time must carry a timezone (RFC 3339, e.g. 2026-11-26T22:00:00Z); "
        f"data.release: String should match pattern {NAME}"
    )
    assert unparsed == Unparsed(id="", type="alert", workload="w1", reason=reason)
    reason, _ = _refused(_doc("bake-elapsed", id="i\x00"))
    assert reason == (
        "id: control characters are not allowed; data.flight: Field required; data.attempt: Field required; "
        "data.started_ms: Field required"
    )
    reason, _ = _refused(_doc("tests-passed", {}, id="", source="", subject="s" * 257, datacontenttype="d" * 129))
    assert reason.count("; ") == 4  # five problems named of six
    assert "data.workload" not in reason


def test_an_invalid_override_keeps_its_reason_for_the_record():
    data = {"release": "r1", "workload": "W", "action": "pause", "actor": "ana", "reason": "why"}
    reason, unparsed = _refused(_doc("override", data, id="i\n"))
    assert reason == f"id: control characters are not allowed; data.workload: String should match pattern {NAME}"
    assert unparsed == Unparsed(type="override", release="r1", reason=reason, actor_reason="why")
    long = {**data, "action": "explode", "reason": "r" * 1100}
    assert _refused(_doc("override", long))[1].actor_reason == "r" * 1024
    cut = {**data, "action": "explode", "reason": "r" * 1024 + "\x00"}
    assert _refused(_doc("override", cut))[1].actor_reason == "r" * 1024
    bad = {**data, "action": "explode", "reason": "a\x00b"}
    assert _refused(_doc("override", bad))[1].actor_reason is None
    said = {"release": "r1", "workload": "w1", "reason": "not an override"}
    assert _refused(_doc("alert", said, id=""))[1].actor_reason is None


def test_salvaged_ids_and_types_are_printable_and_short():
    _, unparsed = _refused(_doc("x" * 300, id="i" * 300))
    assert (unparsed.id, unparsed.type) == ("i" * 256, "x" * 256)
    _, unparsed = _refused(_doc("x", id="i" * 256 + "\x01"))
    assert unparsed.id == "i" * 256  # only what is kept must be printable
    _, unparsed = _refused(_doc("bad\x01type", id=7))
    assert (unparsed.id, unparsed.type) == (None, None)
    _, unparsed = _refused(json.dumps({"specversion": "1.0", "id": "m", "data": "text"}))
    assert (unparsed.release, unparsed.workload) == (None, None)


def test_dedup_keys_keep_promote_s_own_types_apart():
    assert dedup_key(parse_message(_doc("tests-passed"))) == "m1"
    timer = parse_message(
        _doc("bake-elapsed", {"release": "r1", "workload": "w1", "flight": 1, "attempt": 0, "started_ms": 0})
    )
    assert dedup_key(timer) == "\x1fbake-elapsed\x1fm1"
    verdict = parse_message(_doc("flight-healthy", {"release": "r1", "workload": "w1", "flight": 1}))
    assert dedup_key(verdict) == "\x1fflight-healthy\x1fm1"


def test_a_new_event_without_a_release_carries_no_trace():
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert new_event("x", {"a": 1, "b": None}, id="i", source="s", time=at) == {
        "specversion": "1.0",
        "id": "i",
        "source": "s",
        "type": "x",
        "time": "2026-12-07T09:00:00Z",
        "datacontenttype": "application/json",
        "data": {"a": 1},
    }
