"""CloudEvents parsing: a discriminated union on type; clear reasons for what is refused."""

from __future__ import annotations

import json

import pytest

from shared.domain.errors import MessageError
from shared.domain.messages import FlightHealthy, Override, parse_message


def doc(**kw) -> dict:
    d = {
        "specversion": "1.0",
        "id": "1",
        "source": "s",
        "type": "flight-healthy",
        "data": {"release": "r1", "workload": "w1", "flight": 2},
    }
    d.update(kw)
    return d


def reason(body) -> str:
    with pytest.raises(MessageError) as info:
        parse_message(body if isinstance(body, (bytes, str)) else json.dumps(body))
    return str(info.value)


def test_the_type_selects_the_data_model():
    message = parse_message(json.dumps(doc()))
    assert isinstance(message, FlightHealthy) and message.data.flight == 2
    override = parse_message(
        json.dumps(doc(type="override", data={"release": "r1", "action": "pause", "actor": "a", "reason": "b"}))
    )
    assert isinstance(override, Override) and override.workload is None


@pytest.mark.parametrize(
    "body,words",
    [
        (b"\xff\xfe", "not JSON"),
        ("[1]", "JSON object"),
        (doc(specversion="0.3"), "specversion must be '1.0'"),
        (doc(type="teleport"), "unknown type 'teleport'"),
        (doc(id=""), "id"),
        (doc(data={"release": "r1", "workload": "w1"}), "flight"),
        (doc(data={"release": "R1/x", "workload": "w1", "flight": 1}), "release"),
        (doc(time="2026-11-26T22:00:00"), "timezone"),
        (doc(id="a\x00b"), "control characters"),
        (doc(type="override", data={"release": "r1", "action": "nuke", "actor": "a", "reason": "b"}), "action"),
        ("x" * (257 * 1024), "limit"),
    ],
)
def test_refusals_name_the_problem(body, words):
    assert words in reason(body)


def test_salvaged_fields_let_a_known_release_record_the_rejection():
    with pytest.raises(MessageError) as info:
        parse_message(json.dumps(doc(data={"release": "r1", "workload": "w1", "flight": "x"})))
    unparsed = info.value.unparsed
    assert (unparsed.id, unparsed.type, unparsed.release, unparsed.workload) == ("1", "flight-healthy", "r1", "w1")
    with pytest.raises(MessageError) as info:
        parse_message(json.dumps(doc(data={"release": "r1' or 1 eq 1", "workload": "w1"})))
    assert info.value.unparsed.release is None  # names that are not names are never used as keys


def test_an_optional_checked_text_given_as_null_is_absent_instead_of_raising_type_error():
    """`"asset": null` in a replication-lag report reached the printable check, which raised TypeError (no
    MessageError): the message failed every delivery and went to the poison queue without a reason."""
    lag = {"type": "replication-lag", "data": {"release": "r1", "workload": "w1", "lag_seconds": 1.0, "asset": None}}
    message = parse_message(json.dumps(doc(**lag)))
    assert message.data.asset is None
    assert "control characters" in reason(doc(**{**lag, "data": {**lag["data"], "asset": "a\x01"}}))
