"""Start and stop Azurite (installed by the project into node_modules/) for `promote dev` and the tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from shared.application.config import DEV_PORTS, azurite_connection_string
from shared.domain.errors import PromoteError

REPO = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at http://[\d.]+:(\d+)")


class AzuriteError(PromoteError):
    """The local Azurite cannot be found, started or trusted; the message says what to do."""


def find_azurite() -> str:
    for candidate in (REPO / "node_modules" / ".bin" / "azurite", Path.cwd() / "node_modules" / ".bin" / "azurite"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("azurite")
    if found:
        return found
    raise AzuriteError("Azurite is not installed: run `make install` (it runs `npm ci` for the local stack)")


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (for an Azurite that must keep its ports across a restart)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Azurite:
    process: subprocess.Popen | None
    ports: dict[str, int]

    @property
    def connection_string(self) -> str:
        return azurite_connection_string(
            queue_port=self.ports["queue"], table_port=self.ports["table"], blob_port=self.ports["blob"]
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    *,
    location: Path | None = None,
    ports: dict[str, int] | None = None,
    log: Path | None = None,
    detached: bool = False,
    timeout: float = 30.0,
) -> Azurite:
    """Start Azurite on 127.0.0.1. location=None keeps data in memory. Ports 0 pick free ones."""
    ports = dict(ports or {"blob": 0, "queue": 0, "table": 0})
    args = [
        find_azurite(),
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--loose",
        "--blobHost",
        "127.0.0.1",
        "--queueHost",
        "127.0.0.1",
        "--tableHost",
        "127.0.0.1",
        "--blobPort",
        str(ports["blob"]),
        "--queuePort",
        str(ports["queue"]),
        "--tablePort",
        str(ports["table"]),
    ]
    if location is None:
        args.append("--inMemoryPersistence")
    else:
        location.mkdir(parents=True, exist_ok=True)
        args += ["--location", str(location)]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab") if log is not None else subprocess.PIPE
    process = subprocess.Popen(
        args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=detached
    )
    found: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    try:
        if log is None:
            while len(found) < 3:
                line = process.stdout.readline().decode(errors="replace")  # type: ignore[union-attr]
                if not line:
                    raise AzuriteError(f"Azurite exited (code {process.wait()}) before it listened")
                if m := _LISTENING.search(line):
                    found[m.group(1).lower()] = int(m.group(2))
                if time.monotonic() > deadline:
                    raise AzuriteError("Azurite did not start in time")
            _drain(process)
        else:
            found = ports
            while not all(port_open(p) for p in found.values()):
                if process.poll() is not None:
                    raise AzuriteError(f"Azurite exited (code {process.returncode}); see {log}")
                if time.monotonic() > deadline:
                    raise AzuriteError(f"Azurite did not start in {timeout:.0f}s; see {log}")
                time.sleep(0.1)
    except BaseException:
        process.kill()
        raise
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    return Azurite(process, found)


def _drain(process: subprocess.Popen) -> None:
    """Keep reading Azurite's output so a full pipe never blocks it."""
    import threading

    def pump():
        for _ in iter(process.stdout.readline, b""):  # type: ignore[union-attr]
            pass

    threading.Thread(target=pump, daemon=True).start()


# -- `promote dev up/down`: one detached Azurite with data under .promote/ ------------------------
SERVICE_WORDS = {"blob": "blobs", "queue": "queues", "table": "tables"}


@dataclass(frozen=True)
class PortProbe:
    """What listens on one of the local stack's ports, told by its answer to a plain HTTP request."""

    service: str  # the Azurite service expected there: blob, queue or table
    port: int
    listening: bool
    server: str | None = None  # the HTTP Server header it sent (Azurite sends Azurite-Queue/3.35.0)
    problem: str | None = None  # when it did not answer HTTP: why

    @property
    def is_azurite(self) -> bool:
        return (self.server or "").startswith(f"Azurite-{self.service.capitalize()}/")

    def describe(self) -> str:
        where = f"127.0.0.1:{self.port} ({SERVICE_WORDS[self.service]})"
        if not self.listening:
            return f"{where}: nothing listens"
        if self.is_azurite:
            return f"{where}: {self.server}"
        if self.server and self.server.startswith("Azurite-"):
            return (
                f"{where}: Azurite's {self.server.split('/')[0].removeprefix('Azurite-')} service, "
                f"not its {self.service.capitalize()} service"
            )
        if self.problem:
            return f"{where}: a program that is not Azurite (it does not answer HTTP: {self.problem})"
        return f"{where}: a program that is not Azurite (it answered HTTP with Server: {self.server or '(none)'})"


