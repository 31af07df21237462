"""The board's release page for large releases (contract §14) on a real Azurite with small shards: workloads
a page at a time, filtered by state, the release's progress from its summaries, and the same requests for a
release of 60 or 120 workloads."""

from __future__ import annotations

import dataclasses
import re

import pytest

from shared.application.board import PAGE_SIZE
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.domain.plan import validate_plan
from tests.fakes import event


@pytest.fixture
def sharded(settings):
    return dataclasses.replace(settings, shard_size=5)


def apply(stack: Stack, name: str, n: int) -> None:
    workloads = [{"name": f"w{i:03d}", "assets": ["vm"]} for i in range(n)]
    stack.service.apply(validate_plan({"release": name, "model": "single-step", "workloads": workloads}))


def promote(stack: Stack, name: str, workloads: list[str]) -> None:
    for w in workloads:
        stack.service.handle(event("asset-replicated", name, w, f"a-{w}", asset="vm"))
        stack.service.handle(event("tests-passed", name, w, f"t-{w}"))


def counted(settings, path: str, query: dict | None = None) -> tuple[int, str, int]:
    requests: list[str] = []
    stack = Stack(settings, request_hook=lambda r: requests.append(r.http_request.url))
    stack.table(RELEASES_TABLE)
    requests.clear()
    page = stack.board("/").handle(path, query or {})
    return page.status, page.body.decode(), len(requests)


def shown(html: str) -> list[str]:
    return re.findall(r'<tr data-workload="([^"]+)"', html)


@pytest.mark.parametrize("n", [60, 120])
def test_a_release_page_reads_the_same_whatever_the_number_of_workloads(sharded, release_name, n):
    stack = Stack(sharded)
    apply(stack, release_name, n)
    status, html, requests = counted(sharded, f"releases/{release_name}")
    assert status == 200 and shown(html) == [f"w{i:03d}" for i in range(PAGE_SIZE)]
    # the summaries, the page's shards (adjacent: one range), one history range a workload and the release's own
    # ... the halt of everything (the banner) and the routing progress of its last move (v3 §15: a point read)
    assert requests == 1 + 1 + PAGE_SIZE + 1 + 1 + 1
    assert f"1-{PAGE_SIZE} of {n}, page 1 of {n // PAGE_SIZE + (n % PAGE_SIZE > 0)}" in html


def test_workloads_filtered_by_state_a_page_at_a_time_with_the_progress(sharded, release_name):
    stack = Stack(sharded)
    apply(stack, release_name, 120)
    done = [f"w{i:03d}" for i in range(0, 120, 2)]  # 60 promoted, every other one
    promote(stack, release_name, done)
    status, html, _ = counted(sharded, f"releases/{release_name}", {"state": ["promoted"], "page": ["2"]})
    assert status == 200 and shown(html) == done[PAGE_SIZE:]
    assert f"{PAGE_SIZE + 1}-60 of 60 in state promoted, page 2 of 2" in html
    assert '<strong id="promoted-count">60</strong> of <strong id="total-count">120</strong>' in html
    assert 'data-state="promoted" data-count="60"' in html and 'data-state="replicating" data-count="60"' in html
    assert 'rel="prev" href="/releases/' + release_name + '?state=promoted&amp;page=1"' in html
    # the history and timelines are the page's workloads' only
    assert f'id="timeline-{done[PAGE_SIZE]}"' in html and 'id="timeline-w000"' not in html
    _, index, _ = counted(sharded, "")
    assert re.search(rf'data-release="{release_name}".*?60 / 120', index, re.S)


@pytest.mark.parametrize(
    "query, says",
    [({"state": ["nope"]}, "state must be one of"), ({"page": ["3"]}, "page must be a number from 1 to 2")],
)
def test_a_bad_state_or_page_is_a_clear_error(sharded, release_name, query, says):
    stack = Stack(sharded)
    apply(stack, release_name, 60)
    status, html, _ = counted(sharded, f"releases/{release_name}", query)
    assert status == 400 and says in html
