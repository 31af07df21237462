"""Proof that an override on the events topic came through the authenticated override endpoint.

On Azure the override endpoint does not decide: it queues the override on the release's session of the
events topic, and the events function decides it in order with the release's other messages. The topic
cannot tell who sent a message (anyone with send rights could write `"actor": "ana@contoso.com"`), so the
endpoint attaches a proof: an HMAC-SHA256, with a key only the function app has (an app setting backed by
Key Vault), over the principal App Service authentication signed in and the whole override as sent. The events
function verifies it and takes the actor and groups from the proof; an override without a valid one is
rejected and audited as before (decide.py `_entitled`, `require_authenticated`).

A proof cannot be moved to another override (it covers every field, the id included) nor replayed (the same
id is a duplicate). The key is rotated by setting the new one and moving the old one to the `_PREVIOUS`
setting until the messages signed with it are handled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.actors import Principal

ENV_OVERRIDE_KEY = "PROMOTE_OVERRIDE_KEY"  # the signing key (on Azure: a Key Vault reference)
ENV_OVERRIDE_KEY_PREVIOUS = "PROMOTE_OVERRIDE_KEY_PREVIOUS"  # still accepted while a rotation drains
SETTINGS = (ENV_OVERRIDE_KEY, ENV_OVERRIDE_KEY_PREVIOUS)  # app settings, outside config.load_settings: read per use
# A CloudEvents extension attribute (lower-case letters and digits only); the message model keeps extensions.
PROOF_ATTRIBUTE = "promoteproof"
VERSION = "v1"
MIN_KEY_LENGTH = 32
MAX_PROOF = 16 * 1024


class OverrideKeyError(ValueError):
    """The signing key setting is unusable (too short)."""


@dataclass(frozen=True)
class OverrideProofs:
    keys: tuple[bytes, ...]  # the first signs; any verifies

    def sign(self, event: dict, principal: Principal) -> dict:
        """The event with the proof of `principal` attached (the event is not changed)."""
        claims = _b64(json.dumps({"name": principal.name, "groups": list(principal.groups)}, sort_keys=True).encode())
        signed = {k: v for k, v in event.items() if k != PROOF_ATTRIBUTE}
        return {**signed, PROOF_ATTRIBUTE: f"{VERSION}.{claims}.{_b64(_mac(self.keys[0], claims, signed))}"}

    def principal(self, body: bytes | str) -> Principal | None:
        """The authenticated principal a message's valid proof names; None when it has none, or one that does
        not verify (another key, or any field changed since it was signed)."""
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deeply
            return None
        if not isinstance(doc, dict):
            return None
        proof = doc.pop(PROOF_ATTRIBUTE, None)
        if not isinstance(proof, str) or len(proof) > MAX_PROOF or proof.count(".") != 2:
            return None
        version, claims, mac = proof.split(".")
        try:
            given = _unb64(mac)
        except ValueError:
            return None
        if version != VERSION or not any(hmac.compare_digest(given, _mac(k, claims, doc)) for k in self.keys):
            return None
        try:
            who = json.loads(_unb64(claims))
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            return None
        if not isinstance(who, dict):  # signed claims are an object; anything else names no one
            return None
        name, groups = who.get("name"), who.get("groups")
        if not isinstance(name, str) or not name or not isinstance(groups, list):
            return None
        data = doc.get("data")
        if not isinstance(data, dict) or data.get("actor") != name:  # the endpoint writes the signer as actor
            return None
        return Principal(name=name, groups=tuple(g for g in groups if isinstance(g, str)), authenticated=True)


def from_environ(environ: Mapping[str, str] | None = None) -> OverrideProofs | None:
    """The app's proofs from its settings; None when no key is set (then no override can be proven)."""
    env = os.environ if environ is None else environ
    keys = []
    for name in (ENV_OVERRIDE_KEY, ENV_OVERRIDE_KEY_PREVIOUS):
        value = env.get(name, "").strip()
        if not value:
            continue
        if len(value) < MIN_KEY_LENGTH:
            raise OverrideKeyError(
                f"{name} must be at least {MIN_KEY_LENGTH} characters (e.g. openssl rand -base64 48)"
            )
        keys.append(value.encode())
    if not env.get(ENV_OVERRIDE_KEY, "").strip():
        return None  # a previous key alone signs nothing
    return OverrideProofs(tuple(keys))


def _mac(key: bytes, claims: str, event: dict) -> bytes:
    # canonical JSON: the same bytes whatever order or spacing the message was serialised with
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, f"{VERSION}.{claims}.".encode() + canonical.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None
