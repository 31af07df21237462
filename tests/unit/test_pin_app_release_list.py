"""`promote releases` (release_list.py): a workload is overdue from its deadline's very second, and a release's
attention is judged against the state its shards' summaries give (the catalog's), not against the workloads a
page happens to hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.application.release_list import release_rows
from shared.domain.model import ReleaseState
from tests.unit.test_pin_release_list import Overview, Reads
from tests.unit.test_pin_status import NOW, flight_release, staged_release


def test_a_workload_is_overdue_from_its_deadline_on():
    """api's verdict deadline is 11:40:30 (test_pin_status.flight_release)."""
    one_shard = [Overview(flight_release(), {}, None)]
    assert release_rows(one_shard, Reads(), datetime(2026, 3, 2, 11, 40, 29, tzinfo=UTC))[0]["overdue"] == 0
    assert release_rows(one_shard, Reads(), datetime(2026, 3, 2, 11, 40, 30, tzinfo=UTC))[0]["overdue"] == 1


@dataclass
class Summarised:
    """A large release as the catalog gives it: its state from the shards' summaries."""

    release: Any
    record: dict
    last_change: datetime | None
    state: ReleaseState


def test_attention_is_judged_against_the_state_the_summaries_give():
    (row,) = release_rows([Summarised(staged_release(), {"shards": 3}, None, ReleaseState.ROLLED_BACK)], Reads(), NOW)
    assert row["state"] == "rolled-back"
    assert [(a["workload"], a["why"]) for a in row["attention"]] == [
        ("payroll", "100% of its users are on the migrated system (promoted) while the release is rolled-back"),
        ("hr", "100% of its users are on the migrated system (finalized) while the release is rolled-back"),
        ("ledger", "paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; nothing advances and "
                   "routing does not change until resume; alert recorded while paused, acted on at resume: error "
                   "rate 4%"),
        ("billing", "Azure refused the route: quota"),
        ("sales", "100% of its users are on the migrated system (promoted) while the release is rolled-back"),
    ]  # fmt: skip
