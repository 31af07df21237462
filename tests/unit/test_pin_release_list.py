"""`promote releases` (release_list.py, v3 §19) pinned whole: every key of a row, and every line of the table
with its attention lines; overdue counted for a release in one shard and not finished, unknown ("?") for one
in several; the filters by state and wave; `promote archive`'s refusals and its history entry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.application.release_list import ArchiveRefused, archive, release_rows, rows_text
from shared.domain.model import Release, WorkloadState
from tests.fakes import MemoryStore
from tests.unit.test_pin_status import NOW, flight_release, staged_release

S = WorkloadState


@dataclass
class Overview:
    """What the catalog's one query gives for a release (shared/adapters/table_store/pages.Overview)."""

    release: Release
    record: dict
    last_change: datetime | None

    @property
    def state(self) -> Any:
        return self.release.state


class Reads:
    def __init__(self):
        self.asked: list[tuple[str, list[str]]] = []

    def workloads(self, overview: Overview, names: list[str]) -> Release:
        self.asked.append((overview.release.name, names))
        return overview.release.evolve(workloads={n: overview.release.workloads[n] for n in names})


def renamed(release: Release, name: str, wave: str | None = None) -> Release:
    return release.evolve(plan=release.plan.model_copy(update={"release": name, "wave": wave}))


def found() -> list[Overview]:
    flight = flight_release()  # api's verdict deadline passed at 11:40:30
    done = {n: replace(w, state=S.ABORTED, traffic_percent=0) for n, w in flight.workloads.items()}
    return [
        Overview(staged_release(), {"shards": 1}, NOW - timedelta(minutes=5)),
        Overview(flight, {"shards": 3}, None),
        Overview(renamed(flight, "wave-10", "w9"), {}, NOW),
        Overview(renamed(flight.evolve(workloads=done), "wave-11", "w9"), {"shards": 1}, NOW),
    ]


ATTENTION_7 = [
    {"workload": "payroll", "state": "promoted", "traffic_percent": 100,
     "why": "promoted (100%) while the staged release is in-progress"},
    {"workload": "hr", "state": "finalized", "traffic_percent": 100,
     "why": "promoted (100%) while the staged release is in-progress"},
    {"workload": "ledger", "state": "testing", "traffic_percent": 0,
     "why": "paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; nothing advances and routing does "
            "not change until resume; alert recorded while paused, acted on at resume: error rate 4%"},
    {"workload": "billing", "state": "rolled-back", "traffic_percent": 0,
     "why": "rolled back to 0% while the release is in-progress; override retry brings it back to testing; Azure "
            "refused the route: quota"},
    {"workload": "sales", "state": "promoted", "traffic_percent": 100,
     "why": "promoted (100%) while the staged release is in-progress"},
]  # fmt: skip


def test_every_row_in_full_with_overdue_counted_only_where_one_query_tells():
    reads = Reads()
    rows = release_rows(found(), reads, NOW)
    assert rows == [
        {"release": "wave-7", "model": "staged", "state": "in-progress", "wave": None,
         "counts": {"testing": 1, "ready": 1, "promoted": 2, "rolled-back": 1, "finalized": 1}, "total": 6,
         "overdue": 0, "attention": ATTENTION_7,
         "halted": {"by": "ops@contoso.com", "reason": "incident 42", "at": "2026-03-02T11:30:00Z"},
         "last_change": "2026-03-02T11:55:00Z"},
        {"release": "wave-9", "model": "flight", "state": "in-progress", "wave": None,
         "counts": {"replicating": 1, "flighting": 4}, "total": 5, "overdue": None, "attention": [], "halted": None,
         "last_change": None},
        {"release": "wave-10", "model": "flight", "state": "in-progress", "wave": "w9",
         "counts": {"replicating": 1, "flighting": 4}, "total": 5, "overdue": 1, "attention": [], "halted": None,
         "last_change": "2026-03-02T12:00:00Z"},
        {"release": "wave-11", "model": "flight", "state": "aborted", "wave": "w9", "counts": {"aborted": 5},
         "total": 5, "overdue": None, "attention": [], "halted": None, "last_change": "2026-03-02T12:00:00Z"},
    ]  # fmt: skip
    # a one-shard release not finished is read in full (no record of shards: one); the others are not read
    assert reads.asked == [
        ("wave-7", ["payroll", "hr", "crm", "ledger", "billing", "sales"]),
        ("wave-10", ["api", "web", "db", "mq", "old"]),
    ]


