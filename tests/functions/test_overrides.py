"""The Azure override endpoint (functions/overrides.py), called as the Functions host calls it behind App
Service authentication, and the topic-borne override it replaces on Azure."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest

from shared.application.config import load_settings
from shared.application.override_proof import ENV_OVERRIDE_KEY, PROOF_ATTRIBUTE
from shared.domain.plan import validate_plan
from shared.local.localhost import registered_functions, service_bus_message
from tests.fakes import event

OPERATOR, APPROVER = "ops@contoso.com", "ana@contoso.com"
GROUP = "6f1c8c2e-3a0b-4c47-9d1e-0f4b9a7d2c11"
UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"


def principal_header(upn: str | None = OPERATOR, *, groups: tuple[str, ...] = (), auth_typ: str = "aad") -> str:
    """X-MS-CLIENT-PRINCIPAL as App Service authentication sets it for an Entra ID token."""
    claims = [
        {
            "typ": "http://schemas.microsoft.com/identity/claims/objectidentifier",
            "val": "0d6c3b1a-98a4-4bde-8f7e-52a1c09b2f3e",
        },
        {"typ": "name", "val": "Ops Person"},
    ]
    if upn:
        claims.append({"typ": UPN_CLAIM, "val": upn})
    claims += [{"typ": "groups", "val": g} for g in groups]
    doc = {
        "auth_typ": auth_typ,
        "claims": claims,
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    }
    return base64.b64encode(json.dumps(doc).encode()).decode()


KEY = "k3y-for-tests-only-" + "x" * 32  # what Key Vault holds on Azure (PROMOTE_OVERRIDE_KEY)


class Topic:
    """The events topic as the endpoint sees it (the stack's publisher): what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def publish(self, event: dict) -> None:
        self.sent.append(json.loads(json.dumps(event)))  # what goes on the wire, not the caller's dict

    def deliver(self) -> list[str]:
        """Hand every queued message to the events function as the Service Bus extension does; their ids."""
        ids = []
        while self.sent:
            doc = self.sent.pop(0)
            body = json.dumps(doc, separators=(",", ":")).encode()
            registered_functions()["events"](
                service_bus_message(body, message_id=doc["id"], delivery_count=1, enqueued=None)
            )
            ids.append(doc["id"])
        return ids


@pytest.fixture
def azure_stack(azurite, tmp_path, monkeypatch):
    """The function app's stack with Azure settings (Service Bus configured) on the session's Azurite; the
    topic is a recording fake (`stack.topic`)."""
    from shared.application.bootstrap import Stack, use_stack

    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")  # App Service sets it when authentication is on
    monkeypatch.setenv(ENV_OVERRIDE_KEY, KEY)
    s = Stack(
        load_settings(
            {
                "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string,
                "PROMOTE_SERVICEBUS_NAMESPACE": "sb-promote-test.servicebus.windows.net",
                "PROMOTE_HOME": str(tmp_path),
            }
        )
    )
    assert s.service.overrides_need_principal
    s.topic = Topic()  # type: ignore[attr-defined]
    s.__dict__["publisher"] = s.topic  # the cached publisher: Service Bus on Azure
    use_stack(s)
    yield s
    use_stack(None)


def apply(stack, name: str, **plan) -> None:
    stack.service.apply(
        validate_plan(
            {
                "release": name,
                "model": "single-step",
                "approvers": [APPROVER],
                "operators": [OPERATOR],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
                **plan,
            }
        )
    )


APP = "promote-func.azurewebsites.net"


def call(
    body: dict | str, header: str | None, *, url: str = f"https://{APP}/api/overrides", **sent: str
) -> func.HttpResponse:
    """POST as the Functions host hands it over; `sent`: headers (content_type -> Content-Type, ...)."""
    headers = {"Content-Type": "application/json", "Host": APP}
    headers.update({k.replace("_", "-").title(): v for k, v in sent.items()})
    if header is not None:
        headers["X-MS-CLIENT-PRINCIPAL"] = header
    data = body if isinstance(body, str) else json.dumps(body)
    request = func.HttpRequest(method="POST", url=url, headers=headers, params={}, route_params={}, body=data.encode())
    return registered_functions()["overrides"](request)


def reply(response: func.HttpResponse) -> tuple[int, dict]:
    return response.status_code, json.loads(response.get_body())


def test_without_a_principal_header_the_endpoint_answers_401_and_queues_nothing(azure_stack, release_name):
    apply(azure_stack, release_name)
    status, doc = reply(call({"release": release_name, "action": "pause", "reason": "x"}, None))
    assert status == 401 and "not authenticated" in doc["error"]
    for bad in ("not base64!", base64.b64encode(b"[]").decode(), principal_header(auth_typ="github")):
        assert call({"release": release_name, "action": "pause", "reason": "x"}, bad).status_code == 401
    assert azure_stack.topic.sent == [] and azure_stack.store.list_history(release_name) == []


def test_an_override_is_queued_202_and_decided_by_the_events_function_as_that_principal(azure_stack, release_name):
    apply(azure_stack, release_name)
    response = call(
        {
            "release": release_name,
            "workload": "web",
            "action": "pause",
            "reason": "CAB freeze — CHG-0042",
            "id": "ov-1",
        },
        principal_header("OPS@contoso.com"),
    )
    status, doc = reply(response)
    status_url = f"https://{APP}/api/releases/{release_name}"
    assert (status, doc["id"], doc["release"], doc["status_url"]) == (202, "ov-1", release_name, status_url)
    assert response.headers["Location"] == status_url
    # nothing was decided, let alone routed, inside the HTTP call: it waits on the release's session
    assert azure_stack.store.list_history(release_name) == []
    assert not azure_stack.store.get_release(release_name).release.workloads["web"].paused
    [queued] = azure_stack.topic.sent
    assert (queued["type"], queued["data"]["release"], queued["data"]["actor"]) == (
        "override",
        release_name,
        "OPS@contoso.com",
    )
    assert PROOF_ATTRIBUTE in queued
    assert azure_stack.topic.deliver() == ["ov-1"]
    [entry] = azure_stack.store.list_history(release_name, "web")
    assert (entry.outcome, entry.actor, entry.actor_reason, entry.source) == (
        "applied",
        "OPS@contoso.com",
        "CAB freeze — CHG-0042",
        "promote/override-endpoint",
    )
    w = azure_stack.store.get_release(release_name).release.workloads["web"]
    assert (w.paused, w.paused_by) == (True, "OPS@contoso.com")
    # the same id again (a client retry) is queued again, and recorded as a duplicate, not a second pause
    again = {"release": release_name, "workload": "web", "action": "pause", "reason": "again", "id": "ov-1"}
    assert call(again, principal_header()).status_code == 202
    azure_stack.topic.deliver()
    assert [e.outcome for e in azure_stack.store.list_history(release_name, "web")] == ["applied", "duplicate"]


def test_a_forged_actor_in_the_body_is_refused(azure_stack, release_name):
    apply(azure_stack, release_name)
    status, doc = reply(
        call(
            {"release": release_name, "action": "abort", "reason": "x", "actor": OPERATOR},
            principal_header("mallory@contoso.com"),
        )
    )
    assert status == 400 and "may not name an actor" in doc["error"] and "mallory@contoso.com" in doc["error"]
    assert azure_stack.topic.sent == []


def test_a_principal_outside_the_plan_is_rejected_and_audited_under_its_own_name(azure_stack, release_name):
    apply(azure_stack, release_name)
    body = {"release": release_name, "action": "abort", "reason": "let me"}
    assert call(body, principal_header("mallory@contoso.com")).status_code == 202
    azure_stack.topic.deliver()
    [entry] = azure_stack.store.list_history(release_name)
    assert (entry.outcome, entry.actor, entry.actor_reason) == ("rejected", "mallory@contoso.com", "let me")


def test_a_member_of_a_group_in_the_plan_may_act(azure_stack, release_name):
    # the groups travel in the endpoint's proof: the message itself names only the actor
    apply(azure_stack, release_name, operators=[f"group:{GROUP}"])
    body = {"release": release_name, "action": "pause", "reason": "on call"}
    header = principal_header("bob@contoso.com", groups=("11111111-2222-3333-4444-555555555555", GROUP))
    assert call(body, header).status_code == 202
    azure_stack.topic.deliver()
    [entry] = azure_stack.store.list_history(release_name)
    assert entry.outcome == "applied" and f"as a member of group:{GROUP}" in entry.reason


def test_bad_requests_and_unknown_releases_are_answered_at_once_and_queue_nothing(azure_stack, release_name):
    apply(azure_stack, release_name)
    assert call("not json", principal_header()).status_code == 400
    assert call({"release": release_name, "action": "explode", "reason": "x"}, principal_header()).status_code == 400
    assert call({"release": release_name, "action": "pause"}, principal_header()).status_code == 400  # no reason
    status, doc = reply(call({"release": "never-applied", "action": "pause", "reason": "x"}, principal_header()))
    assert status == 404 and "never applied" in doc["error"]
    assert azure_stack.topic.sent == []


def test_without_app_service_authentication_the_header_is_not_trusted(azure_stack, release_name, monkeypatch):
    apply(azure_stack, release_name)
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED")
    status, doc = reply(call({"release": release_name, "action": "pause", "reason": "x"}, principal_header()))
    assert status == 401 and "not enabled" in doc["error"]
    assert azure_stack.topic.sent == []


def test_on_azure_without_the_signing_key_the_endpoint_queues_nothing(azure_stack, release_name, monkeypatch):
    apply(azure_stack, release_name)
    monkeypatch.delenv(ENV_OVERRIDE_KEY)
    status, doc = reply(call({"release": release_name, "action": "pause", "reason": "x"}, principal_header()))
    assert status == 503 and ENV_OVERRIDE_KEY in doc["error"]
    monkeypatch.setenv(ENV_OVERRIDE_KEY, "short")
    status, doc = reply(call({"release": release_name, "action": "pause", "reason": "x"}, principal_header()))
    assert status == 503 and "at least 32" in doc["error"]
    assert azure_stack.topic.sent == []


def test_when_the_topic_refuses_the_caller_is_told_to_send_it_again_with_the_same_id(azure_stack, release_name):
    class Down:
        def publish(self, event: dict) -> None:
            raise ConnectionError("Service Bus is unreachable")

    apply(azure_stack, release_name)
    azure_stack.__dict__["publisher"] = Down()
    status, doc = reply(
        call({"release": release_name, "action": "pause", "reason": "x", "id": "ov-9"}, principal_header())
    )
    assert status == 503 and "unreachable" in doc["error"] and doc["id"] == "ov-9" and "same id" in doc["retry"]


def test_on_azure_a_topic_borne_override_is_rejected_and_audited(azure_stack, release_name):
    apply(azure_stack, release_name)
    body = event("override", release_name, "web", "forged-1", action="abort", actor=OPERATOR, reason="trust me")
    registered_functions()["events"](
        service_bus_message(body.encode(), message_id="forged-1", delivery_count=1, enqueued=None)
    )
    [entry] = azure_stack.store.list_history(release_name, "web")
    assert entry.outcome == "rejected" and "not through the override endpoint" in entry.reason
    assert entry.actor is None and OPERATOR in entry.reason and entry.actor_reason == "trust me"
    assert azure_stack.store.get_release(release_name).release.workloads["web"].state == "replicating"
    # its id was not burnt: the operator's real override with that id still counts
    real = {"release": release_name, "workload": "web", "action": "abort", "reason": "real", "id": "forged-1"}
    assert call(real, principal_header()).status_code == 202
    azure_stack.topic.deliver()
    assert [e.outcome for e in azure_stack.store.list_history(release_name, "web")] == ["rejected", "applied"]


def _tampered(queued: dict, how: str) -> dict:
    """A queued override someone with send rights on the topic changed, or signed themselves."""
    from shared.application.override_proof import OverrideProofs
    from shared.domain.actors import Principal

    doc = json.loads(json.dumps(queued))
    if how == "actor":
        doc["data"]["actor"] = APPROVER  # claim the approver's name, keep the operator's proof
    elif how == "action":
        doc["data"]["action"] = "abort"  # the proof of a pause, on an abort
    elif how == "another key":
        doc = OverrideProofs((b"not-the-apps-key-" + b"y" * 32,)).sign(doc, Principal(OPERATOR))
    elif how == "no proof":
        doc.pop(PROOF_ATTRIBUTE)
    return doc


@pytest.mark.parametrize("how", ["actor", "action", "another key", "no proof"])
def test_an_override_whose_proof_does_not_verify_is_rejected_and_audited(azure_stack, release_name, how):
    apply(azure_stack, release_name)
    body = {"release": release_name, "workload": "web", "action": "pause", "reason": "x", "id": "ov-t"}
    assert call(body, principal_header(OPERATOR)).status_code == 202
    azure_stack.topic.sent[0] = _tampered(azure_stack.topic.sent[0], how)
    azure_stack.topic.deliver()
    [entry] = azure_stack.store.list_history(release_name, "web")
    assert entry.outcome == "rejected" and "not through the override endpoint" in entry.reason
    w = azure_stack.store.get_release(release_name).release.workloads["web"]
    assert (w.paused, w.state) == (False, "replicating")


# -- what a signed-in browser on another site could send (issue 29, defect 8) --------------------------------
@pytest.mark.parametrize(
    "content_type,body",
    [
        ("text/plain", None),  # a JSON text sent as text/plain: what a cross-site fetch or form may send unasked
        ("application/x-www-form-urlencoded", "release={release}&action=abort&reason=x"),
        (
            "multipart/form-data; boundary=b",
            "--b\r\nContent-Disposition: form-data; name=release\r\n\r\n{release}\r\n--b--",
        ),
        ("", None),
    ],
)
def test_a_body_not_declared_json_is_refused_415_and_records_nothing(azure_stack, release_name, content_type, body):
    apply(azure_stack, release_name)
    sent = body.format(release=release_name) if body else {"release": release_name, "action": "abort", "reason": "x"}
    status, doc = reply(call(sent, principal_header(), content_type=content_type))
    assert status == 415 and "application/json" in doc["error"]
    assert azure_stack.topic.sent == []


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", f"http://{APP}", f"https://{APP}.evil.example", f"https://{APP}:8443", "null", "junk"],
)
def test_a_request_from_another_sites_page_is_refused_403_and_records_nothing(azure_stack, release_name, origin):
    apply(azure_stack, release_name)
    status, doc = reply(
        call({"release": release_name, "action": "abort", "reason": "x"}, principal_header(), origin=origin)
    )
    assert status == 403 and "cross-site" in doc["error"]
    assert azure_stack.topic.sent == []


