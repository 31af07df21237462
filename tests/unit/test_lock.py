"""pyproject.toml, uv.lock and requirements.txt agree: what the tests ran on is what Azure installs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tools.lock import ROOT, hand_added, requirements_text, uv_command


def test_the_lock_is_current_with_pyproject():
    # --offline: deciding whether the lock still satisfies pyproject.toml needs no index.
    done = subprocess.run(
        [uv_command(), "lock", "--check", "--offline", "--python", sys.executable],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"uv.lock is stale: run `make lock`\n{done.stderr}"


def test_requirements_txt_is_the_runtime_part_of_the_lock():
    assert (ROOT / "requirements.txt").read_text() == requirements_text(uv_command()), (
        "requirements.txt differs from uv.lock: run `make lock`"
    )


def test_every_runtime_package_is_pinned_with_hashes_and_locked():
    lock = {p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    text = (ROOT / "requirements.txt").read_text()
    assert hand_added(text) == []
    pins = [
        line.split(" ", 1)[0]
        for line in text.splitlines()
        if line and not line[0].isspace() and not line.startswith("#")
    ]
    assert len(pins) > 10 and all("==" in pin for pin in pins), pins
    assert {name: version for name, version in (pin.split("==") for pin in pins)}.items() <= lock.items()
    assert "azure-functions" in dict(pin.split("==") for pin in pins)
    assert not any(dev in text for dev in ("\npytest==", "\ncheckov==", "\nhypothesis=="))  # dev stays out


def test_hand_added_lines_are_found_and_generated_ones_are_not():
    generated = (
        "pydantic==2.12.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via promote\n"
        "cffi==2.1.1 ; platform_python_implementation != 'PyPy' \\\n    --hash=sha256:cc\n"
    )
    assert hand_added(generated) == []
    assert hand_added(generated + "jinja2>=3.1,<4  # the board\n") == ["jinja2>=3.1,<4"]


def test_make_install_uses_the_lock_and_never_resolves():
    makefile = (ROOT / "Makefile").read_text()
    syncs = [line for line in makefile.splitlines() if line.startswith("\t") and " sync " in line]
    assert syncs and all("--frozen" in line for line in syncs)
    installs = [line for line in makefile.splitlines() if "pip install" in line]
    # pip only bootstraps the pinned uv; uv pip only builds the separate lower-bounds environment
    assert all("uv==$(UV_VERSION)" in line or ".venv-lowest" in line for line in installs), installs
    assert Path(uv_command()).exists()
