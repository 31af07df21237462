"""A decision whose effect Azure refused (contract §18): not carried out, and either tried again later, by a
message promote sends itself carrying the original one, or stopped with the reason and `attention`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.domain import messages as m
from shared.domain.machine.effects import Decision, Schedule, SetTraffic, digest
from shared.domain.model import HistoryEntry, Outcome, Release
from shared.domain.times import iso_s, ms

# characters of a workload's `stuck` kept (its row holds it), and of the error each entry repeats: a refused
# release-wide move's error names every workload's refusal (at 5,000 workloads, 5,000 copies of 500 KB), and a
# workload without an entry of its own takes the decision's reason, every entry's
MAX_STUCK = 2_000


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_STUCK else text[: MAX_STUCK - 1] + "\u2026"


def _undone(before: Release, decision: Decision, outcome: Outcome, note: str) -> list[HistoryEntry]:
    """The decision's entries, as if it had not moved anything: its outcome and `note` in front of its reason."""
    entries = []
    for e in decision.entries:
        w = before.workloads.get(e.workload) if e.workload else None
        entries.append(
            replace(
                e,
                outcome=outcome,
                reason=f"{note}; it would have: {e.reason}",
                to_state=w.state if w else e.from_state,
                traffic_percent=w.traffic_percent if w else e.traffic_percent,
            )
        )
    return entries


def deferred(
    before: Release, decision: Decision, message: Any, body: str, *, error: str, attempt: int, first: datetime,
    due: datetime,
) -> Decision:  # fmt: skip
    """Nothing changes now; each workload's entry names the failure and when it is tried again."""
    note = f"not carried out yet: {_clipped(error)} (attempt {attempt}; tried again at {iso_s(due)})"
    data = {"workload": message.data.workload, "attempt": attempt, "first_ms": ms(first), "body": body}
    retry = Schedule(m.RETRY_TYPE, data, due, f"{digest(message.id)}:{attempt}")
    return Decision(release=before, entries=_undone(before, decision, Outcome.IGNORED, note), effects=[retry],
                    remember=False)  # fmt: skip


def stopped(
    before: Release, decision: Decision, *, error: str, at: datetime, permanent: bool, why: str | None = None
) -> Decision:
    """Nothing changes; the workloads it would have moved show why in `attention` until routing is decided anew.
    The message is done: its id is recorded as the decision's would have been, so that a redelivery (or the
    sender sending it again) is a duplicate instead of being decided anew, moving users and moving them back."""
    why = why or ("Azure refused it" if permanent else "it kept failing past the plan's retry.max")
    error = _clipped(error)
    note = f"not carried out: {error} ({why})"
    moved = {e.workload for e in decision.effects if isinstance(e, SetTraffic)}
    workloads = dict(before.workloads)
    own = {e.workload: e.reason for e in reversed(decision.entries)}  # each workload's first entry
    whole: str | None = None  # the decision's reason, joined once for every workload without an entry
    for name in moved:
        what = own.get(name)
        if what is None:
            whole = decision.reason if whole is None else whole
            what = whole
        stuck = _clipped(f"{what}: not carried out at {iso_s(at)}: {error} ({why})")
        workloads[name] = workloads[name].evolve(stuck=stuck)
    after = decision.release  # its bookkeeping of ids and history (Step.finish), none of what it decided
    release = before.evolve(
        workloads=workloads,
        seq=after.seq,
        seen=after.seen,
        processed=after.processed,
        archive=after.archive,
        archived=after.archived,
    )
    entries = _undone(before, decision, Outcome.REJECTED, note)
    return Decision(release=release, entries=entries, remember=decision.remember)
