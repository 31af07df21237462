"""`promote releases` and `promote archive` (v3 §19): releases as things you manage.

The list reads every release's record and its shards' summaries (ONE query, catalog.py), whatever the number of
workloads: name, model, state, counts by state, attention, last change, wave and halt. A deadline needs a
workload's times, which summaries do not keep: `overdue` is counted for a release kept in one shard (one more
query, of at most a shard's rows) that is not finished, and is null for a release kept in several.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.application.gates_view import Counted
from shared.application.views import counts_of
from shared.domain.actors import Principal, entitlement
from shared.domain.attention import attention
from shared.domain.errors import PromoteError
from shared.domain.gates import waiting_period
from shared.domain.model import HistoryEntry, Outcome, ReleaseState
from shared.domain.times import iso, stamp

FINISHED = (ReleaseState.FINALIZED, ReleaseState.ABORTED)  # what may be archived (nothing left to do)


class ArchiveRefused(PromoteError):
    """A release that may not be archived (still running), or an actor who may not: bad usage, exit 2."""


def release_rows(
    found: list[Any], reads: Any, now: datetime, *, state: str | None = None, wave: str | None = None
) -> list[dict]:
    """The releases `found` (overviews: record and summaries, archived ones left out) of `state` and `wave`;
    `reads` reads a one-shard release's workloads in full (PageReads.workloads)."""
    rows = []
    for o in found:
        plan = o.release.plan
        if (state is not None and o.state != state) or (wave is not None and plan.wave != wave):
            continue
        summary = Counted.of(o.release, o.state)
        overdue = None
        if (o.record.get("shards") or 1) == 1 and o.state not in FINISHED:
            full = reads.workloads(o, list(summary.workloads))
            overdue = sum(1 for w in full.workloads.values() if _overdue(full, w, now))
        rows.append(
            {
                "release": o.release.name,
                "model": plan.model,
                "state": o.state,
                "wave": plan.wave,
                "counts": counts_of(summary.workloads.values()),
                "total": len(summary.workloads),
                "overdue": overdue,
                "attention": attention(summary),
                "halted": {"by": o.release.halted_by, "reason": o.release.halted_reason, "at": o.release.halted_at}
                if o.release.halted_by
                else None,
                "last_change": iso(o.last_change),
            }
        )
    return rows


def _overdue(release, w, now: datetime) -> bool:
    period = waiting_period(release, w)
    return period is not None and period.deadline is not None and now >= period.deadline


def rows_text(rows: list[dict]) -> str:
    if not rows:
        return "no releases (archived ones are not listed)"
    header = ("RELEASE", "MODEL", "STATE", "WAVE", "WORKLOADS", "OVERDUE", "ATTENTION", "LAST CHANGE")
    table = [header]
    for r in rows:
        counts = ", ".join(f"{n} {s}" for s, n in r["counts"].items())
        state = r["state"] + (f" (halted by {r['halted']['by']})" if r["halted"] else "")
        overdue = "?" if r["overdue"] is None else str(r["overdue"])
        change = stamp(datetime.fromisoformat(r["last_change"])) if r["last_change"] else "-"
        table.append((r["release"], r["model"], state, r["wave"] or "-", counts, overdue, str(len(r["attention"])),
                      change))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table]
    for r in rows:
        lines += [f"  {r['release']}/{a['workload']}: {a['why']}" for a in r["attention"][:5]]
        if len(r["attention"]) > 5:
            lines.append(f"  {r['release']}: {len(r['attention']) - 5} more need attention (promote status)")
    return "\n".join(lines)


def archive(store: Any, name: str, actor: str, reason: str, now: datetime) -> tuple[str, bool]:
    """Archive release `name` (finished, by one of its operators or approvers): its state, and False if it was
    archived already. ArchiveRefused."""
    snapshot = store.get_release(name)
    release = snapshot.release
    plan = release.plan
    if entitlement([*plan.operators, *plan.approvers], Principal(actor)) is None:
        raise ArchiveRefused(f"{actor} is not an operator or approver of release {name}: not archived")
    if release.state not in FINISHED:
        raise ArchiveRefused(f"release {name} is {release.state}: only a finalized or aborted release may be archived")
    entry = HistoryEntry(
        at=now,
        event_id=f"archive:{name}",
        type="archive",
        outcome=Outcome.APPLIED,
        reason="archived: hidden from `promote releases` and the board, kept in storage",
        workload=None,
        from_state=release.state,
        to_state=release.state,
        traffic_percent=None,
        actor=actor,
        source="promote-cli/archive",
        actor_reason=reason,
    )
    return release.state, store.archive_release(snapshot, entry)
