"""`make clean` removes what the Makefile's targets create, says so truthfully, and can run twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


# -- which Python .venv/ is made with: Azure Functions runs 3.11, 3.12 and 3.13 --------------------------------
def fake_pythons(where: Path, **scripts: str) -> Path:
    """A PATH of its own: each name runs the given shell script. "real" runs this test's own (supported) Python;
    "shim" fails as a pyenv shim does for a version that is installed but not selected."""
    bin_dir = where / "bin"
    bin_dir.mkdir()
    bodies = {
        "real": f'exec "{sys.executable}" "$@"',
        "shim": 'echo "pyenv: $(basename "$0"): command not found" >&2; exit 127',
    }
    for name, script in scripts.items():
        path = bin_dir / name.replace("_", ".")
        path.write_text(f"#!/bin/sh\n{bodies.get(script, script)}\n")
        path.chmod(0o755)
    return bin_dir


def make_venv(where: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The target that makes .venv/ (dry run with -n), on a PATH holding only the fake Pythons."""
    shutil.copy(ROOT / "Makefile", where / "Makefile")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env["PATH"] = str(bin_dir)
    make = shutil.which("make")
    assert make
    return subprocess.run(
        [make, "--no-print-directory", *args, ".venv/uv/bin/uv"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_uses_the_newest_supported_python_that_runs(tmp_path):
    bin_dir = fake_pythons(tmp_path, python3_13="shim", python3_12="real", python3_11="real", python3="real")
    run = make_venv(tmp_path, bin_dir, "-n")
    assert run.returncode == 0, run.stderr
    assert "python3.12 -m venv .venv" in run.stdout  # not 3.13 (a shim that does not run), not 3.11


def test_make_falls_back_to_python3_when_it_is_a_supported_version(tmp_path):
    run = make_venv(tmp_path, fake_pythons(tmp_path, python3_13="shim", python3="real"), "-n")
    assert run.returncode == 0, run.stderr
    assert "python3 -m venv .venv" in run.stdout


def test_a_given_python_is_used_and_checked(tmp_path):
    bin_dir = fake_pythons(
        tmp_path,
        python3_13="real",
        python3_11="real",
        python3_10='[ "$1" = --version ] && echo "Python 3.10.13" && exit 0; exit 1',  # runs, but is not supported
    )
    assert "python3.11 -m venv .venv" in make_venv(tmp_path, bin_dir, "-n", "PYTHON=python3.11").stdout
    run = make_venv(tmp_path, bin_dir, "PYTHON=python3.10")
    assert run.returncode == 2
    assert "promote needs Python 3.11, 3.12 or 3.13; PYTHON=python3.10 is Python 3.10.13" in run.stderr
    assert not (tmp_path / ".venv").exists()


def test_without_a_supported_python_make_says_which_are_supported(tmp_path):
    run = make_venv(tmp_path, fake_pythons(tmp_path, python3_13="shim", python3_12="shim", python3="exit 1"))
    assert run.returncode == 2
    assert "promote needs Python 3.11, 3.12 or 3.13" in run.stderr and "set PYTHON=" in run.stderr
    assert not (tmp_path / ".venv").exists()
