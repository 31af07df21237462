"""What a workload waits for, as the board shows it: contract §9's `waiting_for`, computed by the domain.

The gates come from the same pure functions that `advance` uses (shared/domain/gates.py; the §8 gates,
shared/domain/finishing.py, are in its registry), so the board, `promote status` and the machine can never
disagree. The board's templates use a list of {"gate", "detail", "until"}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.gates import Gate, describe
from shared.domain.gates import waiting_for as domain_waiting_for
from shared.domain.model import GateName, Release, Workload

# §8's gates, worded as status words its FINISH column (views.hold_text)
_FINISHING = (GateName.DATA_SYNC, GateName.HYPERCARE, GateName.FINALIZE)


def _until(details: dict[str, Any]) -> datetime | None:
    for key in ("until", "opens"):
        value = details.get(key)
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def waiting_for(release: Release, w: Workload, now: datetime, found: list[Gate] | None = None) -> list[dict[str, Any]]:
    """`found`: the workload's gates when known (gates_view.gates_of: a page of a large release)."""
    from shared.application.views import _gate_text, hold_text

    gates: list[dict[str, Any]] = []
    for gate in domain_waiting_for(release, w, now) if found is None else found:
        doc = gate.to_json()
        if gate.gate in _FINISHING:
            text = hold_text(doc)
        elif gate.gate == GateName.APPROVAL and "needed" in gate.details:
            text = describe(gate)  # a quorum's count ("1 of 2 approvals (ana)", v3 §19) in the domain's own words
        else:
            text = _gate_text(doc)
        gates.append({"gate": gate.gate, "detail": text, "until": _until(gate.details)})
    return gates
