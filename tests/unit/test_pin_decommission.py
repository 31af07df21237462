"""The webhook and azure-vm decommission providers, pinned (issue 21): the CloudEvent in full, the request's
headers, each answer's exact outcome and error text, the power state read from an instance view, and the
azure-vm provider's errors (the real Compute SDK against the local Resource Manager, tests/finish/)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace

import pytest

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.azure_vm import NEEDS, AzureVmDecommissioner, power_state
from shared.adapters.decommission.webhook import EVENT_TYPE, WebhookDecommissioner, decommission_event
from shared.domain.finishing import DecommissionTarget
from shared.domain.machine import Decommission
from tests.finish.fake_azure import FakeAzure
from tests.receivers import Receiver
from tests.routing.conftest import arm_settings, arm_tls, credential  # noqa: F401  (fixtures)
from tests.support.local_http import serve, stop

HOOK = DecommissionTarget(provider="webhook", url_setting="RUNBOOK_URL")


def unchecked(**fields) -> DecommissionTarget:
    """A target the plan's validation would refuse: a request made by hand (or by an older plan)."""
    return DecommissionTarget.model_construct(**{"url_setting": None, "source_vms": None, **fields})


def request(target: DecommissionTarget = HOOK, attempt: int = 0) -> Decommission:
    return Decommission("payroll", target, ("vm-payroll-web-01", "vm-payroll-db-01"), "ana@contoso.com", attempt)


class Runbook:
    """A webhook receiver answering `status`, keeping each request (method, path, headers, body)."""

    def __init__(self, status: int = 202):
        self.status, self.requests = status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.command, self.path, dict(self.headers), json.loads(body)))
                self.send_response(outer.status)
                if 300 <= outer.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd, self.url = serve(Handler, "/hooks/decommission")

    def stop(self):
        stop(self.httpd)


@pytest.fixture
def runbook():
    r = Runbook()
    yield r
    r.stop()


def test_the_decommission_event_in_full():
    now = datetime(2026, 11, 26, 22, 0, 5, 250000, tzinfo=UTC)
    assert EVENT_TYPE == "promote.decommission-requested"
    assert decommission_event("wave-1", request(attempt=2), now) == {
        "specversion": "1.0",
        "id": "decommission:wave-1:payroll:2",
        "source": "promote/wave-1",
        "type": "promote.decommission-requested",
        "subject": "wave-1/payroll",
        "time": "2026-11-26T22:00:05.250000Z",
        "datacontenttype": "application/json",
        "data": {
            "release": "wave-1",
            "workload": "payroll",
            "assets": ["vm-payroll-web-01", "vm-payroll-db-01"],
            "approver": "ana@contoso.com",
        },
    }


def test_the_webhook_posts_the_event_and_says_what_was_accepted(runbook):
    before = datetime.now(UTC)
    changes = WebhookDecommissioner({"RUNBOOK_URL": f"  {runbook.url}\n"}).decommission("wave-1", request())
    assert changes == [
        "webhook RUNBOOK_URL: promote.decommission-requested decommission:wave-1:payroll:0 accepted (202)"
    ]
    [(method, path, headers, doc)] = runbook.requests
    assert (method, path) == ("POST", "/hooks/decommission")
    assert headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    sent_at = datetime.fromisoformat(doc.pop("time"))
    assert before - timedelta(milliseconds=1) <= sent_at <= datetime.now(UTC)  # when it was asked for
    assert doc == {
        "specversion": "1.0",
        "id": "decommission:wave-1:payroll:0",
        "source": "promote/wave-1",
        "type": "promote.decommission-requested",
        "subject": "wave-1/payroll",
        "datacontenttype": "application/json",
        "data": {
            "release": "wave-1",
            "workload": "payroll",
            "assets": ["vm-payroll-web-01", "vm-payroll-db-01"],
            "approver": "ana@contoso.com",
        },
    }


@pytest.mark.parametrize("status", [200, 204, 299])
def test_any_2xx_is_success(runbook, status):
    runbook.status = status
    assert WebhookDecommissioner({"RUNBOOK_URL": runbook.url}).decommission("wave-1", request()) == [
        f"webhook RUNBOOK_URL: promote.decommission-requested decommission:wave-1:payroll:0 accepted ({status})"
    ]


