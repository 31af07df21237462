"""The board's action pages (v3 §19): the confirmation (GET .../act), the confirmed action (POST .../act, which
queues an override and answers 303 to its outcome), and the outcome page (GET .../outcome/<id>), which shows
what history recorded for it once a host decided it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol, cast

from shared.application.board.actions import Req, override, parse_form, refused
from shared.application.overrides import OverrideRequestError
from shared.domain import messages as m
from shared.domain.actors import ACTOR_REASON_LIMIT, Principal
from shared.domain.errors import UnknownRelease
from shared.domain.model import HistoryEntry, Release
from shared.domain.offers import VERBS, Offer, would

if TYPE_CHECKING:
    from shared.application.board import BoardApp, Page

Publish = Callable[[dict], None]


class Outcomes(Protocol):
    """The store's read of a message's recorded outcome (its de-duplication marker; the table store has it)."""

    def outcome_of(self, name: str, key: str) -> HistoryEntry | None: ...


def target(app: BoardApp, name: str, workload: str | None) -> tuple[Any, Any] | str:
    """(overview, the release to decide on) for an action on `workload` (None: the release), or why not."""
    try:
        overview = app.reads.overview(name)
    except UnknownRelease as exc:
        return str(exc)
    if workload is None:
        from shared.application.board import PAGE_SIZE

        names = list(overview.release.workloads)[:PAGE_SIZE]
        return overview, whole(overview.release, app.reads.workloads(overview, names) if names else None)
    if workload not in overview.release.workloads:
        return f"workload {workload!r} is not part of release {name}"
    return overview, app.reads.workloads(overview, [workload])


def whole(summary: Release, loaded: Release | None) -> Release:
    """The release to decide a release-wide action on: every workload as its summary tells it (state, pause,
    share), those of the page in full (why each is paused: whether a halt paused it)."""
    if loaded is None:
        return summary
    return summary.evolve(workloads={**summary.workloads, **loaded.workloads})


def confirm(app: BoardApp, name: str, query: Mapping[str, list[str]], req: Req) -> Page:
    """GET releases/<name>/act?action=A[&workload=W]: what A would do now, a reason to give, a button."""
    action, workload = _one(query, "action"), _one(query, "workload")
    return _confirm(app, name, action, workload, req, reason="", problem="")


def _confirm(
    app: BoardApp, name: str, action: str | None, workload: str | None, req: Req, *,
    reason: str, problem: str, status: int = 200,
) -> Page:  # fmt: skip
    if action not in m.OVERRIDE_ACTIONS:
        return app.error(400, f"action must be one of {', '.join(m.OVERRIDE_ACTIONS)}", req)
    found = target(app, name, workload)
    if isinstance(found, str):
        return app.error(404, found, req)
    overview, release = found
    offer: Offer | None = None
    if req.visitor.actor is not None:
        offer = would(release, req.visitor.actor, app.clock.now(), action, workload)
    return app.html(
        "act.html.j2",
        req,
        status=status,
        release=name,
        action=action,
        verb=VERBS[action],
        workload=workload,
        offer=offer,
        reason=reason,
        problem=problem,
        limit=ACTOR_REASON_LIMIT,
        live=False,
        halted=[overview.release],
    )


def act(
    app: BoardApp, name: str, body: bytes, content_type: str, req: Req, headers: Mapping[str, str],
    url: str, publish: Publish, sign: Callable[[dict, Principal], dict] | None,
) -> Page:  # fmt: skip
    """POST releases/<name>/act: queue the override (the same rules decide it as any other) and send the
    browser to its outcome. Whatever the offer said, the decision is made again when the override arrives,
    so an action no longer possible is recorded as refused, with why."""
    form = parse_form(body, content_type)
    if form is None:
        return app.error(415, "a board action is a form (application/x-www-form-urlencoded)", req)
    visitor = req.visitor
    why = refused(visitor, app.key, headers, url, form)
    if why is not None or visitor.actor is None:
        return app.error(403, why or "read-only", req)
    action, workload = form.get("action") or None, form.get("workload") or None
    reason = (form.get("reason") or "").strip()
    if not reason:
        return _confirm(
            app, name, action, workload, req, reason="", problem="Give a reason: history keeps it.", status=400
        )
    found = target(app, name, workload)
    if isinstance(found, str):
        return app.error(404, found, req)
    try:
        queued = override(name, workload, action or "", reason, visitor.actor, app.clock.now())
    except OverrideRequestError as exc:
        return app.error(400, str(exc), req)
    try:
        publish(sign(queued.event, visitor.actor) if sign is not None else queued.event)
    except Exception as exc:  # noqa: BLE001 - the queue did not take it: nothing was queued, say so
        return app.error(503, f"the action was not queued ({type(exc).__name__}): nothing changed; try again", req)
    params = {"workload": workload} if workload else {}
    where = app.link(f"releases/{name}/outcome/{queued.event['id']}", params)
    return app.redirect(where, req)


def outcome(app: BoardApp, name: str, event_id: str, query: Mapping[str, list[str]], req: Req) -> Page:
    """GET releases/<name>/outcome/<id>: what history recorded for the action, or that it waits to be decided."""
    from shared.application.board import WINDOW

    workload = _one(query, "workload")
    if not (0 < len(event_id) <= 128 and event_id.replace("-", "").isalnum()):
        return app.error(400, f"{event_id!r} is not an action's id", req)
    try:
        overview = app.reads.overview(name)
    except UnknownRelease as exc:
        return app.error(404, str(exc), req)
    if workload is not None and workload not in overview.release.workloads:
        return app.error(400, f"workload {workload!r} is not part of release {name}", req)
    entries = [e for e in app.reads.newest(name, [workload] if workload else [], WINDOW) if e.event_id == event_id]
    if not entries:  # a release-wide decision keeps its outcome on its marker
        marker = cast(Outcomes, app.store).outcome_of(
            name, m.dedup_key(SimpleNamespace(id=event_id, type="override", source="promote/board"))
        )
        entries = [marker] if marker is not None else []
    entries.sort(key=lambda e: e.at)
    outcomes = {e.outcome for e in entries}
    overall = next((o for o in ("applied", "duplicate", "rejected", "ignored") if o in outcomes), None)
    return app.html(
        "outcome.html.j2",
        req,
        release=name,
        workload=workload,
        event_id=event_id,
        entries=entries,
        overall=overall,
        live=not entries,
        halted=[overview.release],
    )


def _one(query: Mapping[str, list[str]], key: str) -> str | None:
    values = [v for v in query.get(key, []) if v]
    return values[-1] if values else None