def test_rows_filtered_by_state_and_by_wave():
    assert [r["release"] for r in release_rows(found(), Reads(), NOW, wave="w9")] == ["wave-10", "wave-11"]
    assert [r["release"] for r in release_rows(found(), Reads(), NOW, state="aborted")] == ["wave-11"]
    assert [r["release"] for r in release_rows(found(), Reads(), NOW, state="in-progress", wave="w9")] == ["wave-10"]
    assert release_rows(found(), Reads(), NOW, wave="w1") == []


def test_the_table_with_each_releases_first_five_attention_lines():
    rows = release_rows(found(), Reads(), NOW)
    rows[1]["attention"] = [{"workload": f"w{i}", "why": f"why {i}"} for i in range(7)]
    rows[2]["attention"] = [{"workload": f"x{i}", "why": f"why {i}"} for i in range(5)]
    rows[3]["attention"] = [{"workload": f"y{i}", "why": f"why {i}"} for i in range(6)]
    assert rows_text(rows).split("\n") == [
        "RELEASE  MODEL   STATE                                    WAVE  WORKLOADS                                    "
        "               OVERDUE  ATTENTION  LAST CHANGE",
        "wave-7   staged  in-progress (halted by ops@contoso.com)  -     1 testing, 1 ready, 2 promoted, 1 rolled-back"
        ", 1 finalized  0        5          2026-03-02 11:55:00Z",
        "wave-9   flight  in-progress                              -     1 replicating, 4 flighting                   "
        "               ?        7          -",
        "wave-10  flight  in-progress                              w9    1 replicating, 4 flighting                   "
        "               1        5          2026-03-02 12:00:00Z",
        "wave-11  flight  aborted                                  w9    5 aborted                                    "
        "               ?        6          2026-03-02 12:00:00Z",
        "  wave-7/payroll: promoted (100%) while the staged release is in-progress",
        "  wave-7/hr: promoted (100%) while the staged release is in-progress",
        "  wave-7/ledger: paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; nothing advances and "
        "routing does not change until resume; alert recorded while paused, acted on at resume: error rate 4%",
        "  wave-7/billing: rolled back to 0% while the release is in-progress; override retry brings it back to "
        "testing; Azure refused the route: quota",
        "  wave-7/sales: promoted (100%) while the staged release is in-progress",
        *[f"  wave-9/w{i}: why {i}" for i in range(5)],
        "  wave-9: 2 more need attention (promote status)",
        *[f"  wave-10/x{i}: why {i}" for i in range(5)],
        *[f"  wave-11/y{i}: why {i}" for i in range(5)],
        "  wave-11: 1 more need attention (promote status)",
    ]
    assert rows_text([]) == "no releases (archived ones are not listed)"


def test_archive_refuses_a_stranger_and_a_running_release_then_records_who_and_why():
    store = MemoryStore()
    flight = flight_release()
    store.create_release(flight)
    with pytest.raises(ArchiveRefused) as stranger:
        archive(store, "wave-9", "eve@contoso.com", "tidy", NOW)
    assert str(stranger.value) == "eve@contoso.com is not an operator or approver of release wave-9: not archived"
    with pytest.raises(ArchiveRefused) as running:
        archive(store, "wave-9", "OPS@contoso.com", "tidy", NOW)
    assert str(running.value) == ("release wave-9 is in-progress: only a finalized or aborted release may be archived")
    done = {n: replace(w, state=S.ABORTED, traffic_percent=0) for n, w in flight.workloads.items()}
    store.releases["wave-9"] = (flight.evolve(workloads=done), store.releases["wave-9"][1])
    assert archive(store, "wave-9", "ana@contoso.com", "wave closed", NOW) == ("aborted", True)
    entry = store.history["wave-9"][-1]
    assert entry.to_json() == {
        "at": "2026-03-02T12:00:00Z", "event_id": "archive:wave-9", "type": "archive", "outcome": "applied",
        "reason": "archived: hidden from `promote releases` and the board, kept in storage", "from": "aborted",
        "to": "aborted", "traffic_percent": None, "actor": "ana@contoso.com", "workload": None, "flight": None,
        "source": "promote-cli/archive", "actor_reason": "wave closed",
    }  # fmt: skip
    assert archive(store, "wave-9", "ops@contoso.com", "again", NOW) == ("aborted", False)
