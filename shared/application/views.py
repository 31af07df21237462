"""What people and scripts see: the contract's JSON shapes and readable tables."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from shared.application.gates_view import Counted, gates_of, holds_json
from shared.application.migrate_text import rehearsal_text
from shared.application.ports import JudgeStore, ReleaseStore
from shared.application.routing_progress import ProgressStore, routing_progress_json
from shared.domain.attention import attention
from shared.domain.finishing import data_sync_hold, finish_holds, hypercare_until
from shared.domain.gates import Gate, describe, waiting_for, waiting_period
from shared.domain.migration import migration_json, rehearsal_json
from shared.domain.model import GateName, HistoryEntry, Release, Workload, WorkloadState
from shared.domain.progress import progress_text
from shared.domain.times import iso, iso_s, ms, stamp


def release_status(
    store: ReleaseStore, judge: JudgeStore, name: str, now: datetime, progress: ProgressStore | None = None
) -> dict:
    """The status document of a release (contract section 9), one read model for the HTTP status endpoint and
    `promote status`: the release as stored and, for a flight release, the judge's records (v2 section 10), so
    each judged workload shows its checks' last values; with `progress`, its routing progress (v3 §15).
    UnknownRelease if it was never applied."""
    release = store.get_release(name).release
    health = judge.load(name) if release.plan.model == "flight" else {}
    doc = status_json(release, now, health)
    if progress is not None:
        doc["routing_progress"] = routing_progress_json(progress, name, now)
    return doc


def time_json(release: Release, w: Workload, now: datetime, gates: list[Gate] | None = None) -> dict:
    """Contract section 9, per workload: the gates holding it now (`gates`, when known), its current deadline,
    and whether it passed."""
    period = waiting_period(release, w)
    deadline = period.deadline if period else None
    return {
        "waiting_for": [g.to_json() for g in (waiting_for(release, w, now) if gates is None else gates)],
        "deadline": iso(deadline),
        "overdue": deadline is not None and now >= deadline,
    }


def finish_json(release: Release, w: Workload, now: datetime) -> dict:
    """v2 §8 per workload: the latest lag and the data-sync gate, hypercare, finalize and decommission."""
    sync = release.plan.workload(w.name).data_sync  # type: ignore[union-attr]
    hold = data_sync_hold(release, w, now)
    return {
        "lag_seconds": w.lag_seconds,
        "lag_at": iso_s(w.lag_at),
        "lag_reports": w.lag_reports,
        "data_sync": None
        if sync is None
        else {
            "max_lag_seconds": sync.max_lag,
            "max_age_seconds": sync.max_age,
            "open": hold is None,
            "reason": hold.reason if hold else None,
        },
        "promoted_at": iso_s(w.promoted_at),
        "hypercare_until": iso_s(hypercare_until(release, w)),
        "finalized_by": w.finalized_by,
        "finalized_at": iso_s(w.finalized_at),
        "decommission": {
            "requested_by": w.finalize_requested_by,
            "requested_at": iso_s(w.finalize_requested_at),
            "error": w.decommission_error,
            "failures": w.decommission_failures,
        },
        "finish_waiting_for": [h.to_json() for h in finish_holds(release, w, now)],
    }


def status_json(release: Release, now: datetime | None = None, health: dict | None = None) -> dict:
    """`health`: the judge's records by workload (v2 §10); each judged workload then shows its checks' last values.
    Every workload, and `counts` by state (contract §14)."""
    release = Counted.of(release)  # its state counted once, not once a workload
    now = now or datetime.now(UTC)
    doc = release_head(release)
    doc["counts"] = counts_of(release.workloads.values())
    doc.update(workloads_json(release, now, health, gates_of(release, now)))
    doc["attention"] = attention(release)
    doc["holds"] = holds_json(release, now)
    return doc


def release_head(release: Release) -> dict[str, Any]:
    """The release's own fields of a status document."""
    plan = release.plan
    head: dict[str, Any] = {
        "release": release.name,
        "model": release.model,
        "state": release.state,
        "approval": plan.approval_mode,
        "on_alert": plan.on_alert,
        # v3 §19: an operator's halt holding the release (null when none)
        "halted": {"by": release.halted_by, "reason": release.halted_reason, "at": release.halted_at}
        if release.halted_by
        else None,
        "flights": [{"percent": f.percent, "bake_seconds": f.bake} for f in plan.flights or []] or None,
        "access_revoked": release.access_revoked,
        "access_revocation": access_revocation(release),
    }
    if plan.after:
        head["after"] = [{"release": name, "promoted": name in release.after_met} for name in plan.after]
    return head