@pytest.mark.parametrize("status", [300, 302, 400, 404, 500, 503])
def test_anything_else_fails_and_a_redirect_is_not_followed(runbook, status):
    runbook.status = status
    with pytest.raises(DecommissionError) as caught:
        WebhookDecommissioner({"RUNBOOK_URL": runbook.url}).decommission("wave-1", request())
    assert str(caught.value) == f"webhook RUNBOOK_URL answered {status}; a 2xx is needed"
    assert len(runbook.requests) == 1


def test_the_url_comes_from_the_process_environment_by_default(runbook, monkeypatch):
    monkeypatch.setenv("PIN_RUNBOOK_URL", runbook.url)
    target = DecommissionTarget(provider="webhook", url_setting="PIN_RUNBOOK_URL")
    [change] = WebhookDecommissioner().decommission("wave-1", request(target))
    assert change.startswith("webhook PIN_RUNBOOK_URL: ") and len(runbook.requests) == 1


@pytest.mark.parametrize(
    "environ, text",
    [
        ({}, "app setting RUNBOOK_URL must hold the webhook's URL (http or https)"),
        ({"RUNBOOK_URL": ""}, "app setting RUNBOOK_URL must hold the webhook's URL (http or https)"),
        ({"RUNBOOK_URL": "ftp://x/y"}, "app setting RUNBOOK_URL must hold the webhook's URL (http or https)"),
        ({"RUNBOOK_URL": "hooks.example.com/x"}, "app setting RUNBOOK_URL must hold the webhook's URL (http or https)"),
    ],
)
def test_a_setting_without_a_url(environ, text):
    with pytest.raises(DecommissionError) as caught:
        WebhookDecommissioner(environ).decommission("wave-1", request())
    assert str(caught.value) == text


def test_a_target_without_a_setting():
    with pytest.raises(DecommissionError) as caught:
        WebhookDecommissioner({}).decommission("wave-1", request(unchecked(provider="webhook")))
    assert str(caught.value) == "webhook needs url_setting (the name of the app setting holding the URL)"


def test_a_receiver_that_is_not_there_or_too_slow_names_the_setting_not_the_url():
    gone = Runbook()
    url = gone.url
    gone.stop()
    with pytest.raises(DecommissionError) as caught:
        WebhookDecommissioner({"RUNBOOK_URL": url}).decommission("wave-1", request())
    assert str(caught.value) == (
        "webhook RUNBOOK_URL: the receiver could not be reached (ConnectionError: ConnectionRefusedError)"
    )
    trickling = Receiver().up()
    trickling.behaviour.trickle_every, trickling.behaviour.trickle_for = 0.02, 3.0
    try:
        started = time.monotonic()
        hook = WebhookDecommissioner({"RUNBOOK_URL": trickling.url("webhook")}, deadline_seconds=0.3)
        with pytest.raises(DecommissionError) as caught:
            hook.decommission("wave-1", request())
        assert str(caught.value) == (
            "webhook RUNBOOK_URL: the receiver did not answer within 0.3 s (the deadline for the whole request)"
        )
        assert time.monotonic() - started < 2.0
    finally:
        trickling.down()


def test_the_default_deadline():
    assert WebhookDecommissioner({}).deadline == 10.0


# ---- azure-vm ------------------------------------------------------------------------------------------------

SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/"


def view(*codes):
    return SimpleNamespace(statuses=[SimpleNamespace(code=c) for c in codes])


@pytest.mark.parametrize(
    "instance_view, state",
    [
        (view("ProvisioningState/succeeded", "PowerState/running"), "running"),
        (view("PowerState/Deallocated"), "deallocated"),
        (view("powerstate/stopped", "PowerState/running"), "stopped"),  # the first power state
        (view("ProvisioningState/succeeded"), "unknown"),
        (view(None, "PowerState/starting"), "starting"),
        (view("OSState/PowerState/x", "PowerState/stopping"), "stopping"),
        (SimpleNamespace(statuses=None), "unknown"),
        (SimpleNamespace(), "unknown"),
    ],
)
def test_the_power_state_of_an_instance_view(instance_view, state):
    assert power_state(instance_view) == state


