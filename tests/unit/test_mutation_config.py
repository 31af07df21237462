"""make mutation runs the selected tiers in mutmut's copy of the tree (mutants/), which holds shared/, tests/ and
the paths of `also_copy` only. A test that reads another file of the repository stops mutmut's first run (three
runs stopped so on 2026-12-07): every path a selected test reads is copied, or the test is left out."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r'(?:ROOT|REPO|parents\[\d\]) / "([^"/]+)')
COPIED_BY_MUTMUT = {"shared", "tests", "pyproject.toml", "uv.lock"}  # source_paths, tests, what mutmut copies itself


def mutmut() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]


def selected_test_files() -> list[Path]:
    config = mutmut()
    ignored = {ROOT / a.split("=", 1)[1] for a in config["pytest_add_cli_args"] if a.startswith("--ignore=")}
    files: list[Path] = []
    for part in config["pytest_add_cli_args_test_selection"]:
        path = ROOT / part
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in [*files, *sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "tests/support").glob("*.py"))]
            if f not in ignored]  # fmt: skip


def test_every_repository_path_a_selected_test_reads_is_copied_into_mutants():
    copied = set(mutmut()["also_copy"]) | COPIED_BY_MUTMUT
    missing = {
        f"{f.relative_to(ROOT)} reads {name}"
        for f in selected_test_files()
        for name in READS.findall(f.read_text())
        if name not in copied
    }
    assert not missing, f"add to [tool.mutmut] also_copy, or leave the test out: {sorted(missing)}"


def test_the_check_sees_the_reads_it_is_about():
    files = {f.relative_to(ROOT).as_posix() for f in selected_test_files()}
    assert "tests/unit/test_tracing.py" in files and "tests/unit/test_lock.py" not in files
    assert READS.findall('x = (ROOT / "host.json").read_text(); y = Path(__file__).parents[2] / "docs" / "a.md"') == [
        "host.json",
        "docs",
    ]


def test_retest_forgets_the_survivors_and_the_unreached_and_keeps_every_other_result(tmp_path):
    from tools.mutation import forget_survivors

    meta = tmp_path / "shared" / "domain" / "x.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"a__mutmut_1": 0, "a__mutmut_2": 1, "a__mutmut_3": 33, "a__mutmut_4": 36, "a__mutmut_5": 5, "b": None}
    meta.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {"a": "h"}}))
    (tmp_path / "untouched.py.meta").write_text(json.dumps({"exit_code_by_key": {"c": 1}}))
    assert forget_survivors(tmp_path) == 3
    assert json.loads(meta.read_text()) == {
        "exit_code_by_key": {
            "a__mutmut_1": None,
            "a__mutmut_2": 1,
            "a__mutmut_3": None,
            "a__mutmut_4": 36,
            "a__mutmut_5": None,
            "b": None,
        },
        "hash_by_function_name": {"a": "h"},
    }
    assert json.loads((tmp_path / "untouched.py.meta").read_text()) == {"exit_code_by_key": {"c": 1}}


def test_a_mutant_mypy_rejects_counts_killed_and_the_tests_own_rate_leaves_it_out():
    import io

    from tools.mutation import Mutant, report

    mutants = [
        Mutant("m.x__mutmut_1", "killed"),
        Mutant("m.x__mutmut_2", "caught by type check"),
        Mutant("m.x__mutmut_3", "caught by type check"),
        Mutant("m.x__mutmut_4", "survived"),
        Mutant("m.x__mutmut_5", "not checked"),
    ]
    out = io.StringIO()
    figures = report(mutants, out=out)
    assert figures["all"] == (3, 4, 75.0)
    assert figures["past_mypy"] == (1, 2, 50.0)
    assert "of the mutants mypy accepts: 1/2 = 50.0%" in out.getvalue()
    assert "m.x__mutmut_2" not in out.getvalue().split("survivors (")[1]  # a caught mutant is no survivor
