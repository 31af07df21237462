"""`promote board` as a user starts it: serves the local stack's releases until stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from shared.domain.plan import validate_plan
from shared.local.azurite import free_ports

PROMOTE = str(Path(sys.executable).with_name("promote"))  # the installed command, as a user runs it


def as_in_a_terminal() -> None:
    """Ctrl-C's default disposition, as an interactive shell gives it: a test run started in the background
    of a non-interactive shell inherits SIGINT ignored, and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_promote_board_serves_the_releases_and_stops_on_ctrl_c(cli_env, stack, release_name, stop):
    stack.service.apply(
        validate_plan(
            {"release": release_name, "model": "single-step", "workloads": [{"name": "payroll", "assets": ["vm-1"]}]}
        )
    )
    [port] = free_ports(1)
    board = subprocess.Popen(
        [PROMOTE, "board", "--port", str(port)],
        env=cli_env,
        preexec_fn=as_in_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"board on http://127.0.0.1:{port}/" in board.stdout.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/releases/{release_name}", timeout=5) as r:
                    html = r.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the board never answered"
        assert 'data-workload="payroll"' in html and "replicating" in html
    finally:
        board.send_signal(stop)
        try:  # communicate, not wait: the board must never block on a full stderr pipe nobody reads
            _, err = board.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            board.kill()
            raise AssertionError(
                f"{stop.name} did not stop the board; its stderr: {board.communicate()[1][-3000:]}"
            ) from None
        assert board.returncode == 0, err


def test_promote_board_refuses_a_bad_port(cli_env):
    done = subprocess.run(
        [PROMOTE, "board", "--port", "70000"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "is not a TCP port" in done.stderr
