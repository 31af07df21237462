"""What the pure domain costs on a release of 5,000 workloads (contract §14), timed: the attention list, the
staged release's move at once, and the status document. tests/unit/test_large_release_costs.py pins that these
grow linearly by counting operations; this prints the seconds.

    .venv/bin/python bench/domain_scale.py [--workloads 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.application.views import status_json  # noqa: E402
from shared.domain import messages as m  # noqa: E402
from shared.domain.attention import attention  # noqa: E402
from shared.domain.machine import decide  # noqa: E402
from shared.domain.model import Release, WorkloadState, new_release  # noqa: E402
from shared.domain.plan import validate_plan  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def ready(model: str, n: int, last: WorkloadState = WorkloadState.READY) -> Release:
    flights = {"flights": [{"percent": 10, "bake": "30m"}, {"percent": 100}]} if model == "flight" else {}
    small = validate_plan({"release": "r1", "model": model, "approval": "auto", **flights,
                           "workloads": [{"name": "w0", "assets": ["a"]}]})  # fmt: skip
    plan = small.model_copy(update={"workloads": [
        small.workloads[0].model_copy(update={"name": f"w{i:05d}", "assets": [f"vm{i:05d}"]}) for i in range(n)
    ]})  # fmt: skip
    release = new_release(plan, NOW)
    workloads = {k: w.evolve(state=WorkloadState.READY, assets={a: True for a in w.assets}, tests_passed=True)
                 for k, w in release.workloads.items()}  # fmt: skip
    name = plan.workloads[-1].name
    if last != WorkloadState.READY:
        workloads[name] = workloads[name].evolve(state=last, tests_passed=False)
    return release.evolve(workloads=workloads)


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return round(time.perf_counter() - start, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", type=int, default=5_000)
    n = parser.parse_args(argv).workloads
    flight, staged = ready("flight", n), ready("staged", n, WorkloadState.TESTING)
    data = {"release": "r1", "workload": staged.plan.workloads[-1].name}
    last = m.parse_message(json.dumps({"specversion": "1.0", "id": "t-last", "source": "bench", "type": "tests-passed",
                                       "data": data}))  # fmt: skip
    figures = {
        "workloads": n,
        "attention_s": seconds(lambda: attention(flight)),
        "staged_move_s": seconds(lambda: decide(staged, last, NOW)),
        "status_s": seconds(lambda: status_json(ready("staged", n), NOW)),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
