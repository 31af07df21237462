"""`promote dev up` tells the truth: it trusts a port only when Azurite's own service answers there.

The tests put the local stack on ports of their own (PROMOTE_DEV_PORTS / --ports), never 10000-10002, so they
neither meet nor disturb a local stack someone runs on this machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.application.config import SettingError, parse_dev_ports
from shared.local.azurite import free_ports, probe

PROMOTE = str(Path(sys.executable).with_name("promote"))


class _PlainPage(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b"<html><body>an unrelated program</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_http_servers():
    """Plain HTTP servers (Python's http.server) on three free ports: blob, queue, table."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _PlainPage) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield dict(zip(("blob", "queue", "table"), (s.server_address[1] for s in servers), strict=True))
    for server in servers:
        server.shutdown()
        server.server_close()


def ports_text(ports: dict[str, int]) -> str:
    return f"{ports['blob']},{ports['queue']},{ports['table']}"


@pytest.fixture
def dev(tmp_path):
    """Run `promote` as a user would, with only the dev ports configured (no connection string)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROMOTE_")}
    started: list[Path] = []

    def run(
        *args: str, ports: dict[str, int] | None = None, expect: int = 0, shell: str | None = None
    ) -> subprocess.CompletedProcess:
        env = {**base, "PROMOTE_HOME": str(tmp_path / ".promote"), "PATH": f"{Path(PROMOTE).parent}:{base['PATH']}"}
        if ports:
            env["PROMOTE_DEV_PORTS"] = ports_text(ports)
        command = ["bash", "-c", shell] if shell else [PROMOTE, *args]
        done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == expect, f"{command} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        if (tmp_path / ".promote" / "azurite.pid").exists():
            started.append(tmp_path)
        return done

    yield run
    if started:  # never leave an Azurite behind, even when a test fails half-way
        subprocess.run(
            [PROMOTE, "dev", "down"],
            env={**base, "PROMOTE_HOME": str(tmp_path / ".promote")},
            capture_output=True,
            timeout=60,
        )


def test_dev_up_refuses_a_plain_http_server_on_its_ports(dev, plain_http_servers, tmp_path):
    done = dev("dev", "up", ports=plain_http_servers, expect=1)
    assert done.stdout == ""  # no export line: nothing to connect to
    for service, port in plain_http_servers.items():
        assert f"127.0.0.1:{port} ({service}s): a program that is not Azurite" in done.stderr
    assert "Server: BaseHTTP/" in done.stderr and "--ports" in done.stderr
    assert "already running" not in done.stderr
    assert not (tmp_path / ".promote" / "azurite.pid").exists()
    # and every other command says the same instead of failing later on an HTML page
    status = dev("status", "--release", "wave-1", ports=plain_http_servers, expect=1)
    assert "the local stack is not running" in status.stderr and "not Azurite" in status.stderr


def test_dev_up_refuses_when_only_one_port_is_taken(dev, plain_http_servers):
    blob, queue = free_ports(2)
    ports = {"blob": blob, "queue": queue, "table": plain_http_servers["table"]}
    done = dev("dev", "up", ports=ports, expect=1)
    assert f"127.0.0.1:{ports['table']} (tables): a program that is not Azurite" in done.stderr
    assert str(blob) not in done.stderr and str(queue) not in done.stderr


def test_dev_up_refuses_azurite_services_on_the_wrong_ports(dev, azurite):
    # the session's Azurite: its blob service where the queue service should be
    blob, table = free_ports(2)
    done = dev("dev", "up", "--ports", f"{blob},{azurite.ports['blob']},{table}", expect=1)
    assert f"127.0.0.1:{azurite.ports['blob']} (queues): Azurite's Blob service, not its Queue service" in done.stderr


def test_a_listener_that_does_not_speak_http_is_not_azurite():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        found = probe("table", silent.getsockname()[1], timeout=0.5)
    assert found.listening and not found.is_azurite
    assert "does not answer HTTP" in found.describe()


def test_dev_up_starts_on_configured_ports_and_its_export_line_works_as_is(dev, tmp_path):
    ports = dict(zip(("blob", "queue", "table"), free_ports(3), strict=True))
    up = dev("dev", "up", "--ports", ports_text(ports))
    assert up.stdout.startswith("export PROMOTE_STORAGE_CONNECTION_STRING=") and up.stdout.count("\n") == 1
    assert "local stack started" in up.stderr and f"queues 127.0.0.1:{ports['queue']}" in up.stderr
    assert all(probe(service, port).is_azurite for service, port in ports.items())
    (tmp_path / "plan.yaml").write_text("release: exported\nmodel: single-step\nworkloads: [{name: w, assets: [a]}]\n")
    # exported exactly as printed, the commands reach the stack on its non-default ports
    used = dev(
        shell=f'eval "$(promote dev up --ports {ports_text(ports)})" && promote apply plan.yaml '
        "&& promote status --release exported --json"
    )
    assert '"release": "exported"' in used.stdout
    assert "already running" in used.stderr and "started by promote" in used.stderr
    other = dev("dev", "up", "--ports", ports_text({s: p + 1 for s, p in ports.items()}), expect=1)
    assert "already runs on other ports" in other.stderr and "promote dev down" in other.stderr
    assert "local stack stopped" in dev("dev", "down").stdout
    assert not any(probe(service, port).listening for service, port in ports.items())
    assert "not running" in dev("dev", "down").stdout


@pytest.mark.parametrize(
    "text", ["10000,10001", "1,2,3,4", "a,b,c", "10000,10000,10002", "0,1,2", "1,2,70000", "", " , , "]
)
def test_bad_dev_ports_are_refused_with_the_expected_form(text):
    with pytest.raises(SettingError, match="three different ports BLOB,QUEUE,TABLE"):
        parse_dev_ports(text)


def test_dev_ports_in_the_environment_are_parsed_in_order():
    assert parse_dev_ports(" 20000, 20001 ,20002") == {"blob": 20000, "queue": 20001, "table": 20002}


def test_a_bad_ports_option_is_a_usage_error(dev):
    assert "--ports is three different ports" in dev("dev", "up", "--ports", "1,2", expect=2).stderr
