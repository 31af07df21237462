"""The override endpoint's translation (shared/application/overrides.py) and its proof on the events topic
(shared/application/override_proof.py), pinned: who the principal is, every refusal's text (the caller reads
it), the queued override's whole event and reply, and which proofs verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.application.override_proof import (
    OverrideKeyError,
    OverrideProofs,
    from_environ,
)
from shared.application.overrides import (
    OverrideRequestError,
    PrincipalError,
    app_origin,
    cross_site,
    not_json,
    override_event,
    principal_from_header,
    queued_reply,
)
from shared.domain.actors import Principal

NOW = datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)
UPN_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
OID_URI = "http://schemas.microsoft.com/identity/claims/objectidentifier"
GROUPS_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
G1 = "11111111-1111-1111-1111-111111111111"
G2 = "22222222-2222-2222-2222-222222222222"


def _header(claims: list, auth_typ: object = "aad", **extra) -> str:
    doc = {"auth_typ": auth_typ, "claims": claims, **extra}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def _claim(typ: str, val: object) -> dict:
    return {"typ": typ, "val": val}


def _principal_refusal(value: str | None) -> str:
    with pytest.raises(PrincipalError) as caught:
        principal_from_header(value)
    return str(caught.value)


# --- the client principal --------------------------------------------------------------------------------------


def test_a_user_is_named_by_the_upn_and_keeps_its_groups_once_each_in_order():
    header = _header(
        [
            _claim("name", "Ana"),
            _claim("groups", G2),
            _claim(UPN_URI, " ana@contoso.com "),
            _claim(GROUPS_URI, G1),
            _claim("groups", G2),
            _claim(OID_URI, "0000"),
        ]
    )
    assert principal_from_header(header) == Principal(name="ana@contoso.com", groups=(G2, G1), authenticated=True)


def test_name_claims_are_taken_most_specific_first():
    both = [_claim("preferred_username", "pref@x"), _claim("upn", "short@x"), _claim(UPN_URI, "long@x")]
    assert principal_from_header(_header(both)).name == "long@x"
    assert principal_from_header(_header(both[:2])).name == "short@x"
    assert principal_from_header(_header(both[:1])).name == "pref@x"


def test_without_a_name_claim_the_name_type_claim_then_the_object_id_name_the_principal():
    claims = [_claim("oid", "oid-1"), _claim("custom-name", "pipeline-a")]
    assert principal_from_header(_header(claims, name_typ="custom-name")).name == "pipeline-a"
    assert principal_from_header(_header(claims, name_typ=7)).name == "oid-1"
    assert principal_from_header(_header(claims)).name == "oid-1"
    assert principal_from_header(_header([_claim(OID_URI, "oid-2"), _claim("oid", "oid-1")])).name == "oid-2"


def test_blank_or_malformed_claims_are_skipped():
    claims = [
        "upn",
        {"typ": "upn"},
        {"typ": "upn", "val": 7},
        {"typ": 7, "val": "x"},
        _claim("upn", "   "),
        _claim("preferred_username", "ana@contoso.com"),
    ]
    assert principal_from_header(_header(claims)) == Principal("ana@contoso.com", (), True)


def test_auth_type_is_compared_ignoring_case():
    assert principal_from_header(_header([_claim("upn", "a@x")], auth_typ="AAD")).name == "a@x"


def test_principal_refusals():
    assert _principal_refusal(None) == (
        "no X-MS-CLIENT-PRINCIPAL header: the request was not authenticated by App Service authentication (Entra ID)"
    )
    assert _principal_refusal("") == _principal_refusal(None)
    assert _principal_refusal("!!!") == "X-MS-CLIENT-PRINCIPAL is not base64-encoded JSON: Only base64 data is allowed"
    assert _principal_refusal(base64.b64encode(b"nope").decode()) == (
        "X-MS-CLIENT-PRINCIPAL is not base64-encoded JSON: Expecting value: line 1 column 1 (char 0)"
    )
    no_claims = "X-MS-CLIENT-PRINCIPAL has no claims"
    assert _principal_refusal(base64.b64encode(b"[]").decode()) == no_claims
    assert _principal_refusal(base64.b64encode(b'{"auth_typ": "aad"}').decode()) == no_claims
    assert _principal_refusal(base64.b64encode(b'{"auth_typ": "aad", "claims": {}}').decode()) == no_claims
    assert _principal_refusal(_header([_claim("upn", "a@x")], auth_typ="github")) == (
        "X-MS-CLIENT-PRINCIPAL is from identity provider 'github'; overrides need Entra ID ('aad')"
    )
    no_type = base64.b64encode(json.dumps({"claims": [_claim("upn", "a@x")]}).encode()).decode()
    assert _principal_refusal(no_type) == (
        "X-MS-CLIENT-PRINCIPAL is from identity provider None; overrides need Entra ID ('aad')"
    )
    unnamed = "X-MS-CLIENT-PRINCIPAL names no user principal name or object id"
    assert _principal_refusal(_header([_claim("name", "Ana")])) == unnamed
    assert _principal_refusal(_header([_claim("upn", "a\x1fb")])) == unnamed


def test_the_name_may_be_256_characters_not_257_and_may_hold_a_space():
    assert principal_from_header(_header([_claim("upn", "a" * 256)])).name == "a" * 256
    assert _principal_refusal(_header([_claim("upn", "a" * 257)])) == (
        "X-MS-CLIENT-PRINCIPAL names no user principal name or object id"
    )
    assert principal_from_header(_header([_claim("upn", "a b")])).name == "a b"


def test_the_header_may_be_64_kib_not_more():
    plain = json.dumps({"auth_typ": "aad", "claims": [_claim("upn", "a@x")]}).encode()
    padded = plain + b" " * (48 * 1024 - len(plain))  # base64 of 48 KiB is 64 KiB
    at_limit = base64.b64encode(padded).decode()
    assert len(at_limit) == 64 * 1024
    assert principal_from_header(at_limit).name == "a@x"
    assert _principal_refusal(at_limit + "A") == "X-MS-CLIENT-PRINCIPAL is too large"


# --- content type, origin, reply ------------------------------------------------------------------------------


def test_only_a_json_content_type_is_taken():
    assert not_json({"Content-Type": "application/json"}) is None
    assert not_json({"content-type": " Application/JSON ; charset=utf-8"}) is None
    assert not_json({"Content-Type": "application/json; charset=utf-8; q=1"}) is None
    assert not_json({"Content-Type": "text/plain"}) == (
        "an override is a JSON body: Content-Type must be application/json (got 'text/plain')"
    )
    assert not_json({"Content-Type": "application/jsonx"}) == (
        "an override is a JSON body: Content-Type must be application/json (got 'application/jsonx')"
    )
    assert not_json({}) == "an override is a JSON body: Content-Type must be application/json (got 'none')"


APP = "https://promote.azurewebsites.net/api/overrides"


def test_same_site_requests_pass():
    assert cross_site({}, APP) is None
    assert cross_site({"Origin": "https://promote.azurewebsites.net"}, APP) is None
    assert cross_site({"Origin": "HTTPS://Promote.AzureWebsites.net:443"}, APP) is None
    assert cross_site({"Origin": "http://localhost:7071"}, "http://localhost:7071/api/overrides") is None
    assert cross_site({"Origin": "http://h"}, "http://h:80/api/overrides") is None


def test_a_bearer_token_is_no_browser_request():
    assert cross_site({"Origin": "https://evil.example", "Authorization": "Bearer abc"}, APP) is None
    assert cross_site({"Origin": "https://evil.example", "authorization": "bearer abc"}, APP) is None
    assert cross_site({"Origin": "https://evil.example", "Authorization": "Basic abc"}, APP) == (
        "cross-site request refused: Origin 'https://evil.example' is not this app (https://promote.azurewebsites.net)"
    )


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://promote.azurewebsites.net",
        "https://promote.azurewebsites.net:8443",
        "ftp://promote.azurewebsites.net",
        "https://promote.azurewebsites.net:99999",
        "https://",
    ],
)
def test_other_origins_are_refused(origin):
    assert cross_site({"Origin": origin}, APP) == (
        f"cross-site request refused: Origin {origin!r} is not this app (https://promote.azurewebsites.net)"
    )


def test_the_app_origin_is_what_app_service_forwards_else_the_host_else_the_url():
    url = "http://10.0.0.4:8080/api/overrides"
    assert app_origin({}, url) == "http://10.0.0.4:8080"
    assert app_origin({"Host": "internal:8080"}, url) == "http://internal:8080"
    forwarded = {
        "X-Forwarded-Proto": "https, http, http",
        "X-Forwarded-Host": " promote.contoso.com , proxy, edge",
        "Host": "h",
    }
    assert app_origin(forwarded, url) == "https://promote.contoso.com"
    headers = {**forwarded, "Origin": "https://promote.contoso.com"}
    assert cross_site(headers, url) is None


def test_the_queued_reply():
    event = {"id": "ov-1", "data": {"release": "r1"}}
    assert queued_reply(event, {"X-Forwarded-Host": "promote.contoso.com"}, APP) == {
        "id": "ov-1",
        "release": "r1",
        "status_url": "https://promote.contoso.com/api/releases/r1",
        "board_url": "https://promote.contoso.com/api/board/releases/r1",
    }


# --- the override event ---------------------------------------------------------------------------------------

ANA = Principal("ana@contoso.com", (G1,), True)


def _traceparent(release: str) -> str:
    digest = hashlib.sha256(f"promote/release/{release}".encode()).digest()
    return f"00-{digest[:16].hex()}-{digest[16:24].hex()}-01"


def _override_refusal(body: bytes) -> str:
    with pytest.raises(OverrideRequestError) as caught:
        override_event(body, ANA, NOW)
    return str(caught.value)


def test_an_override_is_this_whole_event_with_the_signed_in_actor():
    body = json.dumps({"release": "r1", "workload": "web", "action": "pause", "reason": "why", "id": "ov-1"})
    assert override_event(body.encode(), ANA, NOW) == {
        "specversion": "1.0",
        "id": "ov-1",
        "source": "promote/override-endpoint",
        "type": "override",
        "time": "2026-12-07T09:30:15Z",
        "datacontenttype": "application/json",
        "traceparent": _traceparent("r1"),
        "data": {"release": "r1", "workload": "web", "action": "pause", "actor": "ana@contoso.com", "reason": "why"},
    }


def test_without_an_id_or_workload_the_override_gets_a_fresh_id_and_names_the_whole_release():
    body = json.dumps({"release": "r1", "action": "halt", "reason": "stop"}).encode()
    first, second = override_event(body, ANA, NOW), override_event(body, ANA, NOW)
    assert uuid.UUID(first["id"]).version == 4
    assert first["id"] != second["id"]
    assert first["data"] == {"release": "r1", "action": "halt", "actor": "ana@contoso.com", "reason": "stop"}


def test_override_refusals():
    assert _override_refusal(b"{") == (
        "the body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )
    assert _override_refusal(b"\x80").startswith("the body is not JSON: ")
    shape = 'the body is a JSON object: {"release", "action", "reason", "workload", "id"}'
    assert _override_refusal(b"") == shape
    assert _override_refusal(b"[]") == shape
    assert _override_refusal(b'{"release": "r1", "action": "pause", "reason": "x", "actor": "bo"}') == (
        "the body may not name an actor: the actor is who signed in (ana@contoso.com)"
    )
    assert _override_refusal(b'{"release": "r1", "zz": 1, "extra": 2}') == "unknown field(s): extra, zz"
    assert _override_refusal(b'{"release": "r1", "action": "explode", "reason": "x"}') == (
        "invalid override: data.action: Input should be 'pause', 'resume', 'approve', 'advance', 'rollback', "
        "'abort', 'retry', 'finalize', 'halt', 'unhalt' or 'rehearse'"
    )
    assert _override_refusal(b'{"release": "r1", "action": "pause", "reason": "x", "id": 5}') == (
        "invalid override: id: String should have at least 1 character"
    )
    assert _override_refusal(b'{"release": "r1", "action": "pause"}') == "invalid override: data.reason: Field required"


# --- the proof ------------------------------------------------------------------------------------------------

KEY = b"k" * 32
OLD = b"o" * 32
EVENT = {
    "specversion": "1.0",
    "id": "ov-1",
    "source": "promote/override-endpoint",
    "type": "override",
    "data": {"release": "r1", "action": "pause", "actor": "ana@contoso.com", "reason": "why"},
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _proof(key: bytes, claims: str, event: dict, version: str = "v1") -> str:
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    mac = hmac.new(key, f"v1.{claims}.".encode() + canonical.encode(), hashlib.sha256).digest()
    return f"{version}.{claims}.{_b64(mac)}"


def _claims(name: object = "ana@contoso.com", groups: object = (G1,)) -> str:
    groups = list(groups) if isinstance(groups, tuple) else groups
    return _b64(json.dumps({"name": name, "groups": groups}, sort_keys=True).encode())


def test_a_signed_event_is_the_event_plus_an_hmac_over_the_principal_and_every_field():
    signed = OverrideProofs((KEY, OLD)).sign({**EVENT, "promoteproof": "stale"}, ANA)
    assert signed == {**EVENT, "promoteproof": _proof(KEY, _claims(), EVENT)}
    assert "promoteproof" not in EVENT
    # the MAC is over canonical JSON in ASCII (\u escapes), whatever the reason's characters
    accented = {**EVENT, "data": {**EVENT["data"], "reason": "café ☕"}}
    assert OverrideProofs((KEY,)).sign(accented, ANA) == {**accented, "promoteproof": _proof(KEY, _claims(), accented)}


def test_a_valid_proof_names_the_signer_under_the_current_or_previous_key():
    signed = json.dumps(OverrideProofs((OLD,)).sign(EVENT, ANA))
    assert OverrideProofs((KEY, OLD)).principal(signed) == ANA
    assert OverrideProofs((KEY, OLD)).principal(signed.encode()) == ANA
    assert OverrideProofs((KEY,)).principal(signed) is None


def _verify(doc: object) -> Principal | None:
    return OverrideProofs((KEY,)).principal(json.dumps(doc))


def test_proofs_that_do_not_verify():
    good = _proof(KEY, _claims(), EVENT)
    assert _verify({**EVENT, "promoteproof": good}) == ANA
    assert OverrideProofs((KEY,)).principal(b"\x80") is None
    assert OverrideProofs((KEY,)).principal("{") is None
    assert _verify([EVENT]) is None
    assert _verify(EVENT) is None
    assert _verify({**EVENT, "promoteproof": 7}) is None
    assert _verify({**EVENT, "promoteproof": good + ".x"}) is None
    assert _verify({**EVENT, "promoteproof": good.rsplit(".", 1)[0]}) is None
    assert _verify({**EVENT, "promoteproof": good.rsplit(".", 1)[0] + ".a"}) is None  # not base64
    assert _verify({**EVENT, "promoteproof": "v2" + good[2:]}) is None  # the MAC is right, the version not
    assert _verify({**EVENT, "id": "ov-2", "promoteproof": good}) is None
    changed = {**EVENT, "data": {**EVENT["data"], "action": "abort"}}
    assert _verify({**changed, "promoteproof": good}) is None


def test_a_proof_whose_claims_are_not_a_named_principal_or_not_the_actor_names_no_one():
    def signed(claims: str, event: dict = EVENT) -> Principal | None:
        return _verify({**event, "promoteproof": _proof(KEY, claims, event)})

    assert signed(_claims()) == ANA
    assert signed(_b64(b"not json")) is None
    assert signed(_claims(name="")) is None
    assert signed(_claims(name=7)) is None
    assert signed(_claims(groups="g")) is None
    assert signed(_b64(json.dumps({"groups": [G1]}).encode())) is None
    assert signed(_claims(name="bo@contoso.com")) is None  # the actor is not the signer
    assert signed(_claims(), {**EVENT, "data": None}) is None
    assert signed(_claims(), {k: v for k, v in EVENT.items() if k != "data"}) is None
    assert signed(_claims(groups=[G1, 7, G2])) == Principal("ana@contoso.com", (G1, G2), True)
    assert signed(_b64(b'["ana@contoso.com"]')) is None  # claims that are no object name no one (no crash)
    assert signed(_b64(b'"ana@contoso.com"')) is None
    numbered = {**EVENT, "data": {**EVENT["data"], "actor": 7}}
    assert signed(_claims(name=7), numbered) is None  # a name must be text, even when the actor matches it


def _sized_proof(length: int) -> dict:
    """An event whose valid proof is exactly `length` characters: a long group list, and characters outside
    base64's alphabet after the MAC (the decoder skips them), since a bare proof is never 4k+3 long."""
    for pad in range(12000, length):
        proof = _proof(KEY, _claims(groups=["g" * pad]), EVENT)
        if len(proof) == length - 3:
            return {**EVENT, "promoteproof": proof + "!!!"}
    raise AssertionError(f"no proof of {length} characters")


