"""uv.lock installs on every Python that Azure Functions runs (3.11, 3.12, 3.13) and that `make` may pick: each
locked package has, for each of them on Linux x86_64 (the Functions hosts and CI), a wheel that fits or an sdist.
A package pinned to a version that publishes wheels for 3.11 only would fail `make install` on a machine whose
Python is 3.13 (a fresh Debian 13), or the Functions remote build for 3.13."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.11", "3.12", "3.13")  # the Makefile's SUPPORTED_PYTHONS, Azure Functions' Python versions
GLIBC_MINOR = 36  # the Functions Python images (Debian 12) and this project's machines: glibc 2.36
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]


def supported_tags(python: str) -> set[Tag]:
    version = tuple(int(part) for part in python.split("."))
    return {*cpython_tags(version, platforms=PLATFORMS), *compatible_tags(version, platforms=PLATFORMS)}


def environment(python: str) -> dict[str, str]:
    """The marker environment of CPython `python` on Linux x86_64 (a late patch release)."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.9",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.9",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    }


def installable(package: dict, python: str) -> bool:
    if "sdist" in package or package.get("source", {}).get("editable") or package.get("source", {}).get("virtual"):
        return True
    tags = supported_tags(python)
    return any(tags & parse_wheel_filename(wheel["url"].rsplit("/", 1)[-1])[3] for wheel in package.get("wheels", []))


def installed(lock: dict, python: str) -> list[dict]:
    """The locked packages `make install` puts on CPython `python` for Linux: the project with its dev extra and
    what they need, following the lock's dependency markers (pywin32 is Windows only) and forks (a version
    locked for some Pythons only)."""
    env = environment(python)
    versions: dict[str, list[dict]] = {}
    for package in lock["package"]:
        versions.setdefault(package["name"], []).append(package)

    def fits(package: dict, version: str | None) -> bool:
        markers = package.get("resolution-markers")
        return (version is None or package["version"] == version) and (
            not markers or any(Marker(m).evaluate(env) for m in markers)
        )

    project = [p for p in lock["package"] if {"editable", "virtual"} & set(p.get("source", {}))]
    todo = [(p, ("dev",)) for p in project]
    seen: dict[tuple[str, str], dict] = {}
    while todo:
        package, extras = todo.pop()
        key = (package["name"], package["version"])
        if key in seen and not extras:
            continue
        seen[key] = package
        needs = list(package.get("dependencies", []))
        for extra in extras:
            needs += package.get("optional-dependencies", {}).get(extra, [])
        for need in needs:
            if "marker" in need and not Marker(need["marker"]).evaluate(env):
                continue
            todo += [(p, tuple(need.get("extra", ()))) for p in versions[need["name"]] if fits(p, need.get("version"))]
    return list(seen.values())


def missing(lock: dict) -> list[str]:
    """'<name> <version> on <python>' for every package `make install` needs there and cannot install."""
    required = lock.get("requires-python", "")
    return [
        f"{package['name']} {package['version']} on {python} (requires {required})"
        for python in SUPPORTED
        for package in sorted(installed(lock, python), key=lambda p: p["name"])
        if not installable(package, python)
    ]


def lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def test_the_lock_admits_every_supported_python():
    spec = lock()["requires-python"]
    lowest = re.fullmatch(r">=\s*3\.(\d+)", spec)
    assert lowest and f"3.{lowest.group(1)}" == SUPPORTED[0], f"uv.lock requires-python {spec!r}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == spec
    classifiers = {c for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")}
    assert classifiers == {f"Programming Language :: Python :: {p}" for p in SUPPORTED}
    makefile = (ROOT / "Makefile").read_text()
    assert f"SUPPORTED_PYTHONS := {' '.join(reversed(SUPPORTED))}" in makefile


def test_every_locked_package_installs_on_every_supported_python():
    data = lock()
    assert len(data["package"]) > 100
    assert missing(data) == []


def test_a_package_with_wheels_for_one_python_only_is_found():
    only_311 = {
        "name": "native",
        "version": "1.0",
        "wheels": [{"url": "https://example.invalid/native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"}],
    }
    abi3 = {
        "name": "stable",
        "version": "2.0",
        "wheels": [{"url": "https://example.invalid/stable-2.0-cp39-abi3-manylinux_2_28_x86_64.whl"}],
    }
    too_new_glibc = {
        "name": "fresh",
        "version": "3.0",
        "wheels": [{"url": "https://example.invalid/fresh-3.0-py3-none-manylinux_2_39_x86_64.whl"}],
    }
    old_only = {**only_311, "name": "old", "resolution-markers": ["python_full_version < '3.12'"]}
    windows = {**only_311, "name": "windows"}
    project = {
        "name": "promote",
        "version": "0.1.0",
        "source": {"editable": "."},
        "dependencies": [{"name": n} for n in ("native", "stable", "old")]
        + [{"name": "windows", "marker": "sys_platform == 'win32'"}],
        "optional-dependencies": {"dev": [{"name": "fresh"}]},
    }
    packages = [project, only_311, abi3, too_new_glibc, old_only, windows]
    found = missing({"requires-python": ">=3.11", "package": packages})
    assert found == [
        "fresh 3.0 on 3.11 (requires >=3.11)",
        "fresh 3.0 on 3.12 (requires >=3.11)",
        "native 1.0 on 3.12 (requires >=3.11)",
        "fresh 3.0 on 3.13 (requires >=3.11)",
        "native 1.0 on 3.13 (requires >=3.11)",
    ]
