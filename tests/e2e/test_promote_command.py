"""The forked runs of tests/promote_command.py behave as the programs they stand for: each case is run both
ways, forked and as a real process, and must give the same exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.promote_command import PROMOTE, REPO, Forked, _interpreter_path, run_promote

PROBE = """
import atexit, os, sys

def main(argv):
    mode = argv[0]
    print("argv", sys.argv[1:], "cwd", os.getcwd(), "env", os.environ.get("PROBE_VALUE"))
    if mode == "import-tests":  # importable only by the test process, never by a program of the package
        try:
            import tests.fakes  # noqa: F401
            print("tests importable")
        except ImportError:
            print("tests not importable")
    if mode == "atexit":
        atexit.register(lambda: print("atexit ran", flush=True))
    if mode == "exit":
        sys.exit(3)
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "interrupt":
        raise KeyboardInterrupt
    sys.stdout.write("no newline at the end")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("mode", ["plain", "import-tests", "atexit", "exit", "raise", "interrupt"])
def test_a_forked_run_matches_a_real_process(tmp_path, mode):
    (tmp_path / "probe.py").write_text(PROBE)
    env = {**os.environ, "PROBE_VALUE": "v1"}
    real = subprocess.run(
        [sys.executable, str(tmp_path / "probe.py"), mode],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    forked = Forked(
        "probe:main",
        str(tmp_path / "probe.py"),
        [mode],
        env=env,
        cwd=tmp_path,
        path=[str(tmp_path), *_interpreter_path()],
    ).wait(60)
    assert (forked.returncode, forked.stdout) == (real.returncode, real.stdout)
    assert forked.stderr.strip().splitlines()[-1:] == real.stderr.strip().splitlines()[-1:]
    assert "tests importable" not in forked.stdout


def test_promote_forked_and_as_the_installed_script_answer_alike(tmp_path, cli_env):
    for argv in (["--version"], ["frobnicate"], ["status", "--release", "never-applied"]):
        real = subprocess.run([PROMOTE, *argv], env=cli_env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        forked = run_promote(argv, env=cli_env, cwd=tmp_path)
        assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)


def test_commands_that_leave_processes_behind_are_refused_and_python_settings_run_for_real(tmp_path, cli_env):
    with pytest.raises(ValueError, match="through PROMOTE"):
        run_promote(["dev", "up"], env=cli_env, cwd=tmp_path)
    done = run_promote(["--version"], env={**cli_env, "PYTHONIOENCODING": "ascii"}, cwd=tmp_path)
    assert done.returncode == 0 and done.args[0] == PROMOTE  # a real subprocess of the installed script
    assert REPO.joinpath("tools", "faults.py").exists()
