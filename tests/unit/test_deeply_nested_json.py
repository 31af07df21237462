"""JSON nested deeper than Python's recursion limit (a few kilobytes of '[', well within Service Bus's 256 KiB and
the principal header's 64 KiB) made json.loads raise RecursionError, which no entry point caught: a message failed
every delivery and reached the poison queue without a reason; an alert or an override request was a 500 instead
of a 400, a forged principal header a 500 instead of a 401."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from shared.application.alerts import AlertError, alert_event
from shared.application.override_proof import OverrideProofs
from shared.application.overrides import OverrideRequestError, PrincipalError, override_event, principal_from_header
from shared.domain.actors import Principal
from shared.domain.errors import MessageError
from shared.domain.messages import parse_message
from tests.fakes import world

DEEP = b"[" * 50_000  # 50 KB
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "body", [DEEP, b'{"specversion":"1.0","type":"alert","data":' + DEEP + b"}"], ids=["whole", "in-data"]
)
def test_a_message_nested_too_deep_is_refused_with_why(body):
    with pytest.raises(MessageError) as info:
        parse_message(body)
    assert "not JSON" in str(info.value) and "nested" in str(info.value)


def test_a_message_nested_too_deep_is_dead_lettered_with_the_reason_instead_of_failing_every_delivery():
    w = world()
    result = w.service.handle(DEEP)
    assert result.outcome == "dead-lettered" and "nested" in result.reason
    assert [reason for _, reason in w.dead.letters] == [result.reason]


def test_an_alert_nested_too_deep_is_a_400():
    with pytest.raises(AlertError) as info:
        alert_event(DEEP)
    assert info.value.status == 400


def test_an_override_request_nested_too_deep_is_refused_with_why():
    with pytest.raises(OverrideRequestError):
        override_event(DEEP, Principal("ana@contoso.com", authenticated=True), NOW)


def test_a_principal_header_nested_too_deep_is_refused_as_unauthenticated():
    with pytest.raises(PrincipalError):
        principal_from_header(base64.b64encode(b"[" * 40_000).decode())


def test_a_proof_check_of_a_body_nested_too_deep_names_nobody():
    assert OverrideProofs((b"k" * 48,)).principal(DEEP) is None
