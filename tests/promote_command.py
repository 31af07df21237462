"""Runs the `promote` command (and the fault-injecting host, tools/faults.py) in processes of their own,
without paying Python's imports on every run.

Each run is a fresh child process with its own environment, working directory, standard streams, exit code
and atexit handlers, forked from a server process (multiprocessing's forkserver) that imported promote's
modules once: the e2e tier makes about 150 runs, and imports were most of each run's cost. promote reads no
setting and opens no connection at import time, so what the child inherits is code. The child's `sys.path` is
the console script's, so a module the package does not ship fails here as it would for a user.

What a forked run cannot be, and where that is covered instead:
- the console script itself (its shebang, its entry point): the tests that run PROMOTE as a program
  (tests/e2e/test_dev_stack.py, test_cli_manners.py, test_board_cli.py, test_cli.py's unreachable storage);
- commands that leave processes behind (`dev up`, `board`): a real pipe stays open while they hold it, a
  forked run's files do not, so those commands are refused here and run through PROMOTE;
- interpreter settings read at start (`PYTHON*` variables): a run whose environment changes one is a real
  subprocess;
- Python's hash seed, which all forked runs of a session share (string sets iterate alike in them).
"""

from __future__ import annotations

import atexit
import importlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from functools import cache
from pathlib import Path

PROMOTE = str(Path(sys.executable).with_name("promote"))  # the installed console script
REPO = Path(__file__).resolve().parents[1]

# What a run imports (the rest is imported by the child as it needs it).
PRELOAD = [
    "shared.local.cli",
    "shared.local.localhost",
    "shared.application.bootstrap",
    "shared.application.service",
    "shared.application.views",
    "shared.adapters.table_store",
    "shared.adapters.local_queue",
    "shared.domain.plan",
    "azure.data.tables",
    "azure.storage.queue",
]
LEAVE_PROCESSES_BEHIND = {"dev", "board"}
NOT_SHIPPED = {"tests", "tools", "bench", "conftest"}  # top-level packages of the repository, not of promote

_server_env: dict[str, str] | None = None  # os.environ when the forkserver started


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _server_env
    context = multiprocessing.get_context("forkserver")
    if _server_env is None:
        context.set_forkserver_preload(PRELOAD)
        _server_env = dict(os.environ)
    return context


@cache
def _interpreter_path() -> list[str]:
    """sys.path of a fresh interpreter of this environment, without the entry for a `-c` program."""
    out = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sys.path[1:]))"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        env={"PATH": os.environ["PATH"]},
    )
    return json.loads(out.stdout)


def _child(
    entry: str,
    program: str,
    argv: list[str],
    env: dict[str, str],
    cwd: str,
    path: list[str],
    stdin: str | None,
    out: str,
    err: str,
) -> None:
    """In the forked child: become `program ARGV` in `cwd` with `env`, its streams on the given files."""
    for fd, name in ((1, out), (2, err)):  # first, so that whatever goes wrong below is in the run's stderr
        target = os.open(name, os.O_WRONLY | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    atexit._clear()  # the server's handlers are not this program's
    try:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        time.tzset()
        sys.stdin = open(stdin) if stdin is not None else open(os.devnull)
        sys.argv = [program, *argv]
        sys.path[:] = path
        for name in [m for m in sys.modules if m.partition(".")[0] in NOT_SHIPPED]:
            del sys.modules[name]  # imported by the test process (this very module, too), not by a user's program
        module, _, function = entry.partition(":")
        main = getattr(importlib.import_module(module), function)
        code = main(argv)
    except KeyboardInterrupt:  # as an interpreter does: a traceback, then die of SIGINT
        traceback.print_exc()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        raise
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    sys.exit(code)  # multiprocessing flushes the streams and makes this the exit code


class Forked:
    """A program started in a forked child; `wait` gives what subprocess.run would."""

    def __init__(
        self,
        entry: str,
        program: str,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: str | os.PathLike,
        path: list[str],
        stdin: str | None = None,
    ):
        self.args = [program, *argv]
        self._tmp = tempfile.TemporaryDirectory(prefix="promote-run-")
        try:
            self._out, self._err, inp = (os.path.join(self._tmp.name, n) for n in ("stdout", "stderr", "stdin"))
            for name in (self._out, self._err):
                open(name, "w").close()
            if stdin is not None:
                Path(inp).write_text(stdin)
            self.process = _forkserver().Process(
                target=_child,
                daemon=True,
                args=(  # daemon: killed if never waited
                    entry,
                    program,
                    list(argv),
                    dict(env),
                    str(cwd),
                    path,
                    inp if stdin is not None else None,
                    self._out,
                    self._err,
                ),
            )
            self.process.start()
        except BaseException:
            self._tmp.cleanup()
            raise

    def wait(self, timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            self.process.join(timeout)
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join()
                raise subprocess.TimeoutExpired(self.args, timeout, *self._streams())
            return subprocess.CompletedProcess(self.args, self.process.exitcode, *self._streams())
        finally:
            self._tmp.cleanup()

    def _streams(self) -> tuple[str, str]:
        return Path(self._out).read_text(), Path(self._err).read_text()


def run_promote(
    argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`promote ARGV`: its exit code, standard output and standard error."""
    if argv and argv[0] in LEAVE_PROCESSES_BEHIND:
        raise ValueError(f"run `promote {argv[0]}` through PROMOTE: it leaves processes behind holding its streams")
    _forkserver()
    assert _server_env is not None
    if {k: v for k, v in env.items() if k.startswith("PYTHON")} != {
        k: v for k, v in _server_env.items() if k.startswith("PYTHON")
    }:
        return subprocess.run(
            [PROMOTE, *argv], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout
        )
    path = [str(Path(PROMOTE).parent), *_interpreter_path()]  # a console script's sys.path[0] is its folder
    return Forked("shared.local.cli:main", "promote", argv, env=env, cwd=cwd, path=path, stdin=stdin).wait(timeout)


def start_fault_host(argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike = ".") -> Forked:
    """`python tools/faults.py ARGV` (a host that may SIGKILL itself at a chosen step), started."""
    path = [str(REPO / "tools"), *_interpreter_path(), str(REPO)]  # the script's folder, then what it inserts
    return Forked("tools.faults:main", "tools/faults.py", argv, env=env, cwd=cwd, path=path)
