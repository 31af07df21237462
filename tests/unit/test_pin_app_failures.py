"""failures.py pinned: the size limit of a message promote sends itself (at the limit and one byte past), the
message a retry carries with the trust it was decided with (each branch: the text it carries and why not),
and the refusal of a message-retry that carries another."""

from __future__ import annotations

import json

from shared.application.failures import RETRY_MESSAGE_LIMIT, carried_message, fits, nested_retry
from shared.application.override_proof import OverrideProofs
from shared.domain.actors import Principal
from shared.domain.messages import Unparsed, parse_message

KEY = b"k" * 32
ANA = Principal("ana@contoso.com", ("ops",), authenticated=True)


def envelope(type: str, data: dict, id: str = "m-1") -> dict:
    return {"specversion": "1.0", "id": id, "source": "ops/cli", "type": type, "time": "2026-12-01T10:00:00Z",
            "data": data}  # fmt: skip


OVERRIDE = envelope(
    "override", {"release": "r1", "workload": "w1", "action": "pause", "actor": "ana@contoso.com", "reason": "look"}
)
# spaces after the separators: a body is carried as it came, never re-serialised
OVERRIDE_BODY = json.dumps(OVERRIDE).encode()
ALERT_BODY = json.dumps(envelope("alert", {"release": "r1", "workload": "w1", "severity": "Sev1"})).encode()


def test_a_message_fits_up_to_the_limit_as_the_adapter_serialises_it():
    filler = RETRY_MESSAGE_LIMIT - len('{"b":""}')
    assert RETRY_MESSAGE_LIMIT == 253952
    assert fits({"b": "x" * filler})
    assert not fits({"b": "x" * (filler + 1)})


def test_a_message_without_an_endpoints_principal_is_carried_as_it_came():
    assert carried_message(parse_message(OVERRIDE_BODY), OVERRIDE_BODY, None, OverrideProofs((KEY,)), True) == (
        OVERRIDE_BODY.decode(),
        "",
    )
    assert carried_message(parse_message(ALERT_BODY), ALERT_BODY, ANA, OverrideProofs((KEY,)), True) == (
        ALERT_BODY.decode(),
        "",
    )


def test_an_override_with_a_principal_is_carried_signed_compactly():
    proofs = OverrideProofs((KEY,))
    carried, why = carried_message(parse_message(OVERRIDE_BODY), OVERRIDE_BODY, ANA, proofs, True)
    assert why == ""
    assert carried is not None
    doc = json.loads(carried)
    assert carried == json.dumps(doc, separators=(",", ":"))  # as the adapter sends it: no spaces
    assert ", " not in carried and '": ' not in carried
    assert {k: v for k, v in doc.items() if k != "promoteproof"} == OVERRIDE
    assert doc["promoteproof"].startswith("v1.")
    assert proofs.principal(carried) == Principal("ana@contoso.com", ("ops",), authenticated=True)


def test_an_override_without_a_key_is_carried_as_named_unless_a_principal_is_needed():
    message = parse_message(OVERRIDE_BODY)
    assert carried_message(message, OVERRIDE_BODY, ANA, None, False) == (OVERRIDE_BODY.decode(), "")
    assert carried_message(message, OVERRIDE_BODY, ANA, None, True) == (
        None,
        "its retry could not carry the endpoint's proof (no override key is set); send it again",
    )


def test_a_message_retry_carrying_another_is_refused_under_its_release():
    inner = json.dumps(envelope("alert", {"release": "r1"}))
    retry = envelope("message-retry", {"release": "r1", "workload": "w1", "attempt": 2, "first_ms": 0, "body": inner},
                     id="retry-7")  # fmt: skip
    error = nested_retry(parse_message(json.dumps(retry)))
    assert str(error) == "a message-retry may not carry another message-retry"
    assert error.unparsed == Unparsed(  # type: ignore[attr-defined]
        id="retry-7",
        type="message-retry",
        release="r1",
        workload="w1",
        reason="a message-retry may not carry another message-retry",
    )
