"""What people and scripts see: the contract's JSON shapes and readable tables."""
from __future__ import annotations

from datetime import datetime, timezone

from shared.domain.finishing import data_sync_hold, finish_holds, hypercare_until
from shared.domain.model import HistoryEntry, Release, Workload


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def finish_json(release: Release, w: Workload, now: datetime) -> dict:
    """v2 §8 per workload: the latest lag and the data-sync gate, hypercare, finalize and decommission."""
    sync = release.plan.workload(w.name).data_sync  # type: ignore[union-attr]
    hold = data_sync_hold(release, w, now)
    return {
        "lag_seconds": w.lag_seconds, "lag_at": _iso(w.lag_at), "lag_reports": w.lag_reports,
        "data_sync": None if sync is None else {"max_lag_seconds": sync.max_lag, "max_age_seconds": sync.max_age,
                                                "open": hold is None, "reason": hold.reason if hold else None},
        "promoted_at": _iso(w.promoted_at), "hypercare_until": _iso(hypercare_until(release, w)),
        "finalized_by": w.finalized_by, "finalized_at": _iso(w.finalized_at),
        "decommission": {"requested_by": w.finalize_requested_by, "requested_at": _iso(w.finalize_requested_at),
                         "error": w.decommission_error, "failures": w.decommission_failures},
        "finish_waiting_for": [h.to_json() for h in finish_holds(release, w, now)],
    }


def status_json(release: Release, now: datetime | None = None) -> dict:
    plan = release.plan
    now = now or datetime.now(timezone.utc)
    return {
        "release": release.name, "model": release.model, "state": release.state,
        "workloads": [
            {"name": w.name, "state": w.state, "paused": w.paused, "flight": w.flight or None,
             "traffic_percent": w.traffic_percent,
             "assets": {a: "replicated" if done else "pending" for a, done in w.assets.items()},
             # extensions of the contract's shape
             "tests_passed": w.tests_passed, "approved": w.approved, "attempt": w.attempt,
             "provider": plan.workload(w.name).routing.provider, **finish_json(release, w, now)}
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


def status_text(release: Release, now: datetime | None = None) -> str:
    doc = status_json(release, now)
    head = f"release {doc['release']}  model {doc['model']}  state {doc['state']}  approval {doc['approval']}"
    rows = []
    for w in doc["workloads"]:
        done = sum(1 for v in w["assets"].values() if v == "replicated")
        rows.append([w["name"], w["state"] + (" (paused)" if w["paused"] else ""),
                     str(w["flight"] or "-"), f"{w['traffic_percent']}%", f"{done}/{len(w['assets'])}",
                     "yes" if w["tests_passed"] else "no", w["provider"], _finish_text(w)])
    return head + "\n\n" + _table(["WORKLOAD", "STATE", "FLIGHT", "TRAFFIC", "ASSETS", "TESTS", "ROUTING", "FINISH"],
                                   rows)


def _finish_text(w: dict) -> str:
    """The §8 column: what holds the workload now (data-sync, hypercare, finalize), or who finalized it."""
    if w["finalized_by"]:
        return f"finalized by {w['finalized_by']} at {w['finalized_at']}"
    parts = [hold_text(h) for h in w["finish_waiting_for"]]
    if not parts and w["lag_seconds"] is not None:
        parts.append(f"lag {w['lag_seconds']:g}s")
    return "; ".join(parts) or "-"


def hold_text(hold: dict) -> str:
    if hold["gate"] == "data-sync":
        lag = "none reported" if hold["lag_seconds"] is None else f"{hold['lag_seconds']:g}s at {hold['reported_at']}"
        return f"data-sync: lag {lag} (max {hold['max_lag_seconds']}s, max age {hold['max_age_seconds']}s)"
    if hold["gate"] == "hypercare":
        return f"hypercare until {hold['until']}"
    if hold.get("error"):
        return f"finalize: decommission failed {hold['failures']}x ({hold['error']}), retrying"
    return "finalize: automatic" if hold["approval"] == "auto" else "finalize: waiting for an approver"


def history_text(entries: list[HistoryEntry]) -> str:
    rows = [[e.at.strftime("%H:%M:%S.%f")[:-3], e.workload or "-", e.type, e.outcome,
             f"{e.from_state or '-'} -> {e.to_state or '-'}",
             "-" if e.traffic_percent is None else f"{e.traffic_percent}%", e.actor or "", e.reason]
            for e in entries]
    return _table(["AT", "WORKLOAD", "TYPE", "OUTCOME", "STATE", "TRAFFIC", "ACTOR", "REASON"], rows)
