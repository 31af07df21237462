"""Long histories, written straight into the store in 100-row transactions (what thousands of messages
would leave behind), for the board's bounded reads and `make bench`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from azure.data.tables import UpdateMode

from shared.adapters.table_store import RELEASE_ROW, history_entity
from shared.domain.model import HistoryEntry

T0 = datetime(2026, 11, 1, tzinfo=UTC)  # bulk entry n is at T0 + n seconds


def add_history(
    table,
    release: str,
    workloads: list[str],
    count: int,
    start_seq: int,
    t0: datetime = T0,
) -> int:
    """Append `count` entries (round-robin over the workloads, shares stepping 0/10/50/100); returns the new seq."""
    rows = []
    for i in range(count):
        seq = start_seq + i
        share = (0, 10, 50, 100)[(i // 25) % 4]
        rows.append(
            history_entity(
                release,
                seq,
                HistoryEntry(
                    at=t0 + timedelta(seconds=seq),
                    event_id=f"bulk-{seq}",
                    type="flight-healthy",
                    outcome="applied",
                    reason=f"bulk entry {seq}",
                    workload=workloads[i % len(workloads)],
                    from_state="flighting",
                    to_state="flighting",
                    traffic_percent=share,
                    flight=1,
                ),
            )
        )
    for i in range(0, len(rows), 100):
        table.submit_transaction([("create", r) for r in rows[i : i + 100]])
    seq = start_seq + count
    table.update_entity({"PartitionKey": release, "RowKey": RELEASE_ROW, "seq": seq}, mode=UpdateMode.MERGE)
    return seq
