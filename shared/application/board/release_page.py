"""One release's page (contract §12, v3 §19): its progress, a page of its workloads (filtered by state and by a
piece of their name), each with what it waits for, its deadline, its rehearsal (v3 §16) and its timeline to
scale; the judge's latest values (a health panel) and the history.

Reads, whatever the number of workloads: the summaries (one query), the page's shards, one history range a
workload of the page and one for the release, and for a flight release with a workload of the page flighting
the judge's records (one query: every workload's, board/__init__ `judge`). A rehearsal is on the workload's own
record (shared/domain/migration.py), read with the page's shards: no request of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.application.board.acting import whole
from shared.application.board.actions import Req
from shared.application.board.summary import deadline_of
from shared.application.board.timeline import holds, pauses, timeline
from shared.application.board.waiting import waiting_for
from shared.application.gates_view import Counted, gates_of
from shared.application.status_page import page_count
from shared.application.views import counts_of, health_json
from shared.domain.errors import UnknownRelease
from shared.domain.health import CheckResult
from shared.domain.migration import rehearsal_hash, rehearsal_state
from shared.domain.model import TERMINAL, Release, Workload, WorkloadState
from shared.domain.offers import offers
from shared.domain.times import from_ms, ms

MAX_NAME_FILTER = 64  # characters of the workload filter (a name is shorter)
OPEN_ALL_UP_TO = 10  # a page of at most this many workloads opens every timeline; a longer one the troubled ones


def release_page(app: Any, name: str, query: dict[str, list[str]], req: Req) -> Any:
    from shared.application.board import OUTCOMES, PAGE_SIZE, STATES, WINDOW, _one, _routing_line, progress

    try:
        overview = app.reads.overview(name)
    except UnknownRelease as exc:
        return app.error(404, str(exc), req)
    known = overview.state
    summary = Counted.of(overview.release, known)
    workload, outcome, state = _one(query, "workload"), _one(query, "outcome"), _one(query, "state")
    text = (_one(query, "q") or "").strip()
    if workload and workload not in summary.workloads:
        return app.error(req=req, status=400, message=f"workload {workload!r} is not part of release {name}")
    if outcome and outcome not in OUTCOMES:
        return app.error(req=req, status=400, message=f"outcome must be one of {', '.join(OUTCOMES)}")
    if state and state not in STATES:
        return app.error(req=req, status=400, message=f"state must be one of {', '.join(STATES)}")
    if len(text) > MAX_NAME_FILTER:
        return app.error(req=req, status=400, message=f"the workload filter is at most {MAX_NAME_FILTER} characters")
    before, number = _one(query, "before"), _one(query, "page") or "1"
    if before is not None and not (before.isascii() and before.isdigit() and 0 < int(before) < 10**13):
        return app.error(
            req=req, status=400, message="before must be a time in this release's history (milliseconds since 1970)"
        )
    needle = text.lower()
    matching = [
        w.name
        for w in summary.workloads.values()
        if (not state or w.state == state) and (not needle or needle in w.name.lower())
    ]
    pages = page_count(len(matching), PAGE_SIZE)
    if not (number.isascii() and number.isdigit() and 1 <= int(number) <= pages):
        return app.error(req=req, status=400, message=f"page must be a number from 1 to {pages}")
    page = int(number)
    names = matching[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    loaded = app.reads.workloads(overview, names) if names else None
    release = Counted.of(loaded, known) if loaded is not None else summary.evolve(workloads={})
    cutoff = from_ms(int(before)) if before is not None else None
    shown_names = [workload] if workload and workload not in release.workloads else []
    newest_first = app.reads.newest(name, names + shown_names, WINDOW, cutoff)
    entries = newest_first[::-1]  # oldest first, as the timelines draw them
    low = ms(entries[0].at) if len(entries) == WINDOW else 0
    now = app.clock.now()
    behind = [w.name for w in summary.workloads.values() if w.state not in TERMINAL and w.state != WorkloadState.READY]
    gates = gates_of(release, now, held_by=behind)
    actor = req.visitor.actor
    workloads: list[dict[str, Any]] = []
    for w in release.workloads.values():
        own = [e for e in entries if e.workload == w.name]
        waiting = waiting_for(release, w, now, gates[w.name])
        why = ": ".join(x for x in (f"by {w.paused_by}" if w.paused_by else "", w.paused_reason or "") if x)
        spans = pauses(own, w.paused_at if w.paused else None, now, why or None) + holds(
            waiting, w.state_since, now, release.plan.windows
        )
        workloads.append(
            {
                "w": w,
                "waiting": waiting,
                "deadline": deadline_of(release, w, now),
                "routing": release.plan.routing_of(w.name).provider,
                "timeline": timeline(w.name, own, w.traffic_percent, now, spans),
                "offers": offers(loaded, actor, now, w.name) if actor and loaded is not None else [],
                "rehearsal": rehearsal_of(release, w),
            }
        )
    for item in workloads:  # a short page opens every timeline; a long one those that need a look
        w, tl = item["w"], item["timeline"]
        trouble = w.paused or (item["deadline"] or {}).get("overdue") or w.state in _TROUBLE
        item["open"] = len(workloads) <= OPEN_ALL_UP_TO or bool(trouble) or bool(tl.spans)
    shown = [
        e
        for e in reversed(entries)
        if (not workload or e.workload == workload) and (not outcome or e.outcome == outcome)
    ]
    filters = {k: v for k, v in (("workload", workload), ("outcome", outcome)) if v}
    paging = {k: v for k, v in (("state", state), ("q", text), ("page", page if page > 1 else None)) if v}
    older = app.link(f"releases/{name}", {**paging, **filters, "before": low}) if low else None
    newest = app.link(f"releases/{name}", {**paging, **filters}) if before is not None else None
    narrowed = {k: v for k, v in (("state", state), ("q", text)) if v}
    at = lambda n: app.link(f"releases/{name}", {**narrowed, "page": n})  # noqa: E731
    return app.html(
        "release.html.j2",
        req,
        release=summary,
        release_offers=offers(whole(overview.release, loaded), actor, now) if actor else [],
        halted=[summary],
        counts=counts_of(summary.workloads.values()),
        progress=progress(summary.workloads.values()),
        routing=_routing_line(app.progress, name, now),
        workloads=workloads,
        health=health_panel(app, release, now),
        rehearsals=release.plan.source is not None,
        history=shown,
        filters=filters,
        paging=paging,
        state=state,
        text=text,
        states=STATES,
        page={"number": page, "pages": pages, "matching": len(matching), "first": (page - 1) * PAGE_SIZE + 1},
        previous=at(page - 1) if page > 1 else None,
        next=at(page + 1) if page < pages else None,
        outcomes=OUTCOMES,
        older=older,
        newest=newest,
        older_than=cutoff,
        live=before is None,
        window=WINDOW,
    )


# states whose timeline a long page opens: moving users (flighting) or moved back (rolled-back); so are a paused,
# an overdue or a held workload's (its spans)
_TROUBLE = (WorkloadState.ROLLED_BACK, WorkloadState.FLIGHTING)


def rehearsal_of(release: Release, w: Workload) -> dict[str, Any] | None:
    """The workload's latest rehearsal as the board shows it (None when the plan has no Azure Migrate source):
    its state, when and by whom, its verdict's note, and whether it was of this plan (its hash)."""
    if release.plan.source is None:
        return None
    state = rehearsal_state(w)
    current = rehearsal_hash(release, w.name)
    return {
        "state": state,
        "at": w.rehearsal_at,
        "by": w.rehearsal_by,
        "note": w.rehearsal_note,
        "hash": w.rehearsal_hash,
        "current": current,
        "matches": None if w.rehearsal_hash is None else w.rehearsal_hash == current,
    }


