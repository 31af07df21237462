"""States are enums everywhere (issue 21): no module compares a state, a release state or an outcome with a bare
string; the names live in shared/domain/model.py (a layout test, read with `ast`)."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.domain.model import Outcome, ReleaseState, WorkloadState

ROOT = Path(__file__).resolve().parents[2]
NAMES = {s.value for enum in (WorkloadState, ReleaseState, Outcome) for s in enum}
MODEL = ROOT / "shared" / "domain" / "model.py"


def _literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [v for elt in node.elts for v in _literals(elt)]
    return []


def bare_comparisons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {v!r}" for v in _literals(side) if v in NAMES]
        elif isinstance(node, ast.MatchValue):
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {v!r}" for v in _literals(node.value) if v in NAMES]
    return found


def test_no_module_compares_a_state_or_an_outcome_with_a_bare_string():
    code = [p for top in ("shared", "functions") for p in (ROOT / top).rglob("*.py") if p != MODEL]
    assert [line for path in sorted(code) for line in bare_comparisons(path)] == []


def test_the_check_finds_a_bare_state_in_a_comparison(tmp_path):
    sample = ROOT / "tests" / "unit" / "_bare_state_sample.py"
    sample.write_text("def f(w):\n    return w.state == 'promoted' or w.outcome in ('applied', 'x')\n")
    try:
        assert [line.split(": ", 1)[1] for line in bare_comparisons(sample)] == ["'promoted'", "'applied'"]
    finally:
        sample.unlink()
