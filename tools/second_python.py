"""CI's second Python: the unit and function tiers on another of the Pythons Azure Functions runs.

`make test` runs the whole suite on the Python `make` picked (.venv/). This finds another supported Python,
on PATH or installed by pyenv (`pyenv root`/versions/*), newest first, makes an environment for it from the
same lock in .venv/py<version>/ (so `make clean` removes it), and runs tests/unit and tests/functions there:

    .venv/bin/python tools/second_python.py          # what .ci/run does after make test

When no other supported Python is installed it says so and exits 0: the run is skipped, never silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED = ("3.13", "3.12", "3.11")  # newest first: the Makefile's SUPPORTED_PYTHONS
TIERS = ("tests/unit", "tests/functions")
VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


def version_of(python: str) -> str | None:
    """'3.13' for a Python that runs, None for one that does not (a pyenv shim of an unselected version)."""
    try:
        done = subprocess.run([python, "-c", VERSION], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pyenv_root(environ: dict[str, str]) -> Path | None:
    if environ.get("PYENV_ROOT"):
        return Path(environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv", path=environ.get("PATH"))
    if not pyenv:
        return None
    done = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def candidates(environ: dict[str, str]) -> Iterable[str]:
    """Pythons to try: the versioned names on PATH, then each pyenv version's python3."""
    for version in SUPPORTED:
        found = shutil.which(f"python{version}", path=environ.get("PATH"))
        if found:
            yield found
    root = pyenv_root(environ)
    if root:
        for python in sorted((root / "versions").glob("3.*/bin/python3"), reverse=True):
            yield str(python)


def other_python(current: str, environ: dict[str, str]) -> tuple[str, str] | None:
    """(path, version) of the newest supported Python whose version is not `current`."""
    found: dict[str, str] = {}
    for python in candidates(environ):
        version = version_of(python)
        if version in SUPPORTED and version != current:
            found.setdefault(version, python)
    for version in SUPPORTED:
        if version in found:
            return found[version], version
    return None


def main() -> int:
    current = "%d.%d" % sys.version_info[:2]  # noqa: UP031 (the same format as VERSION prints)
    chosen = other_python(current, dict(os.environ))
    if chosen is None:
        others = ", ".join(v for v in SUPPORTED if v != current)
        print(
            f"second Python: SKIPPED: no Python {others} found (on PATH or under pyenv); "
            f"the unit and function tiers ran on {current} only",
            flush=True,
        )
        return 0
    python, version = chosen
    venv = ROOT / ".venv" / f"py{version}"
    uv = ROOT / ".venv" / "uv" / "bin" / "uv"
    print(f"second Python: {version} ({python}); environment {venv.relative_to(ROOT)} from uv.lock", flush=True)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    sync = [str(uv), "sync", "--quiet", "--frozen", "--compile-bytecode", "--extra", "dev", "--python", python]
    subprocess.run(sync, cwd=ROOT, env=env, check=True)
    test = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", *TIERS]
    print(f"second Python: {version}: {' '.join(TIERS)}", flush=True)
    return subprocess.run(
        test, cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    ).returncode


if __name__ == "__main__":
    sys.exit(main())
