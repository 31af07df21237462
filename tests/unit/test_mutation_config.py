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
    assert sorted(forget_survivors(tmp_path)) == ["a__mutmut_1", "a__mutmut_3", "a__mutmut_5"]
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


def test_a_sample_is_drawn_from_the_mutants_not_run_only_and_is_remembered(tmp_path):
    from tools.mutation import SAMPLE, draw_sample

    codes = {f"a__mutmut_{i}": (None if i % 3 else 1) for i in range(1, 31)}  # 20 not run, 10 killed
    (tmp_path / "x.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    drawn = draw_sample(tmp_path, 8, seed=1)
    assert len(set(drawn)) == 8 and all(codes[name] is None for name in drawn)
    assert json.loads((tmp_path / SAMPLE).read_text()) == {"seed": 1, "population": 20, "names": drawn}
    assert draw_sample(tmp_path, 8, seed=1) == drawn  # the same seed draws the same mutants
    assert sorted(draw_sample(tmp_path, 50, seed=2)) == sorted(n for n, c in codes.items() if c is None)


def test_the_estimate_counts_every_mutant_run_as_itself_and_the_unrun_at_the_samples_rate():
    from tools.mutation import Mutant, estimate, wilson

    run = [Mutant(f"r{i}", "killed") for i in range(90)] + [Mutant(f"s{i}", "survived") for i in range(10)]
    drawn = [Mutant(f"d{i}", "killed") for i in range(15)] + [Mutant(f"e{i}", "survived") for i in range(5)]
    unrun = [Mutant(f"u{i}", "not checked") for i in range(80)]
    sample = {"seed": 1, "population": 100, "names": [m.name for m in drawn]}
    guess = estimate(run + drawn + unrun, sample)
    assert guess is not None
    assert (guess["sample_killed"], guess["sample_run"], guess["sample_rate"]) == (15, 20, 75.0)
    assert (guess["run_killed"], guess["run"], guess["unrun"]) == (105, 120, 80)
    assert guess["sample_drawn"] == 20  # all of the sample ran
    partly = estimate(
        [*run, *drawn, Mutant("d99", "not checked"), *unrun], {**sample, "names": [*sample["names"], "d99"]}
    )
    assert partly is not None and (partly["sample_run"], partly["sample_drawn"]) == (20, 21)
    assert guess["whole_scope"] == 100 * (105 + 0.75 * 80) / 200
    low, high = wilson(15, 20)
    assert 52 < low < 55 and 88 < high < 90  # Wilson's interval of 15/20
    assert guess["whole_scope_interval"] == (100 * (105 + low / 100 * 80) / 200, 100 * (105 + high / 100 * 80) / 200)
    assert estimate(run + drawn, sample) is None  # nothing left unrun: the figures are a census
    assert estimate(run + unrun, sample) is None  # nothing of the sample ran: no estimate
    assert wilson(0, 0) == (0.0, 100.0) and wilson(10, 10)[1] == 100.0


def test_under_a_mutant_the_quickest_modules_run_first_each_kept_together(tmp_path, monkeypatch):

    from tests.conftest import _durations, pytest_collection_modifyitems

    _durations.cache_clear()  # read once per session: each test writes its own timings

    names = ["b.py::slow1", "a.py::quick1", "b.py::slow2", "a.py::quick2", "c.py::unknown"]
    durations = {"b.py::slow1": 4.0, "b.py::slow2": 0.1, "a.py::quick1": 0.2, "a.py::quick2": 0.3}
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}))
    monkeypatch.chdir(tmp_path)
    items = [item(n) for n in names]
    monkeypatch.setenv("MUTANT_UNDER_TEST", "shared.x.x_f__mutmut_3")
    pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["a.py::quick1", "a.py::quick2", "c.py::unknown", "b.py::slow1", "b.py::slow2"]
    monkeypatch.delenv("MUTANT_UNDER_TEST")  # make test: its own order, the longest tests first
    items = [item(n) for n in names]
    pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == names


def item(nodeid: str, line: int | None = None):
    """A collected test as the ordering hook sees it: its id and where it is written (line: its number's digits)."""
    from types import SimpleNamespace

    path = nodeid.split("::")[0]
    return SimpleNamespace(nodeid=nodeid, location=(path, line if line is not None else _digits(nodeid), nodeid))


