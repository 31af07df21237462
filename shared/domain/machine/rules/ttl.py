"""The TTL choreography of a DNS cutover (contract §17): waking a ready workload once its record's old TTL
has run out, and putting the original TTL back when the workload is done with it (finalized, or aborted).

The gate is `ttl` (shared/domain/gates.py); what it holds and why is pure data in shared/domain/ttl.py; the
TTL is lowered at apply (shared/adapters/routing/dns.py: `lower_ttls`), which records `ttl_wait_until`.
"""

from __future__ import annotations

from dataclasses import replace

from shared.domain import messages as m
from shared.domain.finishing import TIMER_HOP
from shared.domain.machine.effects import SetTraffic
from shared.domain.machine.step import Ruling, Step
from shared.domain.model import Outcome, Workload, WorkloadState
from shared.domain.times import iso, ms
from shared.domain.ttl import RestoredTtl, lowering, restores, ttl_hold

S = WorkloadState


def _wake(step: Step, w: Workload) -> None:
    """A `ttl-elapsed` message for the workload's wait (long waits hop, as the hypercare timer does)."""
    assert w.ttl_wait_until is not None
    until = ms(w.ttl_wait_until)
    due = min(w.ttl_wait_until, step.now + TIMER_HOP)
    step.schedule(m.TTL_TYPE, {"workload": w.name, "until_ms": until}, due, f"{until}:{ms(step.now)}")


def on_ttl_elapsed(step: Step, w: Workload) -> Ruling:
    until = w.ttl_wait_until
    if until is None or step.message.data.until_ms != ms(until):
        return Outcome.IGNORED, "ttl timer is stale (not for this workload's TTL wait)", w
    if step.now < until:
        _wake(step, w)
        return Outcome.IGNORED, f"ttl timer arrived early; the old TTL runs out at {iso(until)}", w
    if w.state != S.READY:
        return Outcome.IGNORED, f"the record's old TTL has run out; the workload is {w.state}", w
    routing = lowering(step.routing(w.name))
    lowered = f" (lowered to {routing.lower_ttl_to}s)" if routing else ""
    return Outcome.APPLIED, f"the record's old TTL has run out since it was lowered{lowered}: the switch may go", w


def after_decision(step: Step) -> None:
    """A workload that became ready while its record's old TTL still counts is woken when it runs out; one
    that is finalized (no rollback can come any more) or aborted (it leaves the release, its users on the
    source) gets its record's original TTL back: with the move an abort makes, or as a move of its own. The
    finalize's is restored when it is requested (rollback is refused from then on), not with the decommission."""
    for name, w in step.workloads.items():
        before = step.before.workloads[name]
        if w.state == before.state and w.finalize_requested_by == before.finalize_requested_by:  # cheap: no plan
            continue
        if w.state == S.READY and w.ttl_wait_until is not None and ttl_hold(step.view(w), w, step.now) is not None:
            _wake(step, w)
        routing = lowering(step.routing(name)) if restores(before, w) else None
        if routing is None:
            continue
        moves = [e for e in step.effects if isinstance(e, SetTraffic) and e.workload == name]
        if moves:  # one router per workload and decision: the move itself puts the TTL back after it
            step.effects = [replace(e, routing=RestoredTtl(routing)) if e in moves else e for e in step.effects]
        else:  # after what it schedules: a decommission sent by a request the restore then failed finds no request
            step.effects.append(SetTraffic(name, w.traffic_percent, RestoredTtl(routing)))
