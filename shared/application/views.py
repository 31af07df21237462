"""What people and scripts see: the contract's JSON shapes and readable tables."""
from __future__ import annotations

from typing import Any

from shared.domain.model import HistoryEntry, Release


def status_json(release: Release, health: dict | None = None) -> dict:
    """`health`: the judge's records by workload (v2 §10); each judged workload then shows its checks' last values."""
    plan = release.plan
    doc: dict[str, Any] = {
        "release": release.name, "model": release.model, "state": release.state,
        "workloads": [
            {"name": w.name, "state": w.state, "paused": w.paused, "flight": w.flight or None,
             "traffic_percent": w.traffic_percent,
             "assets": {a: "replicated" if done else "pending" for a, done in w.assets.items()},
             # extensions of the contract's shape
             "tests_passed": w.tests_passed, "approved": w.approved, "attempt": w.attempt,
             "provider": plan.workload(w.name).routing.provider}
            for w in release.workloads.values()],
        "approval": plan.approval, "on_alert": plan.on_alert,
        "flights": [{"percent": f.percent, "bake_seconds": f.bake} for f in plan.flights or []] or None,
        "access_revoked": release.access_revoked,
    }
    if health is not None:
        for w in doc["workloads"]:
            w["health"] = health_json(release, w["name"], health.get(w["name"]))
    return doc


def health_json(release: Release, name: str, record: Any) -> dict | None:
    """A judged workload's health: its interval and its current flight's last evaluation (null if none yet)."""
    config = release.plan.health_of(name)
    if config is None:
        return None
    w = release.workloads[name]
    current = (w.state == "flighting" and w.flight_started_at is not None and record is not None
               and record.instance() == (w.attempt, w.flight, int(w.flight_started_at.timestamp() * 1000)))
    last = record.to_json() if current and record.evaluation else None
    return {"interval_seconds": config.interval, "failure_limit": config.failure_limit,
            "inconclusive_limit": config.inconclusive_limit, "last": last}


def history_json(entries: list[HistoryEntry]) -> list[dict]:
    return [e.to_json() for e in entries]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def status_text(release: Release, health: dict | None = None) -> str:
    doc = status_json(release, health)
    head = f"release {doc['release']}  model {doc['model']}  state {doc['state']}  approval {doc['approval']}"
    rows = []
    for w in doc["workloads"]:
        done = sum(1 for v in w["assets"].values() if v == "replicated")
        rows.append([w["name"], w["state"] + (" (paused)" if w["paused"] else ""),
                     str(w["flight"] or "-"), f"{w['traffic_percent']}%", f"{done}/{len(w['assets'])}",
                     "yes" if w["tests_passed"] else "no", w["provider"]])
    text = head + "\n\n" + _table(["WORKLOAD", "STATE", "FLIGHT", "TRAFFIC", "ASSETS", "TESTS", "ROUTING"], rows)
    return text + _health_text(doc)


def _health_text(doc: dict) -> str:
    """Each judged flighting workload's last evaluation: every check's value, samples, bound and outcome."""
    from shared.domain.health import CheckResult, describe

    lines = []
    for w in doc["workloads"]:
        health = w.get("health")
        if not health or w["state"] != "flighting":
            continue
        last = health["last"]
        if last is None:
            lines.append(f"  {w['name']}: flight {w['flight']} not evaluated yet (every {health['interval_seconds']}s)")
            continue
        results = [CheckResult.model_validate(c) for c in last["checks"]]
        lines.append(f"  {w['name']}: {describe(results, None, last['evaluation'])} at {last['at']}")
    return ("\n\nhealth (the judge's last evaluation)\n" + "\n".join(lines)) if lines else ""


def history_text(entries: list[HistoryEntry]) -> str:
    rows = [[e.at.strftime("%H:%M:%S.%f")[:-3], e.workload or "-", e.type, e.outcome,
             f"{e.from_state or '-'} -> {e.to_state or '-'}",
             "-" if e.traffic_percent is None else f"{e.traffic_percent}%", e.actor or "", e.reason]
            for e in entries]
    return _table(["AT", "WORKLOAD", "TYPE", "OUTCOME", "STATE", "TRAFFIC", "ACTOR", "REASON"], rows)
