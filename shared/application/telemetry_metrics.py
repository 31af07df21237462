"""promote's metrics (OpenTelemetry metrics API), recorded from each decision's history entries through
shared/application/figures.py: the same walk the report makes over the whole history, so the sums agree.

| instrument | unit | attributes | what |
|---|---|---|---|
| promote.messages | {message} | cloudevents.event_type, promote.outcome | messages handled |
| promote.workload.state.duration | s | promote.state | time a workload spent in a state (on leaving it) |
| promote.workload.gate.duration | s | promote.gate | time a gate held a workload (assets ... bake, verdict, paused) |
| promote.workload.flight.duration | s | promote.flight | time a workload spent at one flight |
| promote.changes | {change} | | users moved onto the migrated system (an attempt at a cutover) |
| promote.rollbacks | {rollback} | promote.rollback.cause | rollbacks by cause (change failure rate: / changes) |
| promote.rollback.after_trouble | s | promote.rollback.cause | from an alert or unhealthy verdict to the rollback |
| promote.approval.wait | s | | time in `ready` before an approver's approve |
| promote.workload.duration | s | deployment.status, promote.state | leaving its initial state to finalized, aborted |
| promote.release.duration | s | deployment.status, promote.release.state | first workload start to each end reached |

Every instrument but promote.messages carries deployment.name (the release) and promote.model; the two durations also
deployment.id and deployment.environment.name, as the spans do. Intervals that start before what the history
records (a workload's first state, which starts at the apply) are measured here from the domain's own record
(`state_since`): the report marks those as partial. Durations start where the history starts them (figures.py).
"""

from __future__ import annotations

from typing import Any

from shared.application.figures import from_decision
from shared.application.telemetry import ENVIRONMENT

# seconds: a message's round trip up to a week's wait for an approver
BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800]


class Instruments:
    def __init__(self, meter: Any):
        def seconds(name: str, description: str) -> Any:
            return meter.create_histogram(
                name, unit="s", description=description, explicit_bucket_boundaries_advisory=BUCKETS
            )

        self.messages = meter.create_counter("promote.messages", unit="{message}", description="messages handled")
        self.states = seconds("promote.workload.state.duration", "time a workload spent in a state")
        self.gates = seconds("promote.workload.gate.duration", "time a gate held a workload")
        self.flights = seconds("promote.workload.flight.duration", "time a workload spent at one flight")
        self.changes = meter.create_counter(
            "promote.changes", unit="{change}", description="users moved onto the migrated system"
        )
        self.rollbacks = meter.create_counter("promote.rollbacks", unit="{rollback}", description="rollbacks")
        self.after_trouble = seconds(
            "promote.rollback.after_trouble", "from an alert or unhealthy verdict to the rollback done"
        )
        self.approval_wait = seconds("promote.approval.wait", "time in ready before an approval")
        self.workload_duration = seconds(
            "promote.workload.duration", "from a workload leaving its initial state to finalized or aborted"
        )
        self.release_duration = seconds(
            "promote.release.duration",
            "from a release's first workload start to an end: finalized, aborted, rolled back",
        )

    def record(self, result: Any) -> None:
        """One message's outcome and, when it reached a release, its decision's figures."""
        before = getattr(result, "before", None)
        kind = result.entries[0].type if result.entries else None
        self.messages.add(1, _attributes({"cloudevents.event_type": kind, "promote.outcome": str(result.outcome)}))
        if before is None or not result.entries:
            return
        figures = from_decision(before, result.entries)
        common = {"deployment.name": before.name, "promote.model": before.model}
        for i in figures.states:
            self.states.record(i.seconds, {**common, "promote.state": i.name})
        for i in figures.gates:
            self.gates.record(i.seconds, {**common, "promote.gate": i.name})
        for i in figures.flights:
            self.flights.record(i.seconds, {**common, "promote.flight": i.flight or 0})
        for _ in figures.moves:
            self.changes.add(1, common)
        for r in figures.rollbacks:
            self.rollbacks.add(1, {**common, "promote.rollback.cause": r.cause})
            if r.after_trouble is not None:
                self.after_trouble.record(r.after_trouble, {**common, "promote.rollback.cause": r.cause})
        for a in figures.approvals:
            if a.waited is not None:
                self.approval_wait.record(a.waited, common)
        deployment = {**common, "deployment.id": before.name, "deployment.environment.name": ENVIRONMENT}
        for run in figures.workloads:
            self.workload_duration.record(
                run.seconds, {**deployment, "deployment.status": run.status, "promote.state": run.state}
            )
        for run in figures.releases:
            self.release_duration.record(
                run.seconds, {**deployment, "deployment.status": run.status, "promote.release.state": run.state}
            )


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
