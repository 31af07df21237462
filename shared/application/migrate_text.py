"""Azure Migrate in `promote status`'s words (contract v3 §16): each workload's rehearsal, from the status
document's `rehearsal` (shared/domain/migration.rehearsal_json)."""

from __future__ import annotations

_REHEARSED = {"none": "no rehearsal yet", "running": "running, no verdict yet", "cleaned": "cleaned up, no verdict"}


def rehearsal_text(doc: dict) -> str:
    """v3 §16: each Azure Migrate workload's rehearsal: its state or verdict, when, and whether it is of this plan."""
    lines = []
    for w in doc["workloads"]:
        r = w.get("rehearsal")
        if not r:
            continue
        said = _REHEARSED.get(r["state"], r["state"]) + (
            f" ({r['note']})" if r["state"] == "failed" and r["note"] else ""
        )
        if r["at"]:
            plan = "this plan" if r["plan_matches"] else "ANOTHER plan: rehearse again"
            said += f"; started {r['at']} by {r['by'] or '-'}; plan hash {r['plan_hash']} ({plan})"
        lines.append(f"  {w['name']}: {said}" + (f"; test job {r['job']}" if r["job"] else ""))
    return ("\n\nrehearsals (Azure Migrate test migration)\n" + "\n".join(lines)) if lines else ""
