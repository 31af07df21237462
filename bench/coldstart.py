"""Cold import of function_app in fresh interpreters: what the Functions host pays before the first message."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

_CODE = "import time; t = time.perf_counter(); import function_app; print((time.perf_counter() - t) * 1000)"
HEAVY = (
    "azure.mgmt",
    "azure.identity",
    "azure.servicebus",
    "azure.data.tables",
    "azure.storage",
    "pydantic",
    "yaml",
    "matplotlib",
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PROMOTE_")}


def measure(repo: Path, runs: int, out: Path) -> dict:
    imports, processes = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CODE], cwd=repo, env=_env(), capture_output=True, text=True, check=True
        )
        processes.append((time.perf_counter() - t0) * 1000)
        imports.append(float(done.stdout.strip().splitlines()[-1]))
    # One more run with -X importtime: which modules the import pulls in, and what they cost.
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=repo,
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows = []
    for line in trace.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, self_us, cumulative_us, name = (part.strip() for part in line.replace("import time:", "|").split("|"))
        rows.append((int(cumulative_us), int(self_us), name))
    modules = {name.strip() for _, _, name in rows}
    heavy = sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))
    top = sorted(rows, reverse=True)[:20]
    out.mkdir(parents=True, exist_ok=True)
    (out / "importtime.txt").write_text(
        "cumulative_us  self_us  module (python -X importtime -c 'import function_app', top 20)\n"
        + "".join(f"{c:>13}  {s:>7}  {n}\n" for c, s, n in top)
    )
    return {
        "runs": runs,
        "median_ms": statistics.median(imports),
        "min_ms": min(imports),
        "max_ms": max(imports),
        "process_median_ms": statistics.median(processes),
        "modules": len(modules),
        "heavy_imported": heavy,
        "top": [(n.strip(), round(c / 1000, 1)) for c, _, n in top[:5]],
    }