def _digits(nodeid: str) -> int:
    return int("".join(c for c in nodeid if c.isdigit()) or 0)


def test_in_mutmuts_other_phases_each_modules_tests_run_together_and_as_written(monkeypatch):
    """mutmut lists the tests of its stats run in a set's order, which changes with every process: a test that
    leaves global state behind (OpenTelemetry's SDK binds a patched function when first imported under the patch)
    failed the stats run in one order and not another. Written order is one order, the one make test runs."""
    from tests.conftest import _durations, pytest_collection_modifyitems

    _durations.cache_clear()  # read once per session: each test writes its own timings

    names = ["b.py::t2", "a.py::t3", "b.py::t1", "a.py::t1", "a.py::t2[x]", "a.py::t2[y]"]
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")
    items = [item(n, line={"t1": 1, "t2": 2, "t3": 3}[n.split("::")[1][:2]]) for n in names]
    pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["a.py::t1", "a.py::t2[x]", "a.py::t2[y]", "a.py::t3", "b.py::t1", "b.py::t2"]


def test_a_sample_after_retest_is_drawn_from_the_mutants_never_run_not_from_the_survivors_forgotten(tmp_path):
    """--keep --retest --sample: forget_survivors set the survivors' results to None before the draw, so the
    survivors (which run anyway, and count as themselves) were drawn as if never run: the sample's rate, applied
    to the mutants never run, was pulled down by mutants already known to survive."""
    from tools.mutation import SAMPLE, to_try

    codes = {f"a__mutmut_{i}": (0 if i <= 10 else None) for i in range(1, 31)}  # 10 survivors, 20 never run
    (tmp_path / "x.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    retried, drawn = to_try(tmp_path, retest=True, sample=50, seed=1)
    assert sorted(retried) == sorted(n for n, c in codes.items() if c == 0)
    assert sorted(drawn) == sorted(n for n, c in codes.items() if c is None)
    assert json.loads((tmp_path / SAMPLE).read_text())["population"] == 20


def test_under_a_mutant_two_modules_of_the_same_mean_time_are_not_interleaved(tmp_path, monkeypatch):
    """mutmut passes a mutant's tests quickest first, so two modules' tests come interleaved; a stable sort by
    the module's mean alone left two modules of equal mean (all skipped: 0 s each) interleaved, and their
    module fixtures were set up again at every switch."""

    from tests.conftest import _durations, pytest_collection_modifyitems

    _durations.cache_clear()  # read once per session: each test writes its own timings

    names = ["b.py::t1", "a.py::t1", "b.py::t2", "a.py::t2"]
    durations = {"b.py::t1": 0.1, "a.py::t1": 0.2, "b.py::t2": 0.3, "a.py::t2": 0.2}
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "shared.x.x_f__mutmut_3")
    items = [item(n) for n in names]
    pytest_collection_modifyitems(items)
    modules = [i.nodeid.split("::")[0] for i in items]
    assert modules == ["a.py", "a.py", "b.py", "b.py"]  # each module together (a tie: by name)


def test_with_tests_under_a_limit_a_mutant_runs_only_the_tests_timed_at_most_that_long(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from tests.conftest import TESTS_UNDER, _durations, pytest_collection_modifyitems

    _durations.cache_clear()  # read once per session: each test writes its own timings

    durations = {"a.py::t1": 0.2, "a.py::t2": 3.0, "b.py::t1": 1.0}
    (tmp_path / "mutmut-stats.json").write_text(json.dumps({"duration_by_test": durations}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MUTANT_UNDER_TEST", "shared.x.x_f__mutmut_3")
    monkeypatch.setenv(TESTS_UNDER, "1")
    deselected: list = []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))
    items = [item(n) for n in ["a.py::t1", "a.py::t2", "b.py::t1", "c.py::t9"]]
    pytest_collection_modifyitems(items, config)
    assert [i.nodeid for i in items] == ["a.py::t1", "b.py::t1", "c.py::t9"]  # a test never timed is kept
    assert [i.nodeid for i in deselected] == ["a.py::t2"]
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")  # mutmut's own phases run every test
    items = [item(n) for n in ["a.py::t1", "a.py::t2"]]
    pytest_collection_modifyitems(items, config)
    assert len(items) == 2
