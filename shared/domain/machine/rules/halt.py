"""Stop the line (v3 §19): `halt` pauses every workload of a release that can be paused, with who and why on
the release; `unhalt` lifts it, resuming what the halt paused (and only that)."""

from __future__ import annotations

from datetime import datetime

from shared.domain.machine.rules.overrides import pause, resume
from shared.domain.machine.step import Ruling, Step
from shared.domain.model import Outcome, Release, Workload
from shared.domain.times import iso_s

HALTED = "halted: "  # a pause's reason when a halt made it


def halt(step: Step, w: Workload) -> Ruling:
    if not step.release.halted_by:
        step.release = step.release.evolve(
            halted_by=step.actor, halted_reason=step.actor_reason, halted_at=iso_s(step.now)
        )
    reason = step.actor_reason
    step.actor_reason = f"{HALTED}{reason}"  # the pause records why: the halt
    try:
        outcome, text, after = pause(step, w)
    finally:
        step.actor_reason = reason
    return outcome, f"halt: {text}", after


def unhalt(step: Step, w: Workload) -> Ruling:
    if step.release.halted_by:
        step.release = step.release.evolve(halted_by=None, halted_reason=None, halted_at=None)
    if not (w.paused and (w.paused_reason or "").startswith(HALTED)):
        return Outcome.IGNORED, "unhalt: not paused by a halt", w
    outcome, text, after = resume(step, w)
    return outcome, f"unhalt: {text}", after


def halted(release: Release, halt: dict, now: datetime) -> Release:
    """A release applied while a halt of everything holds (`promote halt` without --release): it starts halted,
    every workload paused by it."""
    reason = f"{HALTED}{halt['reason']}"
    workloads = {
        n: w.evolve(paused=True, paused_by=halt["by"], paused_at=now, paused_reason=reason)
        for n, w in release.workloads.items()
    }
    return release.evolve(workloads=workloads, halted_by=halt["by"], halted_reason=halt["reason"], halted_at=halt["at"])
