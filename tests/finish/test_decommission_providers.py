"""The decommission providers against strict local stand-ins: azure-vm with the real Compute SDK client on
the local Resource Manager, webhook against a local receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.adapters.decommission import DecommissionError
from shared.adapters.decommission.azure_vm import AzureVmDecommissioner
from shared.adapters.decommission.webhook import EVENT_TYPE, WebhookDecommissioner
from shared.domain.finishing import DecommissionTarget
from shared.domain.machine import Decommission

SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/"


def request(target: DecommissionTarget, workload: str = "payroll") -> Decommission:
    return Decommission(workload, target, ("vm-payroll-web-01", "vm-payroll-db-01"), "ana@contoso.com", 0)


def vms(*names: str) -> DecommissionTarget:
    return DecommissionTarget(provider="azure-vm", source_vms=[VM + n for n in names])


def test_power_state_is_read_first_running_vms_are_powered_off_then_deallocated(azure, azure_settings):
    azure.add_vm(VM + "web", "running")
    azure.add_vm(VM + "db", "stopped")
    azure.add_vm(VM + "old", "deallocated")
    changes = AzureVmDecommissioner(azure_settings).decommission("r1", request(vms("web", "db", "old")))
    assert [str(c) for c in changes] == [
        "virtual machine web: power state running -> stopped",
        "virtual machine web: power state stopped -> deallocated",
        "virtual machine db: power state stopped -> deallocated",
    ]
    assert azure.actions() == ["post poweroff web", "post deallocate web", "post deallocate db"]
    assert {azure.state(VM + n) for n in ("web", "db", "old")} == {"deallocated"}
    first = [c for c in azure.log if c.path.lower().endswith("/old/instanceview")]
    assert first and not any(c.method == "POST" and "/old/" in c.path.lower() for c in azure.log)
    web = [f"{c.method} {c.path.rsplit('/', 1)[-1]}" for c in azure.log if "/virtualMachines/web" in c.path]
    assert web[0] == "GET instanceView" and web[-1] == "GET instanceView"  # read first, verified after


def test_a_second_run_touches_nothing(azure, azure_settings):
    azure.add_vm(VM + "web", "running")
    decommissioner = AzureVmDecommissioner(azure_settings)
    decommissioner.decommission("r1", request(vms("web")))
    azure.log.clear()
    assert decommissioner.decommission("r1", request(vms("web"))) == []
    assert azure.actions() == [] and all(c.method == "GET" for c in azure.log)


def test_a_missing_vm_fails_naming_it_after_the_ones_already_off(azure, azure_settings):
    azure.add_vm(VM + "web", "running")
    with pytest.raises(DecommissionError) as err:
        AzureVmDecommissioner(azure_settings).decommission("r1", request(vms("web", "gone")))
    assert "virtual machine web: power state stopped -> deallocated" in str(err.value)
    assert "virtual machine gone: not found (404)" in str(err.value)
    assert azure.state(VM + "web") == "deallocated"


def test_an_outage_fails_the_attempt_and_a_retry_finishes(azure, azure_settings):
    azure.add_vm(VM + "web", "running")
    azure.down = 20  # longer than the SDK's own retries
    with pytest.raises(DecommissionError):
        AzureVmDecommissioner(azure_settings).decommission("r1", request(vms("web")))
    azure.down = 0
    AzureVmDecommissioner(azure_settings).decommission("r1", request(vms("web")))
    assert azure.state(VM + "web") == "deallocated" and azure.actions().count("post poweroff web") == 1


class Receiver:
    """A webhook receiver answering a chosen status and keeping what it got."""

    def __init__(self, status: int = 202):
        self.status, self.got = status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append((self.headers["Content-Type"], json.loads(body)))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/decommission"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_webhook_posts_a_cloudevent_and_needs_a_2xx():
    receiver = Receiver(202)
    try:
        hook = WebhookDecommissioner({"RUNBOOK_URL": receiver.url})
        target = DecommissionTarget(provider="webhook", url_setting="RUNBOOK_URL")
        changes = hook.decommission("wave-1", request(target))
        content_type, doc = receiver.got[0]
        assert content_type.startswith("application/cloudevents+json")
        assert (doc["specversion"], doc["type"], doc["id"]) == ("1.0", EVENT_TYPE, "decommission:wave-1:payroll:0")
        assert doc["data"] == {
            "release": "wave-1",
            "workload": "payroll",
            "approver": "ana@contoso.com",
            "assets": ["vm-payroll-web-01", "vm-payroll-db-01"],
        }
        assert "accepted (202)" in changes[0]
        receiver.status = 500
        with pytest.raises(DecommissionError, match="answered 500; a 2xx is needed"):
            hook.decommission("wave-1", request(target))
        assert receiver.got[1][1]["id"] == doc["id"]  # the same id again: the receiver can de-duplicate
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    "environ, problem",
    [
        ({}, "must hold the webhook's URL"),
        ({"RUNBOOK_URL": "ftp://x"}, "must hold the webhook's URL"),
        ({"RUNBOOK_URL": "http://127.0.0.1:9/x"}, "ConnectionError"),
    ],
)
def test_webhook_misconfigured_or_down_fails_without_leaking_the_url(environ, problem):
    target = DecommissionTarget(provider="webhook", url_setting="RUNBOOK_URL")
    with pytest.raises(DecommissionError) as err:
        WebhookDecommissioner(environ).decommission("wave-1", request(target))
    assert problem in str(err.value) and "127.0.0.1" not in str(err.value)