def test_a_proof_may_be_16_kib_not_more():
    at_limit = _sized_proof(16 * 1024)
    assert len(at_limit["promoteproof"]) == 16 * 1024
    assert _verify(at_limit).name == "ana@contoso.com"
    over = {**at_limit, "promoteproof": at_limit["promoteproof"] + "!"}
    assert _verify(over) is None
    # the same junk on a shorter proof verifies: the length alone refused it
    shorter = _sized_proof(16 * 1024 - 4)
    assert _verify({**shorter, "promoteproof": shorter["promoteproof"] + "!"}).name == "ana@contoso.com"


def test_keys_come_from_the_settings():
    assert from_environ({}) is None
    assert from_environ({"PROMOTE_OVERRIDE_KEY": "  "}) is None
    assert from_environ({"PROMOTE_OVERRIDE_KEY_PREVIOUS": "p" * 32}) is None  # a previous key alone signs nothing
    assert from_environ({"PROMOTE_OVERRIDE_KEY": " " + "k" * 32 + " "}) == OverrideProofs((KEY,))
    assert from_environ({"PROMOTE_OVERRIDE_KEY": "k" * 32, "PROMOTE_OVERRIDE_KEY_PREVIOUS": "o" * 32}) == (
        OverrideProofs((KEY, OLD))
    )
    with pytest.raises(OverrideKeyError) as caught:
        from_environ({"PROMOTE_OVERRIDE_KEY": "k" * 31})
    assert str(caught.value) == ("PROMOTE_OVERRIDE_KEY must be at least 32 characters (e.g. openssl rand -base64 48)")
    with pytest.raises(OverrideKeyError) as caught:
        from_environ({"PROMOTE_OVERRIDE_KEY": "k" * 32, "PROMOTE_OVERRIDE_KEY_PREVIOUS": "o" * 31})
    assert str(caught.value) == (
        "PROMOTE_OVERRIDE_KEY_PREVIOUS must be at least 32 characters (e.g. openssl rand -base64 48)"
    )


def test_a_short_previous_key_is_refused_even_without_a_current_one():
    with pytest.raises(OverrideKeyError) as caught:
        from_environ({"PROMOTE_OVERRIDE_KEY_PREVIOUS": "o" * 31})
    assert str(caught.value) == (
        "PROMOTE_OVERRIDE_KEY_PREVIOUS must be at least 32 characters (e.g. openssl rand -base64 48)"
    )


def test_keys_come_from_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("PROMOTE_OVERRIDE_KEY", "k" * 32)
    monkeypatch.delenv("PROMOTE_OVERRIDE_KEY_PREVIOUS", raising=False)
    assert from_environ() == OverrideProofs((KEY,))
