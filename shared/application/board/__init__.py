"""The board (contract §12): every release at a glance, one release's workloads, timelines and history.

Pages are rendered on the server (Jinja2, SVG drawn in Python) by `BoardApp.handle`, which the local server
(shared/local/board.py) and the Azure HTTP routes (functions/board.py) both call: one renderer, two faces.
Reads are bounded whatever the number of workloads and the history's length: the index is one query (every
release's summaries); a release page is its summaries (one query: counts and progress), the shards holding
the page's workloads (PAGE_SIZE of them, filtered by state: one query a run of adjacent shards) and one
key-range query per workload of the page, and one for the release, over a window of its newest history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import urlencode

from shared.application.board.actions import Req, Visitor
from shared.application.gates_view import Counted
from shared.application.ports import ReleaseStore
from shared.application.views import counts_of
from shared.domain.errors import UnknownRelease
from shared.domain.model import HistoryEntry, Release, WorkloadState
from shared.domain.plan import NAME_PATTERN

WINDOW = 300  # history entries a release page reads (and one "older" page steps back)
PAGE_SIZE = 50  # workloads a release page shows (each costs one history read)
OUTCOMES = ("applied", "duplicate", "ignored", "rejected")
REFRESH_SECONDS = 2
_NAME = re.compile(NAME_PATTERN)
# Scripts only from the board itself, nothing from elsewhere; the page works without scripts (meta refresh).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` with the board's own forms,
    # which could not then be told from another site's; other sites still learn nothing
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class BoardReads(Protocol):
    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]: ...

    def overview(self, name: str) -> Any: ...

    def workloads(self, overview: Any, names: list[str]) -> Release: ...

    def newest(
        self, name: str, workloads: list[str], limit: int, before: datetime | None = None
    ) -> list[HistoryEntry]: ...


@dataclass
class Page:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


class BoardApp:
    def __init__(self, store: ReleaseStore, reads: BoardReads, clock: Any, *, base: str = "/", judge: Any = None):
        """`judge`: the judge's records (ports.JudgeStore), for the release page's health panel (None: the panel
        says it does not read them)."""
        self.store, self.reads, self.clock, self.base, self.judge = store, reads, clock, base, judge
        self.progress: Any = None  # v3 §15: a ProgressStore (routing_progress.py), set by the stack

    @cached_property
    def env(self):
        from jinja2 import Environment, PackageLoader, select_autoescape

        env = Environment(
            loader=PackageLoader("shared.application.board", "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["when"] = _when
        env.filters["pct"] = lambda v: "-" if v is None else f"{v}%"
        return env

    @cached_property
    def key(self) -> bytes:
        """What signs the board's form tokens: the override key on Azure (every instance has it), else a key of
        this process (the local board is one process)."""
        import os
        import secrets

        from shared.application.override_proof import ENV_OVERRIDE_KEY

        configured = os.environ.get(ENV_OVERRIDE_KEY, "").strip()
        return configured.encode() if configured else secrets.token_bytes(32)

    def handle(self, path: str, query: dict[str, list[str]], visitor: Visitor | None = None) -> Page:
        """Route one GET; `path` is relative to the board's base ('' is the index). `visitor`: who looks, and
        may act (None: nobody may)."""
        from shared.application.board import acting

        req = Req.of(visitor, self.key, self.base)
        path = path.strip("/")
        if path == "":
            from shared.application.board.summary import CHECKED_RELEASES, waves

            rows = self._summaries()
            return self.html(
                "index.html.j2",
                req,
                releases=rows,
                waves=waves(rows, self.clock.now()),
                halted=[r["release"] for r in rows],
                checked=CHECKED_RELEASES,
            )
        if path == "static/board.js":
            return Page(
                200, "text/javascript; charset=utf-8", self.env.loader.get_source(self.env, "board.js")[0].encode()
            )
        if path == "static/board.css":
            return Page(200, "text/css; charset=utf-8", self.env.loader.get_source(self.env, "board.css")[0].encode())
        parts = path.split("/")
        if parts[0] == "releases" and len(parts) > 1 and not _NAME.match(parts[1]):
            return self.error(400, f"{parts[1]!r} is not a release name", req)
        if len(parts) == 2 and parts[0] == "releases":
            return self._release(parts[1], query, req)
        if len(parts) == 3 and parts[0] in ("releases", "waves") and parts[2] == "report":
            return self._report(parts[0], parts[1], req)
        if len(parts) == 3 and parts[0] == "releases" and parts[2] == "act":
            return acting.confirm(self, parts[1], query, req)
        if len(parts) == 4 and parts[0] == "releases" and parts[2] == "outcome":
            return acting.outcome(self, parts[1], parts[3], query, req)
        return self.error(404, f"no page at /{path}", req)

    def post(self, path: str, body: bytes, content_type: str, visitor: Visitor, headers: dict[str, str], url: str,
             publish: Any, sign: Any = None) -> Page:  # fmt: skip
        """Route one POST (an action: releases/<name>/act). `headers` and `url`: the request's, to tell the
        board's own pages from another site's; `publish` queues the override; `sign` attaches the proof of the
        signed-in principal (on Azure)."""
        from shared.application.board import acting

        req = Req.of(visitor, self.key, self.base)
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "releases" and parts[2] == "act" and _NAME.match(parts[1]):
            return acting.act(self, parts[1], body, content_type, req, headers, url, publish, sign)
        return self.error(405, f"no action at /{path.strip('/')}: only releases/<name>/act takes a POST", req)

    # pages --------------------------------------------------------------------------------------
    def _summaries(self) -> list[dict[str, Any]]:
        from shared.application.board.summary import CHECKED_RELEASES, looked_at, under_way, watch

        rows, now, budget = [], self.clock.now(), CHECKED_RELEASES
        newest_first = sorted(
            self.reads.list_release_summaries(), key=lambda p: p[1].timestamp() if p[1] else 0.0, reverse=True
        )
        for release, last in newest_first:
            release = Counted.of(release)
            read = under_way(release) and budget > 0  # the most recently changed releases' deadlines are read
            budget -= read
            seen, complete, started = (
                looked_at(self.reads, release) if read else (release, not under_way(release), None)
            )
            rows.append(
                {
                    "name": release.name,
                    "model": release.model,
                    "state": release.state,
                    "by_state": sorted(counts_of(release.workloads.values()).items()),
                    "progress": progress(release.workloads.values()),
                    "last_change": last,
                    "paused": sum(1 for w in release.workloads.values() if w.paused),
                    "release": release,
                    "wave": release.plan.wave,
                    "deadlines_read": read or not under_way(release),
                    "started": started,
                    **watch(Counted.of(seen, release.state), complete, now),
                }
            )
        return rows

    def _release(self, name: str, query: dict[str, list[str]], req: Req) -> Page:
        from shared.application.board.release_page import release_page

        return release_page(self, name, query, req)

    def _report(self, kind: str, name: str, req: Req) -> Page:
        """The report of a release, or of a wave's releases (shared/application/report.py): reads every history
        entry, so it is a page of its own, loaded on demand, never refreshed by itself."""
        from markupsafe import Markup

        from shared.application.report import WaveReport, release_report
        from shared.application.report_render import html_section

        if not _NAME.match(name):
            return self.error(req=req, status=400, message=f"{name!r} is not a {kind[:-1]} name")
        try:
            names = [name] if kind == "releases" else self.store.list_releases()
            found = [self.store.get_release(n).release for n in names]
        except UnknownRelease as exc:
            return self.error(404, str(exc), req)
        found = [r for r in found if kind == "releases" or r.plan.wave == name]
        if not found:
            return self.error(404, f"no release names wave {name!r} in its plan", req)
        reports = [release_report(r.plan, self.store.list_history(r.name), r.state) for r in found]
        section = html_section(reports[0] if kind == "releases" else WaveReport(name, reports))
        return self.html(
            "report_page.html.j2",
            req,
            title=f"{kind[:-1]} {name}",
            release=name if kind == "releases" else None,
            path=f"{kind}/{name}/report",
            section=Markup(section),
            live=False,
        )

    # helpers ------------------------------------------------------------------------------------
    def _link(self, path: str, params: dict[str, Any]) -> str:
        return self.base + path + (("?" + urlencode(params)) if params else "")

    def link(self, path: str, params: dict[str, Any]) -> str:
        return self._link(path, params)

    def html(self, template: str, req: Req, status: int = 200, halted: Any = (), **context: Any) -> Page:
        """`halted`: the releases the page is about (their halts show in its banner, with everything's)."""
        halts = [{"release": r.name, "by": r.halted_by, "reason": r.halted_reason, "at": r.halted_at}
                 for r in halted if r.halted_by]  # fmt: skip
        html = self.env.get_template(template).render(
            base=self.base,
            now=self.clock.now(),
            link=self._link,
            refresh=REFRESH_SECONDS,
            req=req,
            halts=[*self._everything_halted(), *halts],
            **context,
        )
        return self._page(Page(status, "text/html; charset=utf-8", html.encode()), req)

    def error(self, status: int, message: str, req: Req) -> Page:
        return self.html("error.html.j2", req, status=status, status_code=status, message=message, live=False)

    def redirect(self, where: str, req: Req) -> Page:
        """303 See Other: the browser GETs `where` (reloading it does not send the action again)."""
        return self._page(Page(303, "text/plain; charset=utf-8", b"", {**SECURITY_HEADERS, "Location": where}), req)

    def _everything_halted(self) -> list[dict[str, Any]]:
        """`promote halt` without --release, as a banner (none when storage cannot say: the page says that)."""
        try:
            halt = self.store.get_halt()
        except Exception:  # noqa: BLE001 - the page itself reports storage trouble
            return []
        return [{"release": None, **halt}] if halt else []

    @staticmethod
    def _page(page: Page, req: Req) -> Page:
        if req.cookie:
            page.headers["Set-Cookie"] = req.cookie
        return page


STATES = tuple(s.value for s in WorkloadState)


def _routing_line(store: Any, name: str, now: datetime) -> str | None:
    """v3 §15: the release's routing progress as status words it (one point read), None if none recorded."""
    from shared.application.routing_progress import routing_progress_json
    from shared.domain.progress import progress_text

    doc = routing_progress_json(store, name, now) if store is not None else None
    return progress_text(doc) if doc else None


def progress(workloads: Any) -> dict[str, int]:
    """A release's (or a wave's) progress: its workloads promoted (or finalized) out of all of them."""
    items = list(workloads)
    done = sum(1 for w in items if w.state in (WorkloadState.PROMOTED, WorkloadState.FINALIZED))
    return {"promoted": done, "total": len(items), "percent": done * 100 // len(items) if items else 0}


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = [v for v in query.get(key, []) if v]
    return values[-1] if values else None


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")
