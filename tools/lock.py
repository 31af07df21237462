"""`make lock`: re-resolve uv.lock from pyproject.toml and write requirements.txt from the lock.

pyproject.toml holds the ranges (runtime dependencies and the `dev` extra), uv.lock the exact versions and
hashes of everything, requirements.txt the runtime part of the lock for the Functions deployment (its remote
build installs that file with pip). tests/unit/test_lock.py checks that the three agree.

A requirement someone added to requirements.txt by hand (a line without hashes, the way it was done before
the lock) is not lost: it is moved into pyproject.toml with `uv add` before the lock is re-resolved.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
HEADER = (
    "# Generated from uv.lock by `make lock`: do not edit; change pyproject.toml and run `make lock`.\n"
    "# Runtime dependencies of the function app, exact versions and hashes (the Functions deployment "
    "installs this).\n"
)
EXPORT = [
    "export",
    "--quiet",
    "--frozen",
    "--no-header",
    "--no-dev",
    "--no-emit-project",
    "--format",
    "requirements-txt",
]


def uv_command() -> str:
    """The uv `make install` put into .venv/uv/ (or, outside that layout, one on the PATH)."""
    pinned = ROOT / ".venv" / "uv" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    if not found:
        raise SystemExit(f"{pinned} is missing: run `make install` first")
    return found


def requirements_text(uv: str) -> str:
    """What requirements.txt must contain for the current uv.lock."""
    exported = subprocess.run([uv, *EXPORT], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return HEADER + exported


def hand_added(text: str) -> list[str]:
    """Requirement lines without hashes: added by hand, not generated from the lock."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()  # hashes hold no '#'; comments ("# via ...") go
        if not stripped:
            continue
        current = f"{current} {stripped}".strip()
        if current.endswith("\\"):
            current = current[:-1].strip()
            continue
        logical.append(current)
        current = ""
    if current:
        logical.append(current)
    return [req for req in logical if not req.startswith("-") and "--hash=" not in req]


def main() -> int:
    uv = uv_command()
    python = ["--python", sys.executable]
    added = hand_added(REQUIREMENTS.read_text()) if REQUIREMENTS.exists() else []
    if added:
        print(f"moving {', '.join(added)} from requirements.txt into pyproject.toml")
        subprocess.run([uv, "add", "--no-sync", *python, *added], cwd=ROOT, check=True)
    subprocess.run([uv, "lock", *python], cwd=ROOT, check=True)
    REQUIREMENTS.write_text(requirements_text(uv))
    print("uv.lock and requirements.txt are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
