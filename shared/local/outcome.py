"""The recorded outcome of one queued message, for `promote send/override --wait`.

A host that handles a message of a known release records it in the release's partition
(shared/adapters/table_store.py): history entries carrying its id, one per workload it names, or, for a
replication-lag report that changed nothing worth a history entry, the outcome on its de-duplication marker.
One filtered query and one point read find either, however long the history.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.domain.model import Outcome

# How the outcomes of one message's entries combine into the message's outcome (as Decision.outcome does): a
# release-wide override applied to any workload is applied.
_RANK = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED, Outcome.IGNORED)
_FIELDS = ["workload", "type", "outcome", "reason", "seq"]


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
    """Finds what became of message `event_id` of `release`, published after the release's history held
    `since_seq` entries. `marker_before`: its id was seen before it was published (a duplicate's outcome is
    then a history entry, and the old marker says nothing about this delivery)."""

    def __init__(self, table, release: str, event_id: str, *, since_seq: int, marker_before: bool):
        self.table, self.release, self.event_id = table, release, event_id
        self.since_seq, self.marker_before = since_seq, marker_before

    def recorded(self) -> list[Recorded]:
        """The message's outcomes, one per workload (empty: not handled yet)."""
        release, event_id = (v.replace("'", "''") for v in (self.release, self.event_id))
        rows = self.table.query_entities(
            f"PartitionKey eq '{release}' and RowKey ge 'h.' and RowKey lt 'h/' "
            f"and event_id eq '{event_id}' and seq ge {self.since_seq}",
            select=_FIELDS,
        )
        found = [_recorded(r) for r in sorted(rows, key=lambda r: r["seq"])]
        if found or self.marker_before:
            return found
        from azure.core.exceptions import ResourceNotFoundError

        from shared.adapters.table_store import marker_row

        try:
            marker = self.table.get_entity(self.release, marker_row(self.event_id), select=_FIELDS[:-1])
        except ResourceNotFoundError:
            return []
        return [_recorded(marker)] if marker.get("outcome") else []

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


def _recorded(entity) -> Recorded:
    return Recorded(
        workload=entity.get("workload") or None,
        type=entity.get("type") or "",
        outcome=Outcome(entity["outcome"]),
        reason=entity.get("reason") or "",
    )


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
