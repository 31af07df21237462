"""The board's pages over HTTP: bounded reads whatever the history length, clear errors for bad input,
and the security headers."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from bench.history import T0, add_history
from shared.application.board import WINDOW
from shared.application.board.summary import CHECKED_RELEASES, under_way
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.application.gates_view import Counted
from shared.domain.plan import validate_plan


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def counted_page(settings, path: str) -> tuple[int, str, int]:
    """Render a page on a fresh stack that counts its storage requests."""
    requests: list[str] = []
    stack = Stack(settings, request_hook=lambda r: requests.append(r.http_request.url))
    stack.table(RELEASES_TABLE)  # the one-off create-if-missing is not part of a page
    requests.clear()
    page = stack.board("/").handle(path, {})
    return page.status, page.body.decode(), len(requests)


def test_a_release_page_costs_the_same_requests_for_10_or_1200_history_entries(stack, settings, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "workloads": [{"name": "a", "assets": ["vm"]}, {"name": "b", "assets": ["vm"]}],
            }
        )
    )
    table = stack.table(RELEASES_TABLE)
    seq = add_history(table, release_name, ["a", "b"], 10, 0)
    status, _, short = counted_page(settings, f"releases/{release_name}")
    assert status == 200
    add_history(table, release_name, ["a", "b"], 1200, seq)
    status, html, long = counted_page(settings, f"releases/{release_name}")
    # the summaries, the page's shard, one range per workload and the release-level one; the halt of everything
    # (one point read: the banner on every page, v3 §19); the routing progress (one point read, v3 §15)
    assert status == 200 and long == short == 1 + 1 + 2 + 1 + 1 + 1
    history = html.split('<table class="history">')[1]
    assert history.count('data-type="flight-healthy"') == WINDOW  # one window of entries, newest first
    assert f"bulk entry {seq + 1199}<" in history and f"bulk entry {seq + 1200 - WINDOW - 1}<" not in history
    oldest_shown = int(T0.timestamp() * 1000) + (seq + 1200 - WINDOW) * 1000  # bulk entry n is at T0 + n seconds
    assert f'href="/releases/{release_name}?before={oldest_shown}#history">Older entries' in history


def test_the_index_is_one_query_for_every_release(stack, settings, release_name):
    stack.service.apply(
        validate_plan({"release": release_name, "model": "single-step", "workloads": [{"name": "a", "assets": ["vm"]}]})
    )
    status, html, requests = counted_page(settings, "")
    # one query for every release, one point read of the halt of everything (v3 §19), and for a release under
    # way its record and its open workloads' shard (their deadlines: board/summary.py); the session's Azurite
    # holds other tests' releases too
    active = sum(1 for r, _ in stack.board("/").reads.list_release_summaries() if under_way(Counted.of(r)))
    assert (
        status == 200
        and requests == 1 + 1 + 2 * min(active, CHECKED_RELEASES)
        and f'data-release="{release_name}"' in html
    )
    assert active >= 1


def test_older_pages_and_filters_over_http(board, stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "workloads": [{"name": "a", "assets": ["vm"]}, {"name": "b", "assets": ["vm"]}],
            }
        )
    )
    seq = add_history(stack.table(RELEASES_TABLE), release_name, ["a", "b"], WINDOW + 20, 0)
    before = int(T0.timestamp() * 1000) + (seq - WINDOW) * 1000  # the oldest entry of the newest window
    status, html, _ = get(f"{board}/releases/{release_name}?before={before}&workload=b")
    assert status == 200
    history = html.split('<table class="history">')[1]
    assert history.count('data-type="flight-healthy"') == 10  # 20 entries before the newest window, half of them b
    assert "bulk entry 19<" in history and "bulk entry 18<" not in history and "Older entries" not in history


@pytest.mark.parametrize(
    "path, status, says",
    [
        ("/releases/Bad_Name", 400, "is not a release name"),
        ("/releases/never-applied-here", 404, "never applied"),
        ("/releases/{r}?workload=nope", 400, "is not part of release"),
        ("/releases/{r}?outcome=lost", 400, "outcome must be one of"),
        ("/releases/{r}?before=-1", 400, "before must be"),
        ("/releases/{r}?before=99999999999999", 400, "before must be"),
        ("/nothing/here", 404, "no page at"),
    ],
)
def test_bad_input_gets_a_clear_error_page(board, stack, release_name, path, status, says):
    stack.service.apply(
        validate_plan({"release": release_name, "model": "single-step", "workloads": [{"name": "a", "assets": ["vm"]}]})
    )
    code, html, headers = get(board + path.replace("{r}", release_name))
    assert code == status and says in html
    assert headers["Content-Type"].startswith("text/html")


def test_pages_carry_security_headers_and_escape_what_they_show(board, stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "operators": ["ops@x.com"],
                "workloads": [{"name": "a", "assets": ["<script>alert(1)</script>"]}],
            }
        )
    )
    code, html, headers = get(f"{board}/releases/{release_name}")
    assert code == 200 and "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "script-src 'self'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    code, js, headers = get(f"{board}/static/board.js")
    assert code == 200 and headers["Content-Type"].startswith("text/javascript") and "DOMParser" in js
