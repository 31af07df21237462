"""The override endpoint's proof (shared/application/override_proof.py): what verifies and what does not."""

from __future__ import annotations

import json

import pytest

from shared.application.override_proof import (
    ENV_OVERRIDE_KEY,
    ENV_OVERRIDE_KEY_PREVIOUS,
    PROOF_ATTRIBUTE,
    OverrideKeyError,
    OverrideProofs,
    from_environ,
)
from shared.domain.actors import Principal

KEY, OTHER = "a" * 40, "b" * 40
OPS = Principal("ops@contoso.com", groups=("6f1c8c2e-3a0b-4c47-9d1e-0f4b9a7d2c11",), authenticated=True)


def override(actor: str = OPS.name, **data) -> dict:
    return {
        "specversion": "1.0",
        "id": "ov-1",
        "source": "promote/override-endpoint",
        "type": "override",
        "time": "2026-12-07T10:00:00Z",
        "data": {"release": "r1", "workload": "web", "action": "pause", "actor": actor, "reason": "x", **data},
    }


def proofs(*keys: str) -> OverrideProofs:
    proof = from_environ({ENV_OVERRIDE_KEY: keys[0], **({ENV_OVERRIDE_KEY_PREVIOUS: keys[1]} if keys[1:] else {})})
    assert proof is not None
    return proof


def test_a_signed_override_names_its_principal_with_its_groups_however_it_is_serialised():
    signed = proofs(KEY).sign(override(), OPS)
    assert PROOF_ATTRIBUTE not in override()  # the caller's dict is left alone
    reordered = json.dumps(dict(reversed(list(signed.items()))), indent=2, ensure_ascii=False)
    for body in (json.dumps(signed), reordered.encode()):
        assert proofs(KEY).principal(body) == OPS


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["data"].update(actor="ana@contoso.com"),
        lambda d: d["data"].update(action="abort"),
        lambda d: d.update(id="ov-2"),
        lambda d: d["data"].update(reason="y"),
        lambda d: d["data"].pop("workload"),
        lambda d: d.update({PROOF_ATTRIBUTE: d[PROOF_ATTRIBUTE].replace("v1.", "v2.", 1)}),
        lambda d: d.update({PROOF_ATTRIBUTE: d[PROOF_ATTRIBUTE][:-2]}),
        lambda d: d.update({PROOF_ATTRIBUTE: "v1..."}),
        lambda d: d.pop(PROOF_ATTRIBUTE),
    ],
)
def test_any_change_after_signing_voids_the_proof(change):
    signed = proofs(KEY).sign(override(), OPS)
    change(signed)
    assert proofs(KEY).principal(json.dumps(signed)) is None


def test_a_proof_for_another_name_than_the_actor_is_void():
    # the endpoint always writes the signer as the actor: a message that says otherwise was not its own
    signed = proofs(KEY).sign(override(actor="ana@contoso.com"), OPS)
    assert proofs(KEY).principal(json.dumps(signed)) is None


def test_another_key_proves_nothing_and_a_rotation_accepts_the_previous_key():
    signed = json.dumps(proofs(OTHER).sign(override(), OPS))
    assert proofs(KEY).principal(signed) is None
    assert proofs(KEY, OTHER).principal(signed) == OPS  # the rotation drains
    assert proofs(KEY, OTHER).sign(override(), OPS) == proofs(KEY).sign(override(), OPS)  # the new key signs


def test_settings():
    assert from_environ({}) is None
    assert from_environ({ENV_OVERRIDE_KEY_PREVIOUS: OTHER}) is None  # a previous key alone signs nothing
    with pytest.raises(OverrideKeyError):
        from_environ({ENV_OVERRIDE_KEY: "short"})
    for junk in (b"not json", b"[]", b"\xff"):
        assert proofs(KEY).principal(junk) is None
