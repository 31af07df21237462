"""What people and scripts see: the contract's JSON shapes and readable tables."""
from __future__ import annotations

from shared.domain.model import HistoryEntry, Release


def status_json(release: Release) -> dict:
    plan = release.plan
    return {
        "release": release.name, "model": release.model, "state": release.state,
        "workloads": [
            {"name": w.name, "state": w.state, "paused": w.paused, "flight": w.flight or None,
             "traffic_percent": w.traffic_percent,
             "assets": {a: "replicated" if done else "pending" for a, done in w.assets.items()},
             # extensions of the contract's shape
             "tests_passed": w.tests_passed, "approved": w.approved, "attempt": w.attempt,
             "provider": plan.routing_of(w.name).provider}
            for w in release.workloads.values()],
        "approval": plan.approval, "on_alert": plan.on_alert,
        "flights": [{"percent": f.percent, "bake_seconds": f.bake} for f in plan.flights or []] or None,
        "access_revoked": release.access_revoked,
    }


def history_json(entries: list[HistoryEntry]) -> list[dict]:
    return [e.to_json() for e in entries]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def status_text(release: Release) -> str:
    doc = status_json(release)
    head = f"release {doc['release']}  model {doc['model']}  state {doc['state']}  approval {doc['approval']}"
    rows = []
    for w in doc["workloads"]:
        done = sum(1 for v in w["assets"].values() if v == "replicated")
        rows.append([w["name"], w["state"] + (" (paused)" if w["paused"] else ""),
                     str(w["flight"] or "-"), f"{w['traffic_percent']}%", f"{done}/{len(w['assets'])}",
                     "yes" if w["tests_passed"] else "no", w["provider"]])
    return head + "\n\n" + _table(["WORKLOAD", "STATE", "FLIGHT", "TRAFFIC", "ASSETS", "TESTS", "ROUTING"], rows)


def history_text(entries: list[HistoryEntry]) -> str:
    rows = [[e.at.strftime("%H:%M:%S.%f")[:-3], e.workload or "-", e.type, e.outcome,
             f"{e.from_state or '-'} -> {e.to_state or '-'}",
             "-" if e.traffic_percent is None else f"{e.traffic_percent}%", e.actor or "", e.reason]
            for e in entries]
    return _table(["AT", "WORKLOAD", "TYPE", "OUTCOME", "STATE", "TRAFFIC", "ACTOR", "REASON"], rows)
