"""Drift: the live share of a workload differs from the one its state records (contract §6, `on_drift`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.domain.machine.effects import Decision, Effect, SetTraffic
from shared.domain.model import HistoryEntry, Outcome, Release
from shared.domain.routing import DRIFT_TYPE


@dataclass(frozen=True)
class DriftSeen:
    """What a drift check read for one workload whose live share is not the recorded one."""

    workload: str
    live_percent: int
    summary: str  # the resource and what differs, as read


def decide_drift(
    release: Release, drifts: list[DriftSeen], now: datetime, last: dict[str, HistoryEntry | None]
) -> Decision:
    """Per `on_drift`: re-apply the recorded share (`reapply`), or only report it (`report`, once per drift).
    One history entry per drifted workload; `last` is each workload's latest entry."""
    reapply = release.plan.on_drift == "reapply"
    entries: list[HistoryEntry] = []
    effects: list[Effect] = []
    for drift in drifts:
        w = release.workloads[drift.workload]
        if drift.live_percent == w.traffic_percent:
            continue
        reason = drift.summary + (
            f"; re-applying {w.traffic_percent}% (on_drift: reapply)"
            if reapply
            else "; reported only (on_drift: report)"
        )
        if reapply:  # also when this drift was recorded before and is still there
            effects.append(SetTraffic(w.name, w.traffic_percent, release.plan.routing_of(w.name)))
        previous = last.get(w.name)
        if not reapply and previous and previous.type == DRIFT_TYPE and previous.reason == reason:
            continue  # still the same drift: already in the history
        entries.append(
            HistoryEntry(
                at=now,
                event_id=f"drift-check:{release.name}:{w.name}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}",
                type=DRIFT_TYPE,
                outcome=Outcome.APPLIED if reapply else Outcome.IGNORED,
                reason=reason,
                workload=w.name,
                from_state=w.state,
                to_state=w.state,
                traffic_percent=w.traffic_percent,
                flight=w.flight or None,
                source="promote/drift",
            )
        )
    return Decision(release=release.evolve(seq=release.seq + len(entries)), entries=entries, effects=effects)