def test_azure_vm_without_source_vms():
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(None).decommission("r1", request(unchecked(provider="azure-vm")))
    assert str(caught.value) == "azure-vm needs source_vms (the source servers' resource ids)"


@pytest.fixture
def azure(arm_tls, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    fake = FakeAzure()
    server = fake.serve(*arm_tls)
    yield fake
    server.stop()


def vms(*ids: str) -> DecommissionTarget:
    return unchecked(provider="azure-vm", source_vms=list(ids))


def test_an_id_that_is_no_virtual_machine_fails_after_the_ones_already_off(azure, credential):  # noqa: F811
    azure.add_vm(VM + "web", "running")
    bad = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.Compute/disks/web-os"
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(arm_settings(azure, credential)).decommission("r1", request(vms(VM + "web", bad)))
    assert str(caught.value) == (
        "virtual machine web: power state running -> stopped; "
        "virtual machine web: power state stopped -> deallocated; "
        f"{bad!r} is not a virtual machine resource id"
    )


def test_the_first_vm_failing_says_only_its_own_error(azure, credential):  # noqa: F811
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(arm_settings(azure, credential)).decommission("r1", request(vms("vm-1")))
    assert str(caught.value) == "'vm-1' is not a virtual machine resource id"


def test_an_id_is_matched_whatever_its_case(azure, credential):  # noqa: F811
    azure.add_vm(VM + "web", "stopped")
    lower = VM.lower() + "web"
    changes = AzureVmDecommissioner(arm_settings(azure, credential)).decommission("r1", request(vms(lower)))
    assert [str(c) for c in changes] == ["virtual machine web: power state stopped -> deallocated"]
    assert azure.actions() == ["post deallocate web"]


def test_a_vm_someone_else_is_deallocating_is_left_alone_and_retried(azure, credential):  # noqa: F811
    azure.add_vm(VM + "web", "deallocating")
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(arm_settings(azure, credential)).decommission("r1", request(vms(VM + "web")))
    assert str(caught.value) == ("virtual machine web is still deallocating (started by someone else); retried later")
    assert azure.actions() == []


def test_a_missing_vm_says_what_is_needed(azure, credential):  # noqa: F811
    with pytest.raises(DecommissionError) as caught:
        AzureVmDecommissioner(arm_settings(azure, credential)).decommission("r1", request(vms(VM + "gone")))
    assert str(caught.value).startswith("virtual machine gone: not found (404)")
    assert NEEDS == "Microsoft.Compute/virtualMachines/read, powerOff/action and deallocate/action"


def test_an_https_url_is_taken():
    with pytest.raises(DecommissionError) as caught:  # nothing listens there: the POST was tried
        WebhookDecommissioner({"RUNBOOK_URL": "https://127.0.0.1:9/x"}).decommission("wave-1", request())
    assert str(caught.value) == (
        "webhook RUNBOOK_URL: the receiver could not be reached (ConnectionError: ConnectionRefusedError)"
    )


def test_each_provider_is_dispatched_on_the_targets_provider(runbook):
    from shared.adapters.decommission import decommissioner

    tables: list[str] = []
    chosen = decommissioner(lambda: tables.append("asked"), None, {"RUNBOOK_URL": runbook.url})
    assert chosen.decommission("wave-1", request()) == [
        "webhook RUNBOOK_URL: promote.decommission-requested decommission:wave-1:payroll:0 accepted (202)"
    ]
    with pytest.raises(DecommissionError) as caught:
        chosen.decommission("wave-1", request(unchecked(provider="azure-vm")))
    assert str(caught.value) == "azure-vm needs source_vms (the source servers' resource ids)"
    with pytest.raises(DecommissionError) as caught:
        chosen.decommission("wave-1", request(unchecked(provider="tape-robot")))
    assert str(caught.value) == "unknown decommission provider 'tape-robot'"
    assert tables == []  # the local provider's table is made only for a local target
