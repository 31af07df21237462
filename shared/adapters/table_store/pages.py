"""Bounded reads of a large release for views (status, the board), read only: the release as its shards'
summaries tell it (ONE query), and a page of its workloads in full (one query per run of adjacent shards the
page covers), whatever the number of workloads.

A page's rows are read as every reader reads them (layout.Read): a shard whose head holds a committed
release-wide decision its rows do not show yet is shown as that decision left it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from azure.data.tables import TableClient

from shared.adapters.properties import quote, when
from shared.adapters.table_store.layout import Layout, Read
from shared.adapters.table_store.rows import RELEASE, RELEASE_ROW
from shared.adapters.table_store.shards import Summary, head_row, summary_workloads
from shared.domain.errors import UnknownRelease
from shared.domain.model import Release, Tally, release_state


@dataclass(frozen=True)
class Overview:
    """A release from its record and its shards' summaries: every workload's state, pause, share and flight."""

    release: Release  # its workloads as the summaries tell them (no assets, no times)
    shard_of: dict[str, int]  # workload -> the shard that holds it
    summaries: dict[int, Summary]
    record: Mapping[str, Any]
    last_change: datetime | None

    @property
    def tally(self) -> Tally:
        return sum((s.facts.tally for s in self.summaries.values()), Tally())

    @property
    def state(self):
        plan = self.release.plan
        return release_state(plan.model, plan.approval_mode, self.tally)


def overview_of(record: Mapping[str, Any], rows: list) -> Overview:
    """The overview from a release's record and its summary rows (`rows`: the record too, read together: when
    any of them last changed is the release's last change)."""
    layout = Layout.of(record)
    summaries = Read.summaries_of(record, [r for r in rows if r["RowKey"].startswith("s.f.")])
    told = {w.name: w for k in sorted(summaries) for w in summary_workloads(summaries[k].items)}
    fields = {**RELEASE.read(record), "seen": ()}  # the ids seen are no view's
    release = Release(
        plan=layout.plan,
        workloads={w.name: told[w.name] for w in layout.plan.workloads if w.name in told},
        **fields,
    )
    stamps = [r.metadata.get("timestamp") for r in rows if r.metadata.get("timestamp")]
    return Overview(release, layout.index, summaries, record, when(max(stamps)) if stamps else None)


class PageReads:
    def __init__(self, table: TableClient):
        self.table = table

    def _query(self, name: str, low: str, high: str) -> list:
        query = f"PartitionKey eq '{quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
        return list(self.table.query_entities(query, results_per_page=1000))

    def overview(self, name: str) -> Overview:
        """ONE query: the release record and every shard's summary. UnknownRelease if it was never applied."""
        rows = self._query(name, RELEASE_ROW, "s/")
        record = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if record is None:
            raise UnknownRelease(name)
        return overview_of(record, rows)

    def workloads(self, overview: Overview, names: list[str]) -> Release:
        """The release with these workloads in full (a partial release unless they are all of them): one query
        per run of adjacent shards that holds them."""
        release = overview.release
        name, layout = release.name, Layout.of(overview.record)
        shards = sorted({overview.shard_of[n] for n in names})
        rows: list = []
        for _, run in groupby(enumerate(shards), key=lambda pair: pair[1] - pair[0]):
            ks = [k for _, k in run]
            rows += self._query(name, head_row(ks[0]), f"{head_row(ks[-1])}/")
        derived = Read.of_rows(name, layout, rows, record=overview.record).derived()
        wanted = set(names)
        workloads = {w.name: derived[w.name] for w in layout.plan.workloads if w.name in wanted and w.name in derived}
        return release.evolve(workloads=workloads, others=len(layout.plan.workloads) - len(workloads))
