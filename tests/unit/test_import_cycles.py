"""No import cycles inside shared/domain: every import counts, at any depth (inside functions, under
`if TYPE_CHECKING:`), since a cycle hidden in a function or a type-only import is still a knot a reader has
to untie, and turns into an ImportError the day someone hoists the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "shared.domain"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path = ROOT / "shared" / "domain") -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(root.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    """The modules an import statement asks for. `from a import b` asks for the module a.b when there is one
    (Python imports it, whatever state `a` is in), else for a name of `a`, which needs `a` itself to have run."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolved against the importing module's package
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]


def _edges(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the modules of `modules` it makes Python run. Importing a.b.c first runs the packages a and a.b
    unless the importer is inside them (then they are already being imported)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(node, name, is_package, modules):
                parts = target.split(".")
                for i in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:i])
                    is_ancestor = i < len(parts)
                    if prefix not in modules or prefix == name:
                        continue
                    if is_ancestor and (own == prefix or own.startswith(prefix + ".")):
                        continue  # a package the importer lives in: already running
                    graph[name].add(prefix)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


# -- the checker checks: a cycle it must see, and imports that are not cycles -------------------------------
def _write(tmp: Path, files: dict[str, str]) -> dict[str, Path]:
    for rel, text in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {
        ".".join(p.relative_to(tmp).with_suffix("").parts).removesuffix(".__init__"): p
        for p in sorted(tmp.rglob("*.py"))
    }


def test_the_checker_sees_imports_inside_functions_and_under_type_checking(tmp_path):
    modules = _write(
        tmp_path,
        {
            "d/__init__.py": "",
            "d/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from d.b import B\n",
            "d/b.py": "def f():\n    from d import c\n",
            "d/c.py": "import d.a\n",
            "d/free.py": "import d.a\n",
        },
    )
    assert _cycles(_edges(modules)) == [["d.a", "d.b", "d.c"]]


def test_the_checker_counts_a_package_that_importing_its_module_runs(tmp_path):
    modules = _write(
        tmp_path,
        {
            "d/__init__.py": "",
            "d/p/__init__.py": "from d.p.inner import X\nfrom d.p.user import Y\n",
            "d/p/inner.py": "X = 1\n",
            "d/p/user.py": "from d.outside import Z\nY = 2\n",
            "d/outside.py": "from d.p.inner import X as Z\n",  # runs d.p, which imports d.p.user, which imports this
        },
    )
    assert _cycles(_edges(modules)) == [["d.outside", "d.p", "d.p.user"]]


def test_the_checker_lets_a_package_s_modules_import_one_another(tmp_path):
    modules = _write(
        tmp_path,
        {
            "d/__init__.py": "",
            "d/p/__init__.py": "from d.p.b import Y\n",
            "d/p/a.py": "X = 1\n",
            "d/p/b.py": "from d.p.a import X\nfrom .a import X as X2\nfrom d.p import a\nY = X\n",
        },
    )
    assert _cycles(_edges(modules)) == []


def test_the_checker_sees_a_module_taking_a_name_from_its_package_while_the_package_runs(tmp_path):
    modules = _write(
        tmp_path,
        {
            "d/__init__.py": "",
            "d/p/__init__.py": "from d.p.b import Y\nZ = 1\n",
            "d/p/b.py": "from d.p import Z\nY = Z\n",  # ImportError: d.p has not set Z yet
        },
    )
    assert _cycles(_edges(modules)) == [["d.p", "d.p.b"]]


# -- the domain ---------------------------------------------------------------------------------------------
# The lead is removing shared/domain/finish_rules.py (machine.py becomes a package, issue 21); until then
# machine <-> finish_rules is the one known cycle. strict: the test fails (XPASS) if the cycle goes while the
# file stays; once the file is gone the marker no longer applies, and the second test can go too.
KNOWN = "shared.domain.finish_rules"


@pytest.mark.xfail(
    condition=(ROOT / "shared" / "domain" / "finish_rules.py").exists(),
    reason="machine <-> finish_rules, removed by the lead's split of machine.py",
    strict=True,
)
def test_no_import_cycles_inside_the_domain():
    assert _cycles(_edges(_modules())) == []


def test_no_import_cycles_inside_the_domain_but_the_known_one():
    assert [c for c in _cycles(_edges(_modules())) if KNOWN not in c] == []
