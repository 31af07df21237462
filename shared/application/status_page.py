"""`promote status` a page at a time (contract §14): the release's counts by state, its `attention` list and
what holds it, from its shards' summaries (one read), then one page of its workloads in full (the shards the
page covers), whatever the number of workloads. `--json` and `--all` read the whole release instead
(views.release_status).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from shared.application.gates_view import Counted, gates_of, holds_json
from shared.application.ports import JudgeStore
from shared.application.routing_progress import ProgressStore, routing_progress_json
from shared.application.views import counts_of, release_head, workloads_json
from shared.domain.attention import attention
from shared.domain.model import TERMINAL, Release, WorkloadState

PAGE_SIZE = 100  # workloads a page (contract §14)
HISTORY_PAGE_SIZE = 500  # history entries a page of `promote history`
S = WorkloadState


class PageSource(Protocol):
    def overview(self, name: str) -> Any:
        """The release from its record and its shards' summaries (an Overview): one read."""

    def workloads(self, overview: Any, names: list[str]) -> Release:
        """The release with these workloads in full: the shards that hold them."""


class PageError(ValueError):
    """A page or a filter that names nothing there is (a usage error)."""


def page_count(n: int, size: int) -> int:
    return max(1, -(-n // size))


def status_page(
    reads: PageSource,
    judge: JudgeStore,
    name: str,
    now: datetime,
    *,
    state: str | None = None,
    workload: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    progress: ProgressStore | None = None,
) -> dict[str, Any]:
    """The status of release `name` with one page of its workloads (those in `state`, or `workload` alone):
    its summaries and the shards the page covers. UnknownRelease if it was never applied; PageError for a
    workload it does not have or a page past the last. On a page, a staged release's `release` gate names the
    workloads not ready; approval and pauses that hold the rest are among the release's `holds`."""
    overview = reads.overview(name)
    known = overview.state
    summary = Counted.of(overview.release, known)
    if workload is not None and workload not in summary.workloads:
        raise PageError(f"workload {workload!r} is not part of release {name}")
    matching = [
        w.name
        for w in summary.workloads.values()
        if (state is None or w.state == state) and (workload is None or w.name == workload)
    ]
    pages = page_count(len(matching), size)
    if page < 1 or page > pages:
        raise PageError(f"page {page} of release {name}: there are {pages} page(s) of {size} ({len(matching)} shown)")
    names = matching[(page - 1) * size : page * size]
    full = Counted.of(reads.workloads(overview, names), known) if names else summary.evolve(workloads={})
    behind = [w.name for w in summary.workloads.values() if w.state not in TERMINAL and w.state != S.READY]
    judged = summary.model == "flight" and any(w.state == S.FLIGHTING for w in full.workloads.values())
    health = judge.load(name) if judged else ({} if summary.model == "flight" else None)
    doc = release_head(summary)
    doc["counts"] = counts_of(summary.workloads.values())
    doc["total"] = len(summary.workloads)
    if progress is not None:  # v3 §15: a move's routing progress (one point read)
        doc["routing_progress"] = routing_progress_json(progress, name, now)
    # the attention list from the summaries, in full for the workloads of the page
    detailed = {a["workload"]: a for a in attention(full)} if names else {}
    doc["attention"] = [detailed.get(a["workload"], a) for a in attention(summary)]
    doc["holds"] = holds_json(summary, now, unapproved=overview.tally.ready_unapproved)
    doc.update(workloads_json(full, now, health, gates_of(full, now, held_by=behind)))
    doc["page"] = {"number": page, "pages": pages, "size": size, "matching": len(matching)}
    doc["filter"] = {k: v for k, v in (("state", state), ("workload", workload)) if v is not None}
    return doc
