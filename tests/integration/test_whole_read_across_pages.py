"""A whole read of a large release spans several pages of a query (Table Storage returns at most 1,000 entities a
page, and may end a page sooner, after 5 seconds of work), and every page is a request of its own: a release-wide
decision committed between two pages must not show as a release half moved. The table below pages where the
test says, exactly as a continuation does (the next page starts after the last key returned)."""

from __future__ import annotations

import dataclasses

import pytest

from shared.adapters.table_store import TableReleaseStore
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.plan import validate_plan
from tests.fakes import event

OPERATOR = "ops@contoso.com"
NAMES = [f"w{i}" for i in range(6)]  # three shards of two


class PagedTable:
    """A TableClient whose queries return their first `first_page` entities, then run `between` (another host's
    commit), then go on from the last key returned, as the next page of a continuation would."""

    def __init__(self, inner, first_page: int, between):
        self.inner, self.first_page, self.between = inner, first_page, between
        self.pages = 0

    def query_entities(self, query_filter: str, **kwargs):
        rows = list(self.inner.query_entities(query_filter, **kwargs))
        if len(rows) <= self.first_page or self.between is None:
            return rows
        first = rows[: self.first_page]
        between, self.between = self.between, None  # once
        between()
        last = first[-1]["RowKey"].replace("'", "''")
        rest = list(self.inner.query_entities(f"{query_filter} and RowKey gt '{last}'", **kwargs))
        self.pages += 2
        return first + rest

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("first_page", [4, 7, 10])  # the page ends among the summaries, in shard 0, in shard 1
def test_a_release_wide_decision_committed_between_two_pages_of_a_whole_read_is_seen_whole_or_not_at_all(
    settings, release_name, first_page
):
    sharded = dataclasses.replace(settings, shard_size=2)
    writer = Stack(sharded)
    writer.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "operators": [OPERATOR],
                "workloads": [{"name": n, "assets": [f"vm-{n}"]} for n in NAMES],
            }
        )
    )

    def pause_all() -> None:
        result = writer.service.handle(
            event("override", release_name, None, "pause-all", action="pause", actor=OPERATOR, reason="CAB freeze")
        )
        assert result.outcome == "applied" and len(result.entries) == len(NAMES)

    table = PagedTable(Stack(sharded).table(RELEASES_TABLE), first_page, pause_all)
    reader = TableReleaseStore(table, shard_size=2)  # type: ignore[arg-type]
    release = reader.get_release(release_name).release
    assert table.pages == 2  # the decision was committed between the two pages
    paused = {w.name: w.paused for w in release.workloads.values()}
    assert set(paused.values()) in ({True}, {False}), f"a release half paused: {paused}"