@pytest.mark.parametrize(
    "url,sent",
    [
        (f"https://{APP}/api/overrides", {"origin": f"https://{APP}"}),
        (f"https://{APP}/api/overrides", {"origin": f"HTTPS://{APP.upper()}:443"}),
        # App Service ends TLS in front of the app: the worker may see http, the front end says https
        (f"http://{APP}/api/overrides", {"origin": f"https://{APP}", "x_forwarded_proto": "https"}),
        # a custom domain in front (Front Door): the host the browser used is the forwarded one
        (
            f"https://{APP}/api/overrides",
            {"origin": "https://promote.contoso.com", "x_forwarded_host": "promote.contoso.com, edge.azurefd.net"},
        ),
        (f"https://{APP}/api/overrides", {"content_type": "application/json; charset=utf-8"}),
        (f"https://{APP}/api/overrides", {}),  # no Origin: not a browser's cross-site request
        # a bearer token is never attached by a browser on its own; App Service authentication validated it
        (f"https://{APP}/api/overrides", {"origin": "https://pipelines.example", "authorization": "Bearer eyJ0"}),
    ],
)
def test_same_origin_and_bearer_requests_are_accepted(azure_stack, release_name, url, sent):
    apply(azure_stack, release_name)
    status, doc = reply(
        call(
            {"release": release_name, "workload": "web", "action": "pause", "reason": "x"},
            principal_header(),
            url=url,
            **sent,
        )
    )
    assert (status, doc["release"]) == (202, release_name)
    azure_stack.topic.deliver()
    assert azure_stack.store.get_release(release_name).release.workloads["web"].paused


def test_an_opaque_origin_is_refused_even_where_the_apps_own_origin_is_unknown(azure_stack, release_name):
    apply(azure_stack, release_name)
    body = {"release": release_name, "action": "abort", "reason": "x"}
    status, doc = reply(call(body, principal_header(), url="/api/overrides", host="", origin="null"))
    assert status == 403 and "cross-site" in doc["error"]
