"""CI's second Python (tools/second_python.py): another supported Python is found on PATH or under pyenv, the
newest first, never the one the suite already ran on; with none, the run is skipped and says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.second_python import ROOT, other_python

CURRENT = "%d.%d" % sys.version_info[:2]  # noqa: UP031


def fake(path: Path, script: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    return str(path)


def python_printing(path: Path, version: str) -> str:
    return fake(path, f"echo {version}")


def test_a_pyenv_version_is_found_when_path_has_only_a_shim_and_the_current_one(tmp_path):
    bin_dir, pyenv = tmp_path / "bin", tmp_path / "pyenv"
    fake(bin_dir / "python3.13", 'echo "pyenv: python3.13: command not found" >&2; exit 127')
    python_printing(bin_dir / "python3.11", "3.11")
    twelve = python_printing(pyenv / "versions" / "3.12.1" / "bin" / "python3", "3.12")
    python_printing(pyenv / "versions" / "3.10.13" / "bin" / "python3", "3.10")  # not supported
    environ = {"PATH": str(bin_dir), "PYENV_ROOT": str(pyenv)}
    assert other_python("3.11", environ) == (twelve, "3.12")


def test_the_newest_other_version_wins_and_the_current_one_never(tmp_path):
    bin_dir, pyenv = tmp_path / "bin", tmp_path / "pyenv"
    python_printing(bin_dir / "python3.13", "3.13")
    eleven = python_printing(bin_dir / "python3.11", "3.11")
    twelve = python_printing(pyenv / "versions" / "3.12.1" / "bin" / "python3", "3.12")
    python_printing(pyenv / "versions" / "3.13.0" / "bin" / "python3", "3.13")
    environ = {"PATH": str(bin_dir), "PYENV_ROOT": str(pyenv)}
    assert other_python("3.13", environ) == (twelve, "3.12")
    assert other_python("3.12", environ)[1] == "3.13"
    assert other_python("3.13", {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "none")}) == (eleven, "3.11")


def test_without_another_python_the_run_is_skipped_with_a_note(tmp_path):
    bin_dir = tmp_path / "bin"
    python_printing(bin_dir / f"python{CURRENT}", CURRENT)
    environ = {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "no-pyenv")}
    assert other_python(CURRENT, environ) is None
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "second_python.py")],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("second Python: SKIPPED: no Python ") and f"ran on {CURRENT} only" in done.stdout


def test_ci_runs_the_second_python_after_the_whole_suite():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert lines.index("make test") < lines.index(".venv/bin/python tools/second_python.py")
