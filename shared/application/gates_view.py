"""What holds each workload of a release, for views of thousands of workloads: the domain's gates
(shared/domain/gates.py), asked once a workload.

Two costs of the domain's answers grow with the release when every workload of a large release is shown:
`Release.state` counts every workload each time it is asked (attention and the gates ask it once a workload),
and a staged release's `release` gate of one workload asks the gates of every other one. Here the state is
counted once (`Counted`), and the `release` gate is computed once for the whole release, from the same
domain predicates: tests/unit/test_views_scale.py keeps it equal to the domain's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from shared.domain.gates import GATES, RELEASE_WIDE, Gate, waiting_for
from shared.domain.model import TERMINAL, GateName, Release, ReleaseState, Workload, WorkloadState
from shared.domain.times import iso
from shared.domain.windows import closed

S = WorkloadState

SHOWN = 20  # names the `release` gate lists (as the domain's)


@dataclass(frozen=True)
class Counted(Release):
    """A release whose state is counted once (or known: a page of a large release holds some of its workloads,
    and its state comes from the shards' summaries)."""

    known: ReleaseState | None = None

    @cached_property
    def _state(self) -> ReleaseState:
        return self.known if self.known is not None else Release.state.fget(self)  # type: ignore[attr-defined]

    @property
    def state(self) -> ReleaseState:
        return self._state

    @staticmethod
    def of(release: Release, known: ReleaseState | None = None) -> Counted:
        if isinstance(release, Counted) and known is None:
            return release
        fields = {k: getattr(release, k) for k in release.__dataclass_fields__ if k != "known"}
        return Counted(**fields, known=known)


def holding(release: Release, now: datetime) -> list[str]:
    """A staged release's open workloads that hold the rest: not ready, or held by a gate of their own."""
    if release.plan.model != "staged":
        return []
    return [
        o.name
        for o in release.workloads.values()
        if o.state not in TERMINAL
        and (o.state != WorkloadState.READY or waiting_for(release, o, now, skip=RELEASE_WIDE, holding=True))
    ]


def release_gate(w: Workload, held_by: list[str], count: int | None = None) -> Gate | None:
    """The `release` gate of a ready workload of a staged release, given what holds the release (`count`: how
    many hold it, when `held_by` names only some)."""
    if w.state != WorkloadState.READY:
        return None
    total = (len(held_by) if count is None else count) - (w.name in held_by)
    if total <= 0:
        return None
    names = [n for n in held_by[: SHOWN + 1] if n != w.name][:SHOWN]
    return Gate(GateName.RELEASE, {"workloads": names, "workload_count": total})


def gates_of(release: Release, now: datetime, held_by: list[str] | None = None) -> dict[str, list[Gate]]:
    """Each workload's gates, as shared.domain.gates.waiting_for gives them, in one pass. `held_by`: what holds
    the release, when the release holds only some workloads (a page)."""
    if release.plan.model != "staged":
        return {w.name: waiting_for(release, w, now) for w in release.workloads.values()}
    held_by = holding(release, now) if held_by is None else held_by
    out = {}
    order = list(GATES)
    for w in release.workloads.values():
        gates = waiting_for(release, w, now, skip=(GateName.RELEASE,))
        gate = release_gate(w, held_by)
        if gate is not None:
            gates = sorted([*gates, gate], key=lambda g: order.index(g.gate))
        out[w.name] = gates
    return out


def holds_json(release: Release, now: datetime, unapproved: int | None = None) -> list[dict[str, Any]]:
    """What holds the release as a whole, from every workload's state, pause and share (summaries suffice):
    the releases it waits for, a closed change window, a staged release's approval and its workloads not
    ready, and paused workloads. Each workload's own gates are in its `waiting_for`. `unapproved`: the ready
    workloads not approved, when the workloads do not tell (summaries: their shards' tallies do)."""
    if release.state in (ReleaseState.PROMOTED, ReleaseState.FINALIZED, ReleaseState.ABORTED):
        return []
    plan = release.plan
    holds: list[dict[str, Any]] = []
    open_ = [w for w in release.workloads.values() if w.state not in TERMINAL]
    waiting = [name for name in plan.after if name not in release.after_met]
    if waiting and open_:
        holds.append({"gate": GateName.AFTER, "releases": waiting})
    why = closed(plan.windows, now) if open_ else None
    if why is not None:
        holds.append({"gate": GateName.WINDOW, "reason": why.reason, "opens": iso(why.opens)})
    if plan.model == "staged":
        if unapproved is None:
            unapproved = sum(1 for w in open_ if w.state == S.READY and not w.approved)
        if plan.approval_mode == "manual" and unapproved:
            holds.append({"gate": GateName.APPROVAL, "approvers": list(plan.approvers), "workload_count": unapproved})
        behind = [w.name for w in open_ if w.state != S.READY]
        if behind:
            holds.append({"gate": GateName.RELEASE, "workloads": behind[:SHOWN], "workload_count": len(behind)})
    paused = [w.name for w in open_ if w.paused]
    if paused:
        holds.append({"gate": GateName.PAUSED, "workloads": paused[:SHOWN], "workload_count": len(paused)})
    return holds
