"""Who acted, as a user meets it: `promote override` through the Azure endpoint (behind a local stand-in of
App Service authentication), refusals on Azure settings, and what history and status show."""

from __future__ import annotations

import json
import urllib.request

import pytest

from shared.local.cli import report_override_reply
from shared.local.override_client import EndpointReply, OverrideClient
from tests.e2e.test_cli import promote, write_plan  # noqa: F401 - the fixture
from tests.functions.easy_auth import EasyAuth
from tests.functions.test_overrides import OPERATOR, apply, azure_stack, principal_header  # noqa: F401


def test_promote_override_through_the_endpoint_acts_as_the_signed_in_user(azure_stack, release_name):  # noqa: F811
    apply(azure_stack, release_name)
    with EasyAuth({"token-of-ops": principal_header("Ops@Contoso.com")}) as easy_auth:
        client = OverrideClient(easy_auth.url, lambda: "token-of-ops")
        reply = client.send(
            {"release": release_name, "workload": "web", "action": "pause", "reason": "CAB freeze", "id": "cli-1"}
        )
        # queued on the release's session (contract §18); the events function decides it
        assert (reply.status, reply.doc["id"], reply.doc["release"]) == (202, "cli-1", release_name)
        azure_stack.topic.deliver()
        # no token, or a token Entra ID did not issue: App Service authentication answers 401
        assert OverrideClient(easy_auth.url, lambda: "forged").send({"release": release_name}).status == 401
        # a caller's own X-MS-CLIENT-PRINCIPAL is dropped in front of the app
        forged = urllib.request.Request(
            f"{easy_auth.url}/api/overrides",
            method="POST",
            headers={
                "Authorization": "Bearer token-of-ops",
                "X-MS-CLIENT-PRINCIPAL": principal_header("ana@contoso.com"),
                "Content-Type": "application/json",
            },
            data=json.dumps({"release": release_name, "workload": "web", "action": "resume", "reason": "r"}).encode(),
        )
        with urllib.request.urlopen(forged) as response:
            assert response.status == 202
        azure_stack.topic.deliver()
    [paused, resumed] = azure_stack.store.list_history(release_name, "web")
    assert (paused.actor, paused.actor_reason, resumed.actor) == ("Ops@Contoso.com", "CAB freeze", "Ops@Contoso.com")


def test_endpoint_replies_become_exit_statuses():
    from shared.domain.errors import PromoteError
    from shared.local.cli import UsageError

    assert report_override_reply(EndpointReply(200, {"outcome": "rejected", "reason": "no"}), "i") == 1
    with pytest.raises(UsageError):
        report_override_reply(EndpointReply(400, {"error": "bad"}), "i")
    with pytest.raises(PromoteError) as exc:
        report_override_reply(EndpointReply(503, {"error": "routing", "retry": "send it again"}), "i-7")
    assert "--id i-7" in str(exc.value)


def test_on_azure_settings_the_cli_refuses_to_put_an_override_on_the_topic(promote, cli_env, release_name):  # noqa: F811
    cli_env["PROMOTE_SERVICEBUS_NAMESPACE"] = "sb-promote-test.servicebus.windows.net"
    done = promote("override", "pause", "--release", release_name, "--actor", OPERATOR, "--reason", "x", expect=2)
    assert "override endpoint" in done.stderr and "PROMOTE_API_URL" in done.stderr
    cli_env["PROMOTE_API_URL"] = "https://func-promote.azurewebsites.net"
    done = promote("override", "pause", "--release", release_name, "--reason", "x", expect=2)
    assert "PROMOTE_API_SCOPE" in done.stderr


def test_history_shows_actor_reason_and_full_dates(promote, tmp_path, release_name):  # noqa: F811
    plan = write_plan(
        tmp_path,
        f"""
release: {release_name}
model: single-step
operators: [ops@contoso.com]
workloads: [{{name: web, assets: [vm-1]}}]
""",
    )
    promote("apply", plan)
    promote("override", "pause", "--release", release_name, "--reason", "no actor", expect=2)
    promote(
        "override",
        "pause",
        "--release",
        release_name,
        "--actor",
        "OPS@contoso.com",
        "--reason",
        "CAB freeze — CHG-0042",
    )
    promote("override", "approve", "--release", release_name, "--actor", "eve@contoso.com", "--reason", "let me in")
    promote("run", "--until-idle", "--wait", "0.2")
    entries = json.loads(promote("history", "--release", release_name, "--json").stdout)
    assert [(e["outcome"], e["actor"], e["actor_reason"]) for e in entries] == [
        ("applied", "OPS@contoso.com", "CAB freeze — CHG-0042"),
        ("rejected", "eve@contoso.com", "let me in"),
    ]
    text = promote("history", "--release", release_name).stdout
    day = entries[0]["at"][:10]
    assert f"{day} " in text and '"CAB freeze — CHG-0042"' in text
    status = json.loads(promote("status", "--release", release_name, "--json").stdout)
    assert (status["workloads"][0]["paused_by"], status["workloads"][0]["paused_reason"]) == (
        "OPS@contoso.com",
        "CAB freeze — CHG-0042",
    )
    assert status["attention"] and "CAB freeze" in status["attention"][0]["why"]


def test_a_directory_as_plan_file_says_so(promote, tmp_path):  # noqa: F811
    done = promote("apply", str(tmp_path), expect=2)
    assert "is a directory" in done.stderr
