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

REPO = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"Azurite (Blob|Queue|Table) service is successfully listening at http://[\d.]+:(\d+)")


class AzuriteError(RuntimeError):
    pass


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
        return azurite_connection_string(queue_port=self.ports["queue"], table_port=self.ports["table"],
                                         blob_port=self.ports["blob"])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(*, location: Path | None = None, ports: dict[str, int] | None = None, log: Path | None = None,
          detached: bool = False, timeout: float = 30.0) -> Azurite:
    """Start Azurite on 127.0.0.1. location=None keeps data in memory. Ports 0 pick free ones."""
    ports = dict(ports or {"blob": 0, "queue": 0, "table": 0})
    args = [find_azurite(), "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
            "--blobPort", str(ports["blob"]), "--queuePort", str(ports["queue"]), "--tablePort", str(ports["table"])]
    if location is None:
        args.append("--inMemoryPersistence")
    else:
        location.mkdir(parents=True, exist_ok=True)
        args += ["--location", str(location)]
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab") if log is not None else subprocess.PIPE
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=detached)
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
def dev_up(home: Path) -> tuple[bool, str]:
    """Start the local stack if needed; returns (started now, message)."""
    if all(port_open(p) for p in (DEV_PORTS["queue"], DEV_PORTS["table"])):
        return False, "local stack already running (Azurite on 127.0.0.1:10001 queues, :10002 tables)"
    busy = [p for p in DEV_PORTS.values() if port_open(p)]
    if busy:
        raise AzuriteError(f"port(s) {busy} are taken by another program; stop it or set "
                           "PROMOTE_STORAGE_CONNECTION_STRING to another storage account")
    azurite = start(location=home / "azurite", ports=dict(DEV_PORTS), log=home / "azurite.log", detached=True)
    (home / "azurite.pid").write_text(str(azurite.process.pid))  # type: ignore[union-attr]
    return True, (f"local stack started: Azurite pid {azurite.process.pid}, data in {home / 'azurite'}, "  # type: ignore[union-attr]
                  f"log {home / 'azurite.log'}")


def dev_down(home: Path) -> str:
    pid_file = home / "azurite.pid"
    if not pid_file.exists():
        return "local stack not running (no .promote/azurite.pid)"
    pid = int(pid_file.read_text().strip() or 0)
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink()
        return "local stack was not running (stale pid file removed)"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and port_open(DEV_PORTS["table"]):
        time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return f"local stack stopped (data kept in {home / 'azurite'})"