def health_panel(app: Any, release: Release, now: datetime) -> dict[str, Any] | None:
    """The judge's latest values for the page's flighting workloads: per check its value, threshold, samples
    and verdict, with when it was evaluated. None for a release the judge does not watch (not a flight, no
    workload of the page flighting with health checks: its verdicts come from outside); `unread` says why the
    values could not be shown."""
    flighting = [
        w
        for w in release.workloads.values()
        if w.state == WorkloadState.FLIGHTING and release.plan.health_of(w.name) is not None
    ]
    if release.plan.model != "flight" or not flighting:
        return None
    if app.judge is None:
        return {"rows": [], "unread": "the judge's records are not read by this board"}
    records = app.judge.load(release.name)
    rows = []
    for w in flighting:
        health = health_json(release, w.name, records.get(w.name))
        if health is None:
            continue
        last = health["last"]
        base = {"workload": w.name, "flight": w.flight, "interval": health["interval_seconds"]}
        if last is None:
            rows.append({**base, "checks": [], "at": None, "evaluation": None})
            continue
        at = datetime.fromisoformat(last["at"].replace("Z", "+00:00")) if last["at"] else None
        checks = [CheckResult.model_validate(c) for c in last["checks"]]
        rows.append({**base, "checks": [_check(c) for c in checks], "at": at, "evaluation": last["evaluation"]})
    return {"rows": rows, "unread": None}


def _check(c: CheckResult) -> dict[str, Any]:
    bound = " and ".join(
        x for x in (f"≤ {c.max:g}" if c.max is not None else "", f"≥ {c.min:g}" if c.min is not None else "") if x
    )
    return {
        "name": c.name,
        "value": "-" if c.value is None else f"{c.value:.4g}",
        "threshold": bound or "-",
        "samples": "-" if c.samples is None else f"{c.samples} (needs {c.min_samples})",
        "outcome": c.outcome,
        "in_a_row": c.in_a_row,
        "why": c.error,
    }