def counts_of(workloads: Iterable[Workload]) -> dict[str, int]:
    """Workloads by state, in the order of the states."""
    found = Counter(w.state for w in workloads)
    return {s.value: found[s] for s in WorkloadState if found[s]}


def workloads_json(release: Release, now: datetime, health: dict | None, gates: dict[str, list[Gate]]) -> dict:
    """`workloads`: each workload of `release` (all of a whole one, a page's of a partial one) in full."""
    plan = release.plan
    doc: dict[str, Any] = {
        "workloads": [
            {
                "name": w.name,
                "state": w.state,
                "paused": w.paused,
                "flight": w.flight or None,
                "traffic_percent": w.traffic_percent,
                "assets": {a: "replicated" if done else "pending" for a, done in w.assets.items()},
                # extensions of the contract's shape
                "tests_passed": w.tests_passed,
                "approved": w.approved,
                # v3 §19: the approvals counted so far and how many a move needs (0: approval is automatic)
                "approvals": list(w.approvals),
                "approvals_needed": plan.quorum if plan.approval_mode == "manual" else 0,
                "attempt": w.attempt,
                "provider": plan.routing_of(w.name).provider,
                # who paused, when and why (null when not paused); an alert recorded while paused
                "paused_by": w.paused_by,
                "paused_at": iso_s(w.paused_at),
                "paused_reason": w.paused_reason,
                "alert_while_paused": w.alert_while_paused,
                **finish_json(release, w, now),
                # v3 §16: Azure Migrate's rehearsal and migration (null without a source)
                "rehearsal": rehearsal_json(release, w),
                "migration": migration_json(release, w),
            }
            for w in release.workloads.values()
        ],
    }
    for item, w in zip(doc["workloads"], release.workloads.values(), strict=True):
        item.update(time_json(release, w, now, gates[w.name]))  # §8's gates are in the registry's list already
    if health is not None:
        for w in doc["workloads"]:
            w["health"] = health_json(release, w["name"], health.get(w["name"]))
    return doc


def access_revocation(release: Release) -> dict | None:
    """Where revoking the migration team's access stands: a failed revocation is retried and shown until done."""
    if release.plan.revoke_access is None:
        return None
    state = "revoked" if release.access_revoked else "failing" if release.revoke_error else "pending"
    return {"state": state, "failed_attempts": release.revoke_attempts, "error": release.revoke_error}


def health_json(release: Release, name: str, record: Any) -> dict | None:
    """A judged workload's health: its interval and its current flight's last evaluation (null if none yet)."""
    config = release.plan.health_of(name)
    if config is None:
        return None
    w = release.workloads[name]
    current = (
        w.state == WorkloadState.FLIGHTING
        and w.flight_started_at is not None
        and record is not None
        and record.instance() == (w.attempt, w.flight, ms(w.flight_started_at))
    )
    last = record.to_json() if current and record.evaluation else None
    return {
        "interval_seconds": config.interval,
        "failure_limit": config.failure_limit,
        "inconclusive_limit": config.inconclusive_limit,
        "last": last,
    }


def history_json(entries: list[HistoryEntry]) -> list[dict]:
    return [e.to_json() for e in entries]


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def status_text(release: Release, now: datetime | None = None, health: dict | None = None) -> str:
    return status_doc_text(status_json(release, now, health))


