"""`make clean` removes what the Makefile's targets create, says so truthfully, and can run twice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def make_clean(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "clean"], cwd=where, capture_output=True, text=True, timeout=60
    )


def test_make_clean_removes_everything_it_creates_and_runs_twice(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    created = [
        ".venv/lib",
        ".venv-lowest/lib",
        "node_modules/azurite",
        ".promote/azurite",
        "bench/out",
        "promote.egg-info",
        ".pytest_cache",
        ".hypothesis",
        "build",
        "dist",
    ]
    for path in created:
        (tmp_path / path).mkdir(parents=True)
    (tmp_path / "bench" / "run.py").write_text("kept\n")
    # a stack whose .venv is already gone: clean stops it by its pid file (a process named like Azurite)
    stack = subprocess.Popen(["bash", "-c", "exec -a azurite-test-stand-in sleep 60"], start_new_session=True)
    (tmp_path / ".promote" / "azurite.pid").write_text(str(stack.pid))
    try:
        first = make_clean(tmp_path)
        assert first.returncode == 0, first.stderr
        assert stack.wait(timeout=10) is not None
        assert "the local stack is stopped" in first.stdout
        assert "kept" not in first.stdout and "the local stack's data" in first.stdout
        assert not [p for p in created if (tmp_path / p).exists()]
        assert (tmp_path / "bench" / "run.py").exists() and (tmp_path / "Makefile").exists()
        second = make_clean(tmp_path)
        assert second.returncode == 0, second.stderr
        assert "stopped" not in second.stdout
    finally:
        if stack.poll() is None:
            stack.kill()


def test_make_clean_never_signals_a_pid_that_is_not_azurite(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / ".promote").mkdir()
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    (tmp_path / ".promote" / "azurite.pid").write_text(str(bystander.pid))  # a stale pid, reused by another program
    try:
        assert make_clean(tmp_path).returncode == 0
        with pytest.raises(subprocess.TimeoutExpired):  # it lives on
            bystander.wait(timeout=1)
    finally:
        bystander.kill()
