"""The house's layout: imports only go downward, and the Azure runtime never imports the local face."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Who may import whom. Adapters implement the application's ports (and read its config names); only the
# composition root (bootstrap) picks adapters; the local face may use everything below it.
LAYERS = {
    "domain": {"shared.domain"},
    "adapters": {"shared.adapters", "shared.domain", "shared.application.ports", "shared.application.config"},
    "application": {"shared.application", "shared.domain"},
    "local": {"shared.local", "shared.application", "shared.domain", "shared.adapters"},
}
COMPOSITION_ROOT = "bootstrap.py"
AZURE_RUNTIME = [
    ROOT / "function_app.py",
    *sorted((ROOT / "functions").rglob("*.py")),
    *(p for layer in ("domain", "application", "adapters") for p in sorted((ROOT / "shared" / layer).rglob("*.py"))),
]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import; shared/ uses absolute imports"
            names.append(node.module)
    return names


def test_azure_runtime_never_imports_the_local_face():
    offenders = [
        f"{p.relative_to(ROOT)} imports {name}"
        for p in AZURE_RUNTIME
        for name in _imports(p)
        if name == "shared.local" or name.startswith("shared.local.")
    ]
    assert not offenders, offenders


def test_the_domain_imports_nothing_but_itself_and_the_standard_library_and_pydantic():
    allowed_outside = {"pydantic", "yaml", "zoneinfo"}
    for path in sorted((ROOT / "shared" / "domain").rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "shared":
                assert name.split(".")[1] == "domain", f"{path.relative_to(ROOT)} imports {name}"
            else:
                assert top not in ("azure", "requests", "httpx") and (top in allowed_outside or _stdlib(top)), (
                    f"{path.relative_to(ROOT)} imports {name}"
                )


def test_layers_import_only_what_they_may():
    for layer, may in LAYERS.items():
        for path in sorted((ROOT / "shared" / layer).rglob("*.py")):
            for name in _imports(path):
                if not name.startswith("shared."):
                    continue
                allowed = may | ({"shared.adapters"} if path.name == COMPOSITION_ROOT else set())
                assert any(name == a or name.startswith(a + ".") for a in allowed), (
                    f"{path.relative_to(ROOT)} ({layer}) imports {name}"
                )


def test_the_functions_package_leaves_the_local_face_out():
    ignored = (ROOT / ".funcignore").read_text().split()
    assert "shared/local" in ignored


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names or name == "__future__"