def status_doc_text(doc: dict) -> str:
    """A status document (status_json, release_status, status_page) as `promote status` prints it: the release,
    its counts by state, what holds it, its workloads (a page of them: status_page), attention and gates."""
    head = f"release {doc['release']}  model {doc['model']}  state {doc['state']}  approval {doc['approval']}"
    counts = doc.get("counts") or counts_of([])
    total = doc.get("total", sum(counts.values()))
    head += "\n" + ", ".join(f"{n:,} {s}" for s, n in counts.items()) + f" ({total:,} workload{'s' * (total != 1)})"
    if doc.get("routing_progress"):
        head += "\n" + progress_text(doc["routing_progress"])
    rows = []
    for w in doc["workloads"]:
        done = sum(1 for v in w["assets"].values() if v == "replicated")
        rows.append(
            [
                w["name"],
                w["state"] + (" (paused)" if w["paused"] else ""),
                str(w["flight"] or "-"),
                f"{w['traffic_percent']}%",
                f"{done}/{len(w['assets'])}",
                "yes" if w["tests_passed"] else "no",
                w["provider"],
                _finish_text(w),
            ]
        )
    revocation = doc["access_revocation"]
    if revocation and revocation["state"] == "failing":
        head += (
            f"\naccess revocation FAILING after {revocation['failed_attempts']} attempt(s), retried: "
            f"{revocation['error']}"
        )
    if doc.get("holds"):
        head += "\n\nthe release waits for:\n" + "\n".join(f"  {_hold_line(h)}" for h in doc["holds"])
    text = (
        head + "\n\n" + _table(["WORKLOAD", "STATE", "FLIGHT", "TRAFFIC", "ASSETS", "TESTS", "ROUTING", "FINISH"], rows)
    )
    if doc.get("page"):
        text += "\n" + _page_text(doc)
    if doc["attention"]:
        shown = doc["attention"][:ATTENTION_SHOWN]
        more = len(doc["attention"]) - len(shown)
        text += "\n\nattention:\n" + "\n".join(
            f"  {a['workload']} ({a['state']}, {a['traffic_percent']}%): {a['why']}" for a in shown
        )
        text += f"\n  ... and {more:,} more (promote status --json lists every one)" if more else ""
    return text + waiting_text(doc) + _health_text(doc) + rehearsal_text(doc)


ATTENTION_SHOWN = 20  # attention items `promote status` prints (--json has every one)


def _names_text(names: list[str], count: int) -> str:
    more = count - len(names)
    return ", ".join(names) + (f" and {more:,} more" if more > 0 else "")


def _hold_line(hold: dict) -> str:
    """One line of what holds a release as a whole (gates_view.holds_json)."""
    gate = hold["gate"]
    if gate == GateName.AFTER:
        return f"release(s) {', '.join(hold['releases'])} to be promoted"
    if gate == GateName.WINDOW:
        return f"change window: {hold['reason']}; opens {hold['opens'] or 'never'}"
    if gate == GateName.APPROVAL:
        return f"approval by one of {', '.join(hold['approvers'])} ({hold['workload_count']:,} ready, not approved)"
    names = _names_text(hold["workloads"], hold["workload_count"])
    if gate == GateName.RELEASE:
        return f"{hold['workload_count']:,} workload(s) not ready: {names}"
    return f"{hold['workload_count']:,} paused workload(s): {names}"


def _page_text(doc: dict) -> str:
    page, name = doc["page"], doc["release"]
    where = ", ".join(f"{k} {v}" for k, v in doc.get("filter", {}).items())
    first = (page["number"] - 1) * page["size"] + 1
    shown = (
        f"workloads {first:,}-{first + len(doc['workloads']) - 1:,} of {page['matching']:,}"
        if doc["workloads"]
        else "no workloads"
    )
    line = f"{shown}{f' ({where})' if where else ''}, page {page['number']} of {page['pages']}"
    if page["number"] < page["pages"]:
        flags = "".join(f" --{k} {v}" for k, v in doc.get("filter", {}).items())
        line += f"; next: promote status --release {name}{flags} --page {page['number'] + 1}"
    return line + "; every workload: --all"


