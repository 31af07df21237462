"""A decision Azure refused, or that kept failing (shared/domain/machine/rules/retry.py `stopped`): nothing it
decided is kept but its bookkeeping of ids and history; each workload it would have moved says why it is stuck,
with its own entry's reason, or the decision's when it has none. And the deny-rule advice of a network security
group near the lowest priority, naming every team prefix (nsg.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.machine.effects import Decision, SetTraffic
from shared.domain.machine.rules.retry import stopped
from shared.domain.model import HistoryEntry, Outcome, new_release
from shared.domain.nsg import Rule, earlier_allows
from shared.domain.plan import LocalRouting, RevokeAccess, validate_plan

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _entry(workload: str, reason: str) -> HistoryEntry:
    return HistoryEntry(NOW, "m1", "override", Outcome.APPLIED, reason, workload, "ready", "promoted", 100)


def test_a_stopped_decision_keeps_only_its_bookkeeping_and_says_why_each_workload_is_stuck():
    names = ("w1", "w2", "w3")
    plan = validate_plan(
        {"release": "r1", "model": "single-step", "workloads": [{"name": n, "assets": [n]} for n in names]}
    )
    before = new_release(plan, NOW)
    moved = {n: w.evolve(state="promoted", traffic_percent=100) for n, w in before.workloads.items()}
    after = before.evolve(workloads=moved, seq=7, seen=("k1", "k2"), processed=9, archive=b"\x01" * 4096, archived=3)
    decision = Decision(
        after,
        [_entry("w1", "promoted w1"), _entry("w2", "promoted w2")],
        [SetTraffic(n, 100, LocalRouting()) for n in names],
        remember=False,
    )
    out = stopped(before, decision, error="quota exceeded", at=NOW, permanent=True)
    assert {n: (w.state, w.traffic_percent, w.stuck) for n, w in out.release.workloads.items()} == {
        "w1": (
            "replicating",
            0,
            "promoted w1: not carried out at 2026-12-07T09:00:00Z: quota exceeded (Azure refused it)",
        ),
        "w2": (
            "replicating",
            0,
            "promoted w2: not carried out at 2026-12-07T09:00:00Z: quota exceeded (Azure refused it)",
        ),
        "w3": (
            "replicating",
            0,
            "promoted w1; promoted w2: not carried out at 2026-12-07T09:00:00Z: quota exceeded (Azure refused it)",
        ),
    }
    r = out.release
    assert (r.seq, r.seen, r.processed, r.archive, r.archived) == (7, ("k1", "k2"), 9, b"\x01" * 4096, 3)
    assert (out.remember, out.effects) == (False, [])


def test_the_advice_near_the_lowest_priority_and_every_team_prefix():
    config = RevokeAccess(provider="local", priority=300, source_prefixes=["10.50.0.0/24", "10.60.0.0/24"])
    [said] = earlier_allows([Rule("allow-any", "Allow", "Inbound", 102, "*", ("*",), ("*",))], config)
    assert said == (
        "inbound rule allow-any (Allow, priority 102, from *, any protocol and port) is evaluated before promote's "
        "deny at priority 300 and lets the migration team (10.50.0.0/24, 10.60.0.0/24) in; choose a priority below "
        "102 (e.g. 101), or narrow that rule"
    )
    taken = [Rule("allow-any", "Allow", "Inbound", 101, "*", ("*",), ("*",))]
    assert earlier_allows(taken, config)[0].endswith("; choose a priority below 101 (e.g. 100), or narrow that rule")
