"""The board's reads (table_store.BoardReads) on a real Azurite: every release from its record and its shards'
summaries as the store reads it, when its rows last changed, and a release's history with its release-level
entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.adapters.table_store import BoardReads
from shared.application.config import RELEASES_TABLE
from shared.domain.plan import validate_plan
from tests.fakes import event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
SKEW = timedelta(seconds=5)  # Azurite's clock is this machine's; allow for rounding of its timestamps


def staged(name: str) -> dict:
    return {
        "release": name,
        "model": "staged",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "revoke_access": {"provider": "local", "source_prefixes": ["10.50.0.0/24"]},
        "workloads": [{"name": "w0", "assets": ["vm-0"]}, {"name": "w1", "assets": ["vm-1"]}],
    }


def summaries(stack, names: list[str]) -> dict:
    return {
        r.name: (r, last)
        for r, last in BoardReads(stack.table(RELEASES_TABLE)).list_release_summaries()
        if r.name in names
    }


def test_every_release_reads_as_the_store_reads_it_with_its_last_change(stack, release_name):
    names = [f"{release_name}-b", f"{release_name}-c"]
    stray = {"PartitionKey": f"{release_name}-a", "RowKey": "s.f.0000", "state": "ready"}  # no release row
    before = datetime.now(UTC) - SKEW
    for name in names:
        stack.service.apply(validate_plan(staged(name)))
    busy = names[1]  # promoted and revoked: seq, processed, access_revoked and workload fields all move
    for w in ("w0", "w1"):
        stack.service.handle(event("asset-replicated", busy, w, f"rep-{busy}-{w}", asset=f"vm-{w[1]}"))
        stack.service.handle(event("tests-passed", busy, w, f"t-{busy}-{w}"))
    stack.service.handle(
        event("override", busy, None, f"approve-{busy}", action="approve", actor=APPROVER, reason="all tests passed")
    )
    stack.table(RELEASES_TABLE).upsert_entity(stray)
    try:
        found = summaries(stack, names + [stray["PartitionKey"]])
    finally:
        stack.table(RELEASES_TABLE).delete_entity(stray["PartitionKey"], stray["RowKey"])
    assert sorted(found) == names  # the partition without a release row is skipped, the releases after it kept
    after = datetime.now(UTC) + SKEW
    for name in names:
        release, last = found[name]
        stored = stack.store.get_release(name).release
        # the record's fields as the store reads them (ids seen: not the board's); each workload as its shard's
        # summary tells it: state, pause, share, flight
        assert release.evolve(workloads={}) == stored.evolve(seen=(), workloads={})
        assert [(w.name, w.state, w.paused, w.traffic_percent, w.flight) for w in release.workloads.values()] == [
            (w.name, w.state, w.paused, w.traffic_percent, w.flight) for w in stored.workloads.values()
        ]
        assert last is not None and last.tzinfo is not None and before <= last <= after
    revoked, last = found[busy]
    assert revoked.access_revoked and revoked.processed > 0
    assert {w.state for w in revoked.workloads.values()} == {"promoted"}
    assert found[names[0]][1] < last  # the busy release changed last


def test_a_releases_history_holds_the_workloads_and_the_release_level_entries_in_order(stack, release_name):
    stack.service.apply(validate_plan(staged(release_name)))
    stack.service.handle(
        event("override", release_name, None, f"pause-{release_name}", action="pause", actor=OPERATOR, reason="freeze")
    )
    stack.service.handle(event("asset-replicated", release_name, "w1", f"rep-{release_name}", asset="vm-1"))
    stack.service.handle(
        event("override", release_name, None, f"resume-{release_name}", action="resume", actor=OPERATOR, reason="go")
    )
    stack.service.handle(
        event("override", release_name, None, f"bad-{release_name}", action="frobnicate", actor=OPERATOR)
    )  # invalid, of no workload: a release-level entry
    every = stack.store.list_history(release_name)
    assert any(e.workload is None for e in every) and any(e.workload for e in every)
    assert [e.at for e in every] == sorted(e.at for e in every)
    reads = BoardReads(stack.table(RELEASES_TABLE))
    assert reads.newest(release_name, ["w0", "w1"], 1000) == every[::-1]
    assert reads.newest(release_name, ["w1"], 1000) == [e for e in every if e.workload in ("w1", None)][::-1]
    assert reads.newest(release_name, ["w0", "w1"], 2) == every[::-1][:2]
    older = [e for e in every if e.at < every[-1].at]
    assert reads.newest(release_name, ["w0", "w1"], 1000, every[-1].at) == older[::-1]


def test_the_board_never_asks_table_storage_for_more_than_its_1000_entities_a_page(settings, stack, release_name):
    """Azure answers 400 to a $top above 1,000 (Azurite accepts it): every query the board's reads send is
    checked here."""
    from urllib.parse import parse_qs, urlparse

    from shared.application.bootstrap import Stack

    stack.service.apply(validate_plan(staged(release_name)))
    urls: list[str] = []
    counted = Stack(settings, request_hook=lambda r: urls.append(r.http_request.url))
    reads = BoardReads(counted.table(RELEASES_TABLE))
    urls.clear()
    reads.list_release_summaries()
    reads.newest(release_name, ["w0", "w1"], 300)
    tops = [int(v) for url in urls for v in parse_qs(urlparse(url).query).get("$top", [])]
    assert len(urls) == 4 and all(0 < top <= 1000 for top in tops), urls