# the gates gates.describe words from their details alone (the others carry their own text, or are holds)
_DESCRIBED = {
    GateName.ASSETS,
    GateName.TESTS,
    GateName.APPROVAL,
    GateName.RELEASE,
    GateName.BAKE,
    GateName.VERDICT,
    GateName.WINDOW,
    GateName.AFTER,
    GateName.PAUSED,
    GateName.RETRY,
    GateName.REHEARSAL,  # v3 §16
    GateName.MIGRATION_JOB,
}


def _gate_text(gate: dict) -> str:
    """A gate of status JSON in words: the registry's one text (gates.describe), as the board and history say."""
    name, details = gate["gate"], {k: v for k, v in gate.items() if k != "gate"}
    if name in _DESCRIBED:
        return describe(Gate(GateName(name), details))
    rest = ", ".join(f"{k} {v}" for k, v in details.items() if v not in (None, "", []))
    return f"{name}: {rest}" if rest else name


def waiting_text(doc: dict) -> str:
    """One line per workload that waits: what holds it, and its deadline."""
    lines = []
    for w in doc["workloads"]:
        if not w.get("waiting_for") and not w.get("deadline"):
            continue
        gates = "; ".join(_gate_text(g) for g in w["waiting_for"]) or "nothing"
        deadline = f"  (deadline {w['deadline']}{', OVERDUE' if w['overdue'] else ''})" if w.get("deadline") else ""
        lines.append(f"  {w['name']} waits for: {gates}{deadline}")
    return ("\n\nwaiting for\n" + "\n".join(lines)) if lines else ""


def _health_text(doc: dict) -> str:
    """Each judged flighting workload's last evaluation: every check's value, samples, bound and outcome."""
    from shared.domain.health import CheckResult, describe

    lines = []
    for w in doc["workloads"]:
        health = w.get("health")
        if not health or w["state"] != WorkloadState.FLIGHTING:
            continue
        last = health["last"]
        if last is None:
            lines.append(f"  {w['name']}: flight {w['flight']} not evaluated yet (every {health['interval_seconds']}s)")
            continue
        results = [CheckResult.model_validate(c) for c in last["checks"]]
        lines.append(f"  {w['name']}: {describe(results, None, last['evaluation'])} at {last['at']}")
    return ("\n\nhealth (the judge's last evaluation)\n" + "\n".join(lines)) if lines else ""


def _finish_text(w: dict) -> str:
    """The §8 column: what holds the workload now (data-sync, hypercare, finalize), or who finalized it."""
    if w["finalized_by"]:
        return f"finalized by {w['finalized_by']} at {w['finalized_at']}"
    parts = [hold_text(h) for h in w["finish_waiting_for"]]
    if not parts and w["lag_seconds"] is not None:
        parts.append(f"lag {w['lag_seconds']:g}s")
    return "; ".join(parts) or "-"


def hold_text(hold: dict) -> str:
    if hold["gate"] == GateName.DATA_SYNC:
        lag = "none reported" if hold["lag_seconds"] is None else f"{hold['lag_seconds']:g}s at {hold['reported_at']}"
        return f"data-sync: lag {lag} (max {hold['max_lag_seconds']}s, max age {hold['max_age_seconds']}s)"
    if hold["gate"] == GateName.HYPERCARE:
        return f"hypercare until {hold['until']}"
    if hold.get("error"):
        return f"finalize: decommission failed {hold['failures']}x ({hold['error']}), retrying"
    return "finalize: automatic" if hold["approval"] == "auto" else "finalize: waiting for an approver"


def history_text(entries: list[HistoryEntry]) -> str:
    rows = [
        [
            stamp(e.at),
            e.workload or "-",
            e.type,
            e.outcome,
            f"{e.from_state or '-'} -> {e.to_state or '-'}",
            "-" if e.traffic_percent is None else f"{e.traffic_percent}%",
            e.actor or "",
            e.reason + (f' | actor\'s reason: "{e.actor_reason}"' if e.actor_reason is not None else ""),
        ]
        for e in entries
    ]
    return _table(["AT (UTC)", "WORKLOAD", "TYPE", "OUTCOME", "STATE", "TRAFFIC", "ACTOR", "REASON"], rows)
