"""Runs the `promote` command (and the fault-injecting host, tools/faults.py) in processes of their own, as a
user does, without paying Python's imports on every run.

Each run is a fresh child process with its own environment, working directory, standard streams and exit
code, forked from a server process (multiprocessing's forkserver) that imported promote's modules once.
promote does no I/O at import time (tests/unit/test_layout.py), so a child forked after the imports is the
process the console script would have started. The e2e tier makes about 150 runs, and imports were most of
each run's cost. The console script itself (its shebang, its entry point) is run as a real program by the
tests that call PROMOTE directly (tests/e2e/test_dev_stack.py, test_cli_polish.py, test_board_cli.py, ...).
"""
from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMOTE = str(Path(sys.executable).with_name("promote"))  # the installed console script

# What a run imports (the rest is imported by the child as it needs it).
PRELOAD = ["shared.local.cli", "shared.local.localhost", "shared.application.bootstrap",
           "shared.application.service", "shared.application.views", "shared.adapters.table_store",
           "shared.adapters.local_queue", "shared.domain.plan", "azure.data.tables", "azure.storage.queue"]

_context: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


def _child(entry: str, program: str, argv: list[str], env: dict[str, str], cwd: str, stdin: str | None,
           out: str, err: str) -> None:
    """In the forked child: become `program ARGV` in `cwd` with `env`, its streams on the given files."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = open(stdin) if stdin is not None else open(os.devnull)
    sys.argv = [program, *argv]
    module, _, function = entry.partition(":")
    main = getattr(importlib.import_module(module), function)
    sys.exit(main(argv))  # multiprocessing flushes the streams and makes this the exit code


class Forked:
    """A program started in a forked child; `wait` gives what subprocess.run would."""

    def __init__(self, entry: str, program: str, argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike,
                 stdin: str | None = None):
        self.args = [program, *argv]
        self._tmp = tempfile.TemporaryDirectory(prefix="promote-run-")
        self._out, self._err, inp = (os.path.join(self._tmp.name, n) for n in ("stdout", "stderr", "stdin"))
        for path in (self._out, self._err):
            open(path, "w").close()
        if stdin is not None:
            Path(inp).write_text(stdin)
        self.process = _forkserver().Process(target=_child, args=(
            entry, program, list(argv), dict(env), str(cwd), inp if stdin is not None else None, self._out, self._err))
        self.process.start()

    def wait(self, timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            self.process.join(timeout)
            out, err = Path(self._out).read_text(), Path(self._err).read_text()
            if self.process.exitcode is None:
                self.process.kill()
                self.process.join()
                raise subprocess.TimeoutExpired(self.args, timeout, out, err)
            return subprocess.CompletedProcess(self.args, self.process.exitcode, out, err)
        finally:
            self._tmp.cleanup()


def run_promote(argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike, stdin: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess:
    """`promote ARGV`: its exit code, standard output and standard error."""
    return Forked("shared.local.cli:main", "promote", argv, env=env, cwd=cwd, stdin=stdin).wait(timeout)


def start_fault_host(argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike = ".") -> Forked:
    """`python tools/faults.py ARGV` (a host that may SIGKILL itself at a chosen step), started."""
    return Forked("tools.faults:main", "tools/faults.py", argv, env=env, cwd=cwd)
