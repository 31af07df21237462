"""Safe amends of a running release's plan (v3 §19): what a change board may move without a new release.

`deadlines`, `windows`, `notify`, `approvers`, `operators` and the thresholds of `health` checks (the release's
or a workload's: a check's `max`, `min`, `min_samples`, and the section's `failure_limit`/`inconclusive_limit`)
may change while a release exists. Anything else (the workloads, their routing, the model, the flights, which
checks run and how) changes what was decided so far: it is refused, naming the fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.model import HistoryEntry, Outcome
from shared.domain.plan.model import Plan

SAFE = ("deadlines", "windows", "notify", "approvers", "operators")
THRESHOLDS = ("max", "min", "min_samples")
LIMITS = ("failure_limit", "inconclusive_limit")
SHOWN = 200  # characters of a field's old and new value in the history entry


@dataclass(frozen=True)
class Amendment:
    changed: list[str]  # what may change and does, as paths (deadlines, health.checks[error-rate].max, ...)
    refused: list[str]  # what may not change and does (top-level fields)
    details: list[str]  # `path: old -> new` for each change


def _unthresholded(health: Any) -> Any:
    """A health section without its thresholds: what must stay as it is."""
    if not isinstance(health, dict):
        return health
    checks = [{k: v for k, v in c.items() if k not in THRESHOLDS} for c in health.get("checks", [])]
    return {**{k: v for k, v in health.items() if k not in LIMITS}, "checks": checks}


def _thresholds(path: str, old: Any, new: Any, out: Amendment) -> None:
    for key in LIMITS:
        if old.get(key) != new.get(key):
            _note(out, f"{path}.{key}", old.get(key), new.get(key))
    for a, b in zip(old["checks"], new["checks"], strict=True):
        for key in THRESHOLDS:
            if a.get(key) != b.get(key):
                _note(out, f"{path}.checks[{a['name']}].{key}", a.get(key), b.get(key))


def _health(path: str, old: Any, new: Any, out: Amendment, refused_as: str) -> None:
    if old is None or new is None or _unthresholded(old) != _unthresholded(new):
        out.refused.append(refused_as)
    else:
        _thresholds(path, old, new, out)


def _workloads(old: list[dict], new: list[dict], out: Amendment) -> None:
    bare = [[{k: v for k, v in w.items() if k != "health"} for w in ws] for ws in (old, new)]
    if bare[0] != bare[1]:
        out.refused.append("workloads")
        return
    for a, b in zip(old, new, strict=True):
        if a.get("health") != b.get("health"):
            _health(f"workloads[{a['name']}].health", a.get("health"), b.get("health"), out, "workloads")


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _note(out: Amendment, path: str, old: Any, new: Any) -> None:
    out.changed.append(path)
    out.details.append(f"{path}: {_short(old)} -> {_short(new)}")


def amendment(current: Plan, new: Plan) -> Amendment:
    """What `new` changes of `current` (the same release), split into what may change and what may not."""
    old_doc, new_doc = current.canonical(), new.canonical()
    out = Amendment([], [], [])
    for key in sorted(set(old_doc) | set(new_doc)):
        a, b = old_doc.get(key), new_doc.get(key)
        if a == b:
            continue
        if key in SAFE:
            _note(out, key, a, b)
        elif key == "health":
            _health("health", a, b, out, "health")
        elif key == "workloads":
            _workloads(a or [], b or [], out)
        else:
            out.refused.append(key)
    out.refused[:] = sorted(set(out.refused))
    return out


AMENDABLE = "deadlines, windows, notify, health thresholds, approvers and operators"


def amended(plan: Plan, change: Amendment, now: datetime) -> HistoryEntry:
    """The release-level history entry of an amend: what changed, old -> new."""
    return HistoryEntry(
        at=now,
        event_id=f"apply:{plan.fingerprint()[:16]}",
        type="plan-amended",
        outcome=Outcome.APPLIED,
        reason=f"plan amended: {'; '.join(change.details)}",
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
        source="promote apply",
    )
