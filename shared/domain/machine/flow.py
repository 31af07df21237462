"""The state graph as data.

`FLOW` holds the moves a workload makes by itself once its recorded facts allow: `advance` walks its rows,
one step at a time, while no gate holds the workload (gates.py: one registry answers "why not yet?" for
the machine, status, the board and notifications alike). `RELEASE_FLOW` is the staged release's move of
every workload at once. `BY_MESSAGE` lists the edges that messages take themselves (a rollback, a retry):
the README's state diagram is generated from these rows (`diagram()`; a test keeps the two equal), and a
property test checks that the machine takes no edge the rows do not name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shared.domain.finishing import hypercare_hold
from shared.domain.gates import waiting_for
from shared.domain.machine.rules.access import revoke_when_promoted
from shared.domain.machine.rules.finish import auto_finalize_pending, finalize_by_itself
from shared.domain.machine.step import Step
from shared.domain.model import TERMINAL, GateName, Workload, WorkloadState

S, G = WorkloadState, GateName
Guard = Callable[[Step, Workload], bool]
Move = Callable[[Step, Workload], Workload]


def always(step: Step, w: Workload) -> bool:
    return True


def single_step(step: Step, w: Workload) -> bool:
    return step.release.plan.model == "single-step"


def flight_model(step: Step, w: Workload) -> bool:
    return step.release.plan.model == "flight"


def more_flights(step: Step, w: Workload) -> bool:
    return w.flight < len(step.release.plan.flights or [])


def last_flight(step: Step, w: Workload) -> bool:
    return not more_flights(step, w)


def staged(step: Step, w: Workload) -> bool:
    return step.release.plan.model == "staged"


def first_flight(step: Step, w: Workload) -> Workload:
    return step.start_flight(w, 1)


@dataclass(frozen=True)
class Auto:
    """`source` -> `target` by itself when `when` holds and neither the gates of the source state nor the
    row's own `hold` gates hold the workload; `do` makes the move (routing, timers) on the step. A move whose
    effect cannot be undone (finalize: the source is turned off) only records its request here; the message
    it sends itself makes the move once the request is committed (a BY_MESSAGE edge to the same target)."""

    source: WorkloadState
    target: WorkloadState
    label: str
    when: Guard = always
    hold: tuple[GateName, ...] = ()
    do: Move | None = None  # None: only the state changes

    def move(self, step: Step, w: Workload) -> Workload:
        return self.do(step, w) if self.do else w.evolve(state=self.target)


FLOW: tuple[Auto, ...] = (
    Auto(S.REPLICATING, S.TESTING, "every asset replicated"),
    Auto(S.TESTING, S.READY, "tests passed"),
    Auto(S.READY, S.PROMOTED, "approved, in sync (single-step)", single_step, (G.DATA_SYNC,), Step.promote),
    Auto(S.READY, S.FLIGHTING, "approved, in sync: flight 1", flight_model, (G.DATA_SYNC,), first_flight),
    Auto(S.FLIGHTING, S.FLIGHTING, "baked + healthy, in sync: next flight", more_flights, (G.DATA_SYNC,), Step.grow),
    Auto(S.FLIGHTING, S.PROMOTED, "last flight (100%) baked and healthy", last_flight, (), Step.grow),
    Auto(S.PROMOTED, S.FINALIZED, "hypercare over, decommission.approval auto: finalize requested",
         auto_finalize_pending, (G.PAUSED, G.HYPERCARE), finalize_by_itself),
)  # fmt: skip
RELEASE_FLOW = Auto(S.READY, S.PROMOTED, "every workload ready, approved, in sync (staged)", staged, (G.DATA_SYNC,))


@dataclass(frozen=True)
class ByMessage:
    """An edge a message takes itself (the rule that handles it moves the workload)."""

    sources: tuple[WorkloadState, ...]
    target: WorkloadState
    label: str


BY_MESSAGE: tuple[ByMessage, ...] = (
    ByMessage((S.READY,), S.TESTING, "tests-failed"),
    ByMessage((S.FLIGHTING,), S.FLIGHTING, "advance"),
    ByMessage((S.FLIGHTING,), S.PROMOTED, "advance (last flight)"),
    ByMessage((S.FLIGHTING,), S.ROLLED_BACK, "flight-unhealthy, alert, verdict deadline (rollback) / rollback"),
    ByMessage((S.PROMOTED,), S.ROLLED_BACK, "alert during hypercare (on_alert rollback) / rollback"),
    ByMessage((S.PROMOTED,), S.FINALIZED, "decommission, once finalize (an approver, or auto) is committed"),
    ByMessage((S.ROLLED_BACK,), S.TESTING, "retry"),
    ByMessage((S.REPLICATING, S.TESTING, S.READY, S.FLIGHTING, S.ROLLED_BACK), S.ABORTED, "abort"),
)


def _holds(step: Step, gate: GateName, w: Workload) -> bool:
    if gate == G.DATA_SYNC:  # the data-sync gate (§8) holds every move onto the migrated system
        return step.sync_held(w)
    if gate == G.PAUSED:
        return w.paused
    assert gate == G.HYPERCARE
    return hypercare_hold(step.release, w, step.now) is not None


def _row(step: Step, w: Workload) -> Auto | None:
    return next((row for row in FLOW if row.source == w.state and row.when(step, w)), None)


def advance(step: Step, w: Workload) -> Workload:
    """Move `w` as far as its recorded facts allow: one row at a time, while no gate holds it."""
    was = step.before.workloads.get(w.name)
    while (row := _row(step, w)) is not None:
        if row.target == S.FINALIZED and (was is None or was.state != S.PROMOTED):
            break  # finalizing by itself is for a promotion already committed (and stamped), never this one
        if w.state not in TERMINAL and step.waiting_for(w):
            break
        if any(_holds(step, gate, w) for gate in row.hold):
            break
        moved = row.move(step, w)
        if moved == w:  # a row that changes nothing would match again: nothing more to do
            break
        w = moved
    return w


def advance_release(step: Step) -> None:
    """Staged: promote every workload at once when all are ready and approved. Then revoke access. Neither is
    decided on part of a release (one shard): the service decides again on the whole when it may matter."""
    if step.release.partial:
        return
    # Promoted workloads (one rolled back and retried) and aborted ones (out of the release) do not
    # hold the others back; every other workload must be ready, approved and not paused.
    waiting = [w for w in step.workloads.values() if w.state not in TERMINAL]
    # Every workload is asked about once, on one view of the release, and without the release gate: that
    # gate asks about every other workload (quadratic in a release of thousands), and says no more than
    # this `all` does.
    view = step.view()
    if (
        waiting
        and RELEASE_FLOW.when(step, waiting[0])
        and all(
            w.state == RELEASE_FLOW.source
            and not waiting_for(view, w, step.now, skip=(GateName.RELEASE,), holding=True)
            for w in waiting
        )
        and not _release_sync_held(step, waiting)
    ):
        for w in waiting:
            step.workloads[w.name] = step.promote(w)
            step.note_on_entry(w.name, "promoted with the release: every workload ready and approved", w)
    revoke_when_promoted(step)


def _release_sync_held(step: Step, waiting: list[Workload]) -> bool:
    """Staged: the release moves only when every workload's data-sync gate is open."""
    holds = [(w.name, r) for w in waiting if (r := step.sync_hold(w))]
    if holds:
        step.sync_holds[None] = "; ".join(f"{name} {reason}" for name, reason in holds)
        note = f"; release held by {step.sync_holds[None]}"  # whatever the entry's own text says
        step.entries = [replace(e, reason=e.reason + note) for e in step.entries]
    return bool(holds)


def _node(state: WorkloadState) -> str:
    return state.value.replace("-", "_")


def diagram() -> str:
    """The README's mermaid state diagram, from the rows above."""
    lines = ["stateDiagram-v2", f"    [*] --> {_node(S.REPLICATING)}"]
    for row in (*FLOW, RELEASE_FLOW):  # by itself, once the gates of its state are open and its own
        held = f" [{', '.join(g.value for g in row.hold)}]" if row.hold else ""
        lines.append(f"    {_node(row.source)} --> {_node(row.target)}: (auto) {row.label}{held}")
    for edge in BY_MESSAGE:
        lines += [f"    {_node(source)} --> {_node(edge.target)}: {edge.label}" for source in edge.sources]
    lines += [f"    {_node(state)} --> [*]" for state in TERMINAL]
    return "\n".join(lines)
