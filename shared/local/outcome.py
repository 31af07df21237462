"""The recorded outcome of one queued message, for `promote send/override --wait`.

A host that handles a message of a known release records its outcome on the message's de-duplication marker
(the store's `outcome_of(release, key)`: one point read), and its history entries carry its id: once the
marker holds the outcome, one filtered query finds each workload's entry (a release-wide decision's entries
inside its release-level one). Messages that leave no marker of their own are found by that query alone,
among the entries recorded since they were published: a duplicate (its id was seen before) and a refused
override (its id is not kept, so that a legitimate override may still carry it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.model import HistoryEntry, Outcome

# How the outcomes of one message's entries combine into the message's outcome (as Decision.outcome does): a
# release-wide override applied to any workload is applied.
_RANK = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.IGNORED)


@dataclass(frozen=True)
class Recorded:
    workload: str | None
    type: str
    outcome: Outcome
    reason: str

    def line(self, release: str) -> str:
        return f"{self.type} {release}/{self.workload or '*'}: {self.outcome}: {self.reason}"


def combined(found: list[Recorded]) -> Outcome:
    outcomes = {r.outcome for r in found}
    return next((o for o in _RANK if o in outcomes), Outcome.IGNORED)


class OutcomeWatch:
    """Finds what became of message `event_id` (de-duplication key `key`) of `release`, published at
    `published`. `marker_before`: its key was recorded before it was published (the marker says nothing about
    this delivery, a duplicate's history entry does)."""

    SKEW = timedelta(minutes=1)  # the host's clock against this one's, for a duplicate's entry

    def __init__(self, store: Any, table: Any, release: str, event_id: str, key: str, *, published: datetime,
                 marker_before: bool):  # fmt: skip
        self.store, self.table, self.release, self.event_id, self.key = store, table, release, event_id, key
        self.published, self.marker_before = published, marker_before

    def recorded(self) -> list[Recorded]:
        """The message's outcomes, one per workload (empty: not handled yet)."""
        since = self.published - self.SKEW
        if self.marker_before:  # the entries of its earlier delivery are older, and not duplicates
            return self._entries(since=since, outcome=Outcome.DUPLICATE)
        entry = self.store.outcome_of(self.release, self.key)
        if entry is None:  # not handled yet, or a refused override (its id is not kept)
            return self._entries(since=since)
        return self._entries() or [_recorded(entry)]  # a lag report that changed nothing has no history entry

    def _entries(self, since: datetime | None = None, outcome: Outcome | None = None) -> list[Recorded]:
        from shared.adapters.table_store.history import expand, history_of

        release, event_id = (v.replace("'", "''") for v in (self.release, self.event_id))
        query = f"PartitionKey eq '{release}' and RowKey ge 'h.' and RowKey lt 'h/' and event_id eq '{event_id}'"
        if outcome is not None:
            query += f" and outcome eq '{outcome.value}'"
        if since is not None:
            query += f" and at ge datetime'{since.isoformat().replace('+00:00', 'Z')}'"
        entries: list[HistoryEntry] = []
        for row in self.table.query_entities(query):
            entries += expand(row, None) if row["RowKey"].startswith("h.~.") else [history_of(row)]
        return [_recorded(e) for e in sorted(entries, key=lambda e: e.at) if e.event_id == self.event_id]

    def wait(
        self,
        timeout: float,
        *,
        poll: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[Recorded]:
        """The outcomes once recorded, or [] when `timeout` seconds passed without."""
        deadline = clock() + timeout
        while True:
            found = self.recorded()
            if found or clock() >= deadline:
                return found
            sleep(min(poll, max(0.0, deadline - clock())))


def _recorded(entry: HistoryEntry) -> Recorded:
    return Recorded(workload=entry.workload, type=entry.type, outcome=Outcome(entry.outcome), reason=entry.reason)


def still_queued(queue, event_id: str) -> bool:
    """Whether the message waits, visible, among the first 32 messages of the local queue: nothing took it."""
    for message in queue.peek_messages(max_messages=32):
        try:
            doc = json.loads(message.content)
        except (TypeError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("id") == event_id:
            return True
    return False
