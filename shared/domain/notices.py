"""What a release tells people (contract §11): notices derived, purely, from one decision's before and after.

The service writes them as one outbox row in the same transaction as the state change; a separate step
delivers them. Each notice has a stable id (release, triggering message, kind, workload), so every
re-delivery of it carries the same id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain import messages as m
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Outcome, Release, ReleaseState, WorkloadState
from shared.domain.progress import took_in

MAX_NOTICE_REASON = 1_000  # characters of the history reason a notice carries


@dataclass(frozen=True)
class Notice:
    id: str
    kind: str  # one of shared.domain.plan.NOTICE_KINDS
    release: str
    workload: str | None  # None: about the whole release
    at: datetime
    event_id: str  # the message that caused it
    state: str | None  # the workload's state after it (the release's for release-level notices)
    traffic_percent: int | None
    flight: int | None
    reason: str
    actor: str | None = None
    actor_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "release": self.release,
            "workload": self.workload,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "event_id": self.event_id,
            "state": self.state,
            "traffic_percent": self.traffic_percent,
            "flight": self.flight,
            "reason": self.reason,
            "actor": self.actor,
            "actor_reason": self.actor_reason,
        }


def notice_id(release: str, event_id: str, kind: str, workload: str | None) -> str:
    text = "\n".join((release, event_id, kind, workload or ""))
    return "ntf-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def wanted_kinds(release: Release) -> set[str]:
    return {kind for target in release.plan.notify or [] for kind in target.on}


def _entry_for(entries: list[HistoryEntry], workload: str | None) -> HistoryEntry | None:
    return next((e for e in reversed(entries) if e.workload == workload), None)


def _workload_kinds(before: WorkloadState, after: WorkloadState, flight_before: int, flight_after: int) -> list[str]:
    S = WorkloadState
    kinds = []
    if after == S.FLIGHTING and (before != S.FLIGHTING or flight_after != flight_before):
        kinds.append("flight-started")
    for arrived in (S.ROLLED_BACK, S.PROMOTED, S.FINALIZED):  # the notice kinds are these states' names
        if after == arrived and before != arrived:
            kinds.append(arrived.value)
    return kinds


def notices_for(before: Release, decision: Decision) -> list[Notice]:
    """The notices one decision gives rise to, limited to the kinds the plan's targets listen for."""
    wanted = wanted_kinds(before)
    if not wanted or not decision.entries:
        return []
    after, entries = decision.release, decision.entries
    at, event_id = entries[0].at, entries[0].event_id
    found: list[tuple[str, str | None, HistoryEntry | None]] = []
    waits = ReleaseState.AWAITING_APPROVAL
    if not after.partial and after.state == waits and before.state != waits:
        found.append(("awaiting-approval", None, entries[-1]))
    for name, changed in after.workloads.items():
        was = before.workloads[name]
        for kind in _workload_kinds(was.state, changed.state, was.flight, changed.flight):
            found.append((kind, name, _entry_for(entries, name)))
    for recorded in entries:
        if recorded.type == m.DEADLINE_TYPE and recorded.outcome == Outcome.APPLIED:  # a deadline actually missed
            found.append(("deadline", recorded.workload, recorded))
        elif (
            recorded.type == "override"
            and recorded.outcome == Outcome.REJECTED
            and decision.outcome == Outcome.REJECTED
        ):
            # a release-wide override that applied to some workloads was not refused: no rejection notice
            found.append(("override-rejected", recorded.workload, recorded))
    notices: list[Notice] = []
    for kind, workload, entry in _one_per_kind_for_many(found):
        if kind not in wanted:
            continue
        w = after.workloads.get(workload) if workload else None
        # a release-wide move (merged above); not awaiting-approval, the release's own, whose entry is a workload's
        merged = any(k == kind and n is not None for k, n, _ in found)
        many = merged and entry is not None and workload is None and entry.workload is not None
        notices.append(
            Notice(
                id=notice_id(before.name, event_id, kind, workload),
                kind=kind,
                release=before.name,
                workload=workload,
                at=at,
                event_id=event_id,
                state=w.state if w else (after.state if not after.partial else None),
                traffic_percent=w.traffic_percent if w else None,
                flight=(w.flight or None) if w else None,
                reason=(_many_reason(found, kind, entries) if many else (entry.reason if entry else ""))[
                    :MAX_NOTICE_REASON
                ],
                actor=entry.actor if entry else None,
                actor_reason=entry.actor_reason if entry else None,
            )
        )
    return notices


def _one_per_kind_for_many(
    found: list[tuple[str, str | None, HistoryEntry | None]],
) -> list[tuple[str, str | None, HistoryEntry | None]]:
    """A decision that moves many workloads alike (a release-wide move) is one notice per kind for the
    release, naming how many and which, not one per workload."""
    per_kind: dict[str, list[tuple[str, str | None, HistoryEntry | None]]] = {}
    for item in found:
        per_kind.setdefault(item[0], []).append(item)
    out = []
    for kind, items in per_kind.items():
        named = [i for i in items if i[1] is not None]
        out += items if len(named) <= 1 else [i for i in items if i[1] is None] + [(kind, None, named[0][2])]
    return out


def _many_reason(
    found: list[tuple[str, str | None, HistoryEntry | None]], kind: str, entries: list[HistoryEntry]
) -> str:
    """How many workloads and which; and, when their routing moved as a batch, the time it took (v3 §15: history's
    last entry of the decision names it, shared/domain/progress.took_words)."""
    names = [workload for k, workload, _ in found if k == kind and workload is not None]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    took = took_in(entries[-1].reason) if entries else None
    return f"{kind}: {len(names)} workloads ({shown})" + (f"; {took}" if took else "")
