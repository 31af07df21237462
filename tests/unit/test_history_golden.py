"""The history users read, pinned: every distinct (message, move, outcome, reason) that a fixed corpus of runs
produces, compared with tests/unit/golden_history.txt.

The corpus is deterministic (random.Random with fixed seeds, a controlled clock): every model, the happy path
twice with disturbances (aborts, rollbacks, retries, failing tests, alerts with severity and description,
verdicts for other flights, strangers, duplicates, invalid messages, unknown workloads and assets). A change
of wording or of behaviour shows here as a diff; when it is meant, regenerate the file and review the diff:

    PROMOTE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_history_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
import random
from pathlib import Path

from tests.unit.test_properties import APPROVER, OPERATOR, PLANS, STRANGER, WORKLOADS, _happy_path, run

GOLDEN = Path(__file__).with_name("golden_history.txt")
RUNS_PER_MODEL = 12


def disturbance(rng: random.Random) -> tuple:
    name = rng.choice(WORKLOADS)
    kind = rng.choice(
        [
            "abort",
            "rollback",
            "retry",
            "pause",
            "resume",
            "advance",
            "approve",
            "tests-failed",
            "tests-passed",
            "flight-unhealthy",
            "flight-healthy",
            "alert",
            "stranger",
            "invalid",
            "ghost",
            "foreign-asset",
            "duplicate",
        ]
    )
    if kind in ("tests-failed", "tests-passed"):
        return kind, name, rng.choice([{}, {"suite": "smoke"}, {"run": "118"}, {"suite": "e2e", "run": "7"}])
    if kind.startswith("flight-"):
        return kind, name, {"flight": rng.randint(1, 3)}
    if kind == "alert":
        return kind, name, rng.choice([{}, {"severity": "Sev1"}, {"severity": "Sev2", "description": "5xx > 1%"}])
    if kind == "stranger":
        return "override", name, {"action": rng.choice(["approve", "rollback"]), "actor": STRANGER, "reason": "r"}
    if kind == "invalid":
        return "asset-replicated", name, {}  # no asset: fails validation, recorded as rejected
    if kind == "ghost":
        return "tests-passed", "ghost", {}
    if kind == "foreign-asset":
        return "asset-replicated", name, {"asset": "not-an-asset"}
    if kind == "duplicate":
        return "duplicate", None, {}
    actor = rng.choice([APPROVER, OPERATOR]) if kind not in ("approve", "advance") else APPROVER
    return "override", rng.choice([name, name, None]), {"action": kind, "actor": actor, "reason": "r"}


def corpus(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    steps = [(t, w, d) for _ in range(2) for t, w, _, d in _happy_path()]
    for _ in range(rng.randint(3, 12)):
        steps.insert(rng.randint(0, len(steps)), disturbance(rng))
    script: list[tuple] = []
    for i, (type_, target, data) in enumerate(steps):
        if type_ == "duplicate":
            earlier = [s for s in script if s[0] != "tick"]
            if earlier:
                script.append(rng.choice(earlier))
            continue
        script.append((type_, target, "" if type_ == "tick" else f"m-{i}", data))
    return script


def history_lines() -> list[str]:
    lines = set()
    for kind in sorted(PLANS):
        for seed in range(RUNS_PER_MODEL):
            w, _, observations = run(kind, corpus(seed))
            for body, _, _, _result, entries, _, _ in observations:
                data = {k: v for k, v in sorted(body["data"].items()) if k not in ("release", "workload")}
                for e in entries:
                    lines.add(
                        f"{kind} | {body['type']} {json.dumps(data)} | {e.workload}: {e.from_state} -> "
                        f"{e.to_state} {e.traffic_percent}% | {e.outcome} | {e.reason}"
                    )
            for _body, reason in w.dead.letters:
                lines.add(f"{kind} | dead-lettered | {reason}")
    return sorted(lines)


def test_the_history_of_a_fixed_corpus_is_the_reviewed_one():
    lines = history_lines()
    if os.environ.get("PROMOTE_UPDATE_GOLDEN"):
        GOLDEN.write_text("\n".join(lines) + "\n")
    expected = GOLDEN.read_text().splitlines()
    diff = list(difflib.unified_diff(expected, lines, "golden_history.txt", "now", lineterm="", n=0))
    assert not diff, "history changed (PROMOTE_UPDATE_GOLDEN=1 to accept after review):\n" + "\n".join(diff[:60])


def test_the_corpus_reaches_every_outcome_and_every_model():
    lines = GOLDEN.read_text().splitlines()
    assert {line.split(" | ")[3] for line in lines if " | dead-lettered" not in line} == {
        "applied",
        "duplicate",
        "ignored",
        "rejected",
    }
    assert {line.split(" | ")[0] for line in lines} == set(PLANS)
