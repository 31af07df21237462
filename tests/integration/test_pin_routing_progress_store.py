"""A move's routing progress on Azurite (shared/adapters/routing_progress.py): the row `p.routing` in the
release's partition holds every field as its type, replaced whole by each write (an unfinished move's record
after a finished one's keeps neither `took_s` nor `failed`), and reads back equal; no row reads as None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.adapters.routing_progress import PROGRESS_ROW, TableRoutingProgress
from shared.application.config import RELEASES_TABLE
from shared.domain.progress import RoutingProgress

START = datetime(2026, 3, 2, 12, 0, 0, 123000, tzinfo=UTC)


def test_a_progress_row_round_trips_field_by_field_and_is_replaced_whole(stack, release_name):
    table = stack.table(RELEASES_TABLE)
    store = TableRoutingProgress(table)
    assert store.read(release_name) is None
    over = RoutingProgress(5000, 5000, 795, 795, START, START + timedelta(seconds=82), 120, took_s=82, failed=True)
    store.record(release_name, over)
    row = table.get_entity(release_name, PROGRESS_ROW)
    assert PROGRESS_ROW == "p.routing"
    assert {k: v for k, v in row.items()} == {
        "PartitionKey": release_name,
        "RowKey": "p.routing",
        "done": 5000,
        "total": 5000,
        "writes_done": 795,
        "writes": 795,
        "started_at": START,
        "at": START + timedelta(seconds=82),
        "forecast_s": 120.0,
        "took_s": 82.0,
        "failed": True,
    }
    assert all(isinstance(row[k], float) for k in ("forecast_s", "took_s"))
    back = store.read(release_name)
    assert back == over and isinstance(back.forecast_s, float) and isinstance(back.took_s, float)
    going = RoutingProgress(12, 5000, 3, 795, START, START + timedelta(seconds=3), 120.5)
    store.record(release_name, going)
    assert "took_s" not in table.get_entity(release_name, PROGRESS_ROW)
    assert "failed" not in table.get_entity(release_name, PROGRESS_ROW)
    assert store.read(release_name) == going and store.read(release_name).failed is False
