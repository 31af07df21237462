"""The local face's shape: no import cycles between its modules (imports at any depth, inside functions too), and
no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "shared" / "local"
MAX_LINES = 400


def _module(path: Path, repo: Path) -> str:
    parts = path.relative_to(repo).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def local_imports(path: Path, here: str, known: set[str]) -> set[str]:
    """The modules in `known` that module `here` (at `path`) imports anywhere: in functions, under
    TYPE_CHECKING, relatively."""
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .cli import y
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from shared.local import cli`
    return {name for name in found if name in known and name != here}


def import_graph(repo: Path = ROOT) -> dict[str, set[str]]:
    """Module of shared/local -> the modules of shared/local it imports."""
    names = {p: _module(p, repo) for p in sorted((repo / "shared" / "local").rglob("*.py"))}
    known = set(names.values())
    return {name: local_imports(path, name, known) for path, name in names.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself): Tarjan's."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_local_face_has_no_import_cycles():
    graph = import_graph()
    assert {"shared.local.cli", "shared.local.common", "shared.local.demo"} <= set(graph)
    assert "shared.local.common" in graph["shared.local.cli"]  # the graph sees real imports
    assert cycles(graph) == []


def test_the_cycle_finder_sees_cycles_through_functions_and_relative_imports(tmp_path):
    package = tmp_path / "shared" / "local"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from shared.local.b import g\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from .a import f\n")
    (package / "d.py").write_text("from shared.local import a\n")
    assert cycles(import_graph(tmp_path)) == [["shared.local.a", "shared.local.b", "shared.local.c"]]
    (package / "c.py").write_text("import typing\n")
    assert cycles(import_graph(tmp_path)) == []


def test_no_module_of_the_local_face_exceeds_400_lines():
    long = {
        str(p.relative_to(ROOT)): n for p in LOCAL.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