def probe(service: str, port: int, timeout: float = 2.0) -> PortProbe:
    """Ask what listens on 127.0.0.1:port. Azurite answers any request with its Server header."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/", headers={"User-Agent": "promote-dev-probe"})
        response = connection.getresponse()
        server = response.getheader("Server")
        response.read()
        return PortProbe(service, port, True, server=server)
    except ConnectionRefusedError:
        return PortProbe(service, port, False)
    except (OSError, http.client.HTTPException) as exc:
        return PortProbe(service, port, True, problem=str(exc) or type(exc).__name__)
    finally:
        connection.close()


def probe_all(ports: dict[str, int]) -> dict[str, PortProbe]:
    return {service: probe(service, port) for service, port in ports.items()}


def _ports_text(ports: dict[str, int]) -> str:
    return ", ".join(f"{SERVICE_WORDS[s]} 127.0.0.1:{p}" for s, p in ports.items())


def _running_pid(home: Path) -> int | None:
    """The pid of the Azurite `promote dev up` started, if that process is still alive and is Azurite."""
    pid_file = home / "azurite.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.killpg(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"azurite" not in cmdline.read_bytes():
        return None  # the pid was reused by another program (after a reboot): not ours to stop
    return pid


def _recorded_ports(home: Path, default: dict[str, int]) -> dict[str, int]:
    from shared.application.config import SettingError, parse_dev_ports

    try:
        return parse_dev_ports((home / "azurite.ports").read_text().strip())
    except (FileNotFoundError, SettingError):
        return dict(default)


def dev_up(home: Path, ports: dict[str, int] | None = None) -> tuple[bool, str]:
    """Start the local stack on `ports` unless Azurite already serves them; returns (started now, message).

    Refuses (AzuriteError) when any of the ports is held by something that is not the expected Azurite service,
    so no command later talks to a stranger."""
    ports = dict(ports or DEV_PORTS)
    pid = _running_pid(home)
    if pid is not None and (running := _recorded_ports(home, ports)) != ports:
        raise AzuriteError(
            f"the local stack already runs on other ports ({_ports_text(running)}, pid {pid}); "
            "stop it with `promote dev down` first"
        )
    probes = probe_all(ports)
    if probes["queue"].is_azurite and probes["table"].is_azurite:
        who = f"started by promote, pid {pid}" if pid is not None else "not started by promote dev up"
        return False, f"local stack already running: Azurite on {_ports_text(ports)} ({who})"
    taken = [p for p in probes.values() if p.listening]
    if taken:
        raise AzuriteError(
            "cannot start the local stack: "
            + "; ".join(p.describe() for p in taken)
            + ". Stop that program, or choose free ports with `promote dev up --ports BLOB,QUEUE,TABLE` "
            "(or PROMOTE_DEV_PORTS)"
        )
    azurite = start(location=home / "azurite", ports=ports, log=home / "azurite.log", detached=True)
    assert azurite.process is not None
    (home / "azurite.pid").write_text(str(azurite.process.pid))
    (home / "azurite.ports").write_text(",".join(str(ports[s]) for s in ("blob", "queue", "table")))
    wrong = [p for p in probe_all(ports).values() if not p.is_azurite]
    if wrong:  # another program won a race for a port, or Azurite answers unlike Azurite: say so, do not pretend
        dev_down(home)
        raise AzuriteError("the local stack did not come up as expected: " + "; ".join(p.describe() for p in wrong))
    return True, (
        f"local stack started: Azurite pid {azurite.process.pid} on {_ports_text(ports)}, "
        f"data in {home / 'azurite'}, log {home / 'azurite.log'}"
    )


def dev_down(home: Path, ports: dict[str, int] | None = None) -> str:
    pid_file = home / "azurite.pid"
    if not pid_file.exists():
        return f"local stack not running (no {pid_file})"
    pid = _running_pid(home)
    ports = _recorded_ports(home, dict(ports or DEV_PORTS))
    if pid is None:
        pid_file.unlink(missing_ok=True)
        (home / "azurite.ports").unlink(missing_ok=True)
        return "local stack was not running (stale pid file removed)"
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(port_open(p) for p in ports.values()):
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    (home / "azurite.ports").unlink(missing_ok=True)
    return f"local stack stopped (data kept in {home / 'azurite'})"
