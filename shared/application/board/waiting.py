"""What a workload waits for, as the board shows it.

Contract §9's `waiting_for` (issue 13, shared/domain/gates.py) is the one place that will answer this; until it
exists this reads the recorded state. Point `waiting_for` at the domain's function when it lands: the board's
templates only use the returned list of {"gate", "detail", "until"}.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.domain.model import Release, Workload


def waiting_for(release: Release, w: Workload, now: datetime) -> list[dict[str, Any]]:
    plan = release.plan
    gates: list[dict[str, Any]] = []
    if w.paused:
        gates.append({"gate": "paused", "detail": "paused: an operator's resume", "until": None})
    if w.state == "replicating":
        pending = [a for a, done in w.assets.items() if not done]
        gates.append({"gate": "assets", "detail": f"{len(pending)} asset(s) to replicate: {', '.join(pending[:5])}"
                      + (" ..." if len(pending) > 5 else ""), "until": None})
    elif w.state == "testing":
        gates.append({"gate": "tests", "detail": "a tests-passed for this workload", "until": None})
    elif w.state == "ready":
        if plan.approval == "manual" and not w.approved:
            who = ", ".join(plan.approvers) or "an approver"
            gates.append({"gate": "approval", "detail": f"an approve from {who}", "until": None})
        elif plan.model == "staged":
            others = [o.name for o in release.workloads.values() if o.name != w.name and o.state != "ready"
                      and o.state not in ("promoted", "aborted")]
            gates.append({"gate": "release", "detail": "the rest of the release to be ready"
                          + (f" ({', '.join(others[:5])})" if others else ""), "until": None})
    elif w.state == "flighting" and plan.flights and w.flight_started_at is not None:
        due = w.flight_started_at + timedelta(seconds=plan.flights[w.flight - 1].bake)
        if now < due:
            gates.append({"gate": "bake", "detail": f"flight {w.flight} bake time", "until": due})
        if w.healthy_flight != w.flight:
            gates.append({"gate": "verdict", "detail": f"a flight-healthy for flight {w.flight}", "until": None})
    elif w.state == "rolled-back":
        gates.append({"gate": "retry", "detail": "an operator's retry (or abort)", "until": None})
    return gates
