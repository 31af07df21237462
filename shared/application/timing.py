"""Time and order at apply time (contract section 9): `after` checked and registered, first deadlines scheduled.

What a dependency costs in storage requests (one partition per release stays the rule):
- at apply, per release named in `after`: 1 range query (plus 1 per release further down its `after` chain,
  for the cycle check) and, while it is not promoted yet, 1 merge of its release row to note the dependant;
- when that release is promoted: no extra request in its own transaction (its dependants are in the release
  row it reads anyway), 1 scheduled message per dependant;
- per dependant, that message is 1 lifecycle event of 3 requests: the range query of the dependency (the
  service reads the promoted state itself: a message cannot claim it), the dependant's range query, and one
  transaction. Releases without `after` still cost exactly 2 requests per lifecycle event.
"""

from __future__ import annotations

from datetime import datetime

from shared.application.effects import Ports, schedule
from shared.application.ports import ReleaseStore
from shared.application.retry import retry_on_conflict
from shared.domain import messages as m
from shared.domain.errors import PlanError, UnknownRelease
from shared.domain.gates import PROMOTED_STATES, waiting_period
from shared.domain.machine import Schedule
from shared.domain.model import Release
from shared.domain.plan import Plan
from shared.domain.times import ms

MAX_CHAIN = 200  # releases visited by the cycle check at most
MAX_CONFLICTS = 10


def check_after(store: ReleaseStore, plan: Plan) -> tuple[str, ...]:
    """Refuse an `after` naming an unknown release or closing a cycle; return the named releases promoted now."""
    problems: list[tuple[str, str]] = []
    met: list[str] = []
    for i, name in enumerate(plan.after):
        try:
            release = store.get_release(name).release
        except UnknownRelease:
            problems.append((f"after[{i}]", f"release {name!r} was never applied (apply it first)"))
            continue
        if release.state in PROMOTED_STATES:
            met.append(name)
        cycle = _path_back(store, release, plan.release)
        if cycle:
            problems.append((f"after[{i}]", "a cycle: " + " -> ".join([plan.release, *cycle])))
    if problems:
        raise PlanError(problems)
    return tuple(met)


def _path_back(store: ReleaseStore, start: Release, target: str) -> list[str]:
    """The chain of `after` from `start` that reaches `target` ([] if none)."""
    stack: list[tuple[Release, list[str]]] = [(start, [start.name])]
    visited = {start.name}
    while stack and len(visited) <= MAX_CHAIN:
        release, path = stack.pop()
        for name in release.plan.after:
            if name == target:
                return [*path, target]
            if name in visited:
                continue
            visited.add(name)
            try:
                stack.append((store.get_release(name).release, [*path, name]))
            except UnknownRelease:
                continue
    return []


def register_dependant(store: ReleaseStore, ports: Ports, release: Release, now: datetime) -> None:
    """Note `release` in the row of every release it waits for, so their promotion tells it. Idempotent, and
    run on every apply (a re-apply completes an apply that was interrupted). The write is guarded by the
    dependency's ETag: a promotion committed in between is seen on the re-read and told here instead."""
    for name in release.plan.after:
        if name in release.after_met:
            continue

        def attempt(_: int, name: str = name) -> None:
            snapshot = store.get_release(name)
            dependency = snapshot.release
            if dependency.state in PROMOTED_STATES:
                tell(ports, release.name, dependency, now)
            elif release.name not in dependency.dependants:
                store.add_dependant(snapshot, release.name)

        retry_on_conflict(attempt, what=f"release {name}: noting dependant {release.name}", limit=MAX_CONFLICTS)


def tell(ports: Ports, dependant: str, dependency: Release, now: datetime) -> None:
    """Tell `dependant` that `dependency` is promoted (the service checks that again when it arrives)."""
    notice = Schedule(m.DEPENDENCY_TYPE, {"dependency": dependency.name}, now, f"{dependency.name}:{dependency.seq}")
    schedule(ports, dependant, notice, source="promote/apply")


def first_deadlines(ports: Ports, release: Release, now: datetime) -> None:
    """A new release's workloads wait for replication from the moment it is applied: schedule that deadline."""
    for w in release.workloads.values():
        period = waiting_period(release, w)
        if period is None or period.deadline is None:
            continue
        data = {"workload": w.name, "period": period.key}
        schedule(ports, release.name, Schedule(m.DEADLINE_TYPE, data, period.deadline, f"{period.key}:{ms(now)}"))
