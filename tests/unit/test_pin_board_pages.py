"""The board's pages rendered over the fakes, pinned whole (tests/unit/pin_board/*.html, written out once and
read by eye): the releases index (waves, totals, forecasts, holds, overdue, attention, halts), a flight
release's page (gates, deadlines, the judge's health panel, timelines, history) and a staged one's; every
error page's status and words; the routes, static files, security headers and the report pages."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from shared.domain.model import Release, WorkloadState, new_release
from shared.domain.plan import validate_plan
from tests.unit.board_harness import board
from tests.unit.test_pin_board_timeline import ENTRIES
from tests.unit.test_pin_status import NOW, flight_release, judged, staged_release

PINNED = Path(__file__).parent / "pin_board"
S = WorkloadState


class Judge:
    def __init__(self, records: dict):
        self.records = records

    def load(self, name: str) -> dict:
        return self.records


def app():
    """wave-9 (flight, wave w-b) with the judge's records and api's history; wave-8 (staged, halted, no wave);
    alpha-1 (flight, wave w-a, every workload promoted)."""
    flight = flight_release()
    flight = flight.evolve(plan=flight.plan.model_copy(update={"wave": "w-b"}))
    staged = staged_release()
    staged = staged.evolve(
        plan=staged.plan.model_copy(update={"approval": "manual", "release": "wave-8"}),
        workloads={**staged.workloads, "crm": replace(staged.workloads["crm"], approvals=[])},
    )
    done = flight_release()
    done = done.evolve(
        plan=done.plan.model_copy(update={"wave": "w-a", "release": "alpha-1"}),
        workloads={n: replace(w, state=S.PROMOTED, traffic_percent=100) for n, w in done.workloads.items()},
    )
    history = {"wave-9": [replace(e, workload="api") for e in ENTRIES]}
    return board([flight, staged, done], history, NOW, judge=Judge(judged(flight)))


def lines(body: bytes) -> list[str]:
    return body.decode().split("\n")


@pytest.mark.parametrize(
    ("path", "pinned"),
    [("", "index.html"), ("releases/wave-9", "release_flight.html"), ("releases/wave-8", "release_staged.html")],
)
def test_a_page_is_pinned_whole(path, pinned):
    page = app().handle(path, {})
    assert (page.status, page.content_type) == (200, "text/html; charset=utf-8")
    assert lines(page.body) == (PINNED / pinned).read_text().split("\n")


def test_every_page_carries_the_security_headers():
    assert app().handle("", {}).headers == {
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def test_the_static_files():
    board_app = app()
    js, css = board_app.handle("static/board.js", {}), board_app.handle("/static/board.css/", {})
    assert (js.status, js.content_type) == (200, "text/javascript; charset=utf-8")
    assert (css.status, css.content_type) == (200, "text/css; charset=utf-8")
    templates = Path(__file__).parents[2] / "shared/application/board/templates"
    assert js.body == (templates / "board.js").read_bytes() and css.body == (templates / "board.css").read_bytes()


def error(page) -> tuple[int, str]:
    found = re.search(r'<p role="alert">(.*?)</p>', page.body.decode(), re.S)
    assert found, page.body.decode()
    return page.status, found.group(1)


@pytest.mark.parametrize(
    ("path", "query", "status", "says"),
    [
        ("nowhere", {}, 404, "no page at /nowhere"),
        ("releases/wave-9/x/y/z", {}, 404, "no page at /releases/wave-9/x/y/z"),
        ("releases/Bad Name!", {}, 400, "&#39;Bad Name!&#39; is not a release name"),
        ("releases/nope", {}, 404, "release &#39;nope&#39; was never applied"),
        ("releases/wave-9", {"workload": ["zz"]}, 400, "workload &#39;zz&#39; is not part of release wave-9"),
        ("releases/wave-9", {"outcome": ["won"]}, 400, "outcome must be one of applied, duplicate, ignored, rejected"),
        ("releases/wave-9", {"state": ["done"]}, 400,
         "state must be one of replicating, testing, ready, flighting, promoted, rolled-back, aborted, finalized"),
        ("releases/wave-9", {"q": ["x" * 65]}, 400, "the workload filter is at most 64 characters"),
        ("releases/wave-9", {"before": ["0"]}, 400,
         "before must be a time in this release&#39;s history (milliseconds since 1970)"),
        ("releases/wave-9", {"before": ["10000000000000"]}, 400,
         "before must be a time in this release&#39;s history (milliseconds since 1970)"),
        ("releases/wave-9", {"before": ["1e5"]}, 400,
         "before must be a time in this release&#39;s history (milliseconds since 1970)"),
        ("releases/wave-9", {"page": ["2"]}, 400, "page must be a number from 1 to 1"),
        ("releases/wave-9", {"page": ["0"]}, 400, "page must be a number from 1 to 1"),
        ("releases/wave-9/report/x", {}, 404, "no page at /releases/wave-9/report/x"),
        ("releases/nope/report", {}, 404, "release &#39;nope&#39; was never applied"),
        ("waves/w-z/report", {}, 404, "no release names wave &#39;w-z&#39; in its plan"),
        ("waves/Bad Name!/report", {}, 400, "&#39;Bad Name!&#39; is not a wave name"),
        ("releases/wave-9/act", {"action": ["dance"]}, 400,
         "action must be one of pause, resume, approve, advance, rollback, abort, retry, finalize, halt, unhalt, "
         "rehearse"),
        ("releases/wave-9/act", {"action": ["pause"], "workload": ["zz"]}, 404,
         "workload &#39;zz&#39; is not part of release wave-9"),
        ("releases/wave-9/outcome/a b", {}, 400, "&#39;a b&#39; is not an action&#39;s id"),
        ("releases/wave-9/outcome/" + "a" * 129, {}, 400, f"&#39;{'a' * 129}&#39; is not an action&#39;s id"),
        ("releases/nope/outcome/abc", {}, 404, "release &#39;nope&#39; was never applied"),
        ("releases/wave-9/outcome/abc", {"workload": ["zz"]}, 400,
         "workload &#39;zz&#39; is not part of release wave-9"),
    ],
)  # fmt: skip
def test_each_error_page_says_what_is_wrong(path, query, status, says):
    assert error(app().handle(path, query)) == (status, says)


def test_the_filter_length_and_the_history_cutoff_at_their_bounds():
    board_app = app()
    assert board_app.handle("releases/wave-9", {"q": ["a" * 64]}).status == 200
    assert board_app.handle("releases/wave-9", {"before": ["1"]}).status == 200
    assert board_app.handle("releases/wave-9", {"before": ["9999999999999"]}).status == 200
    assert board_app.handle("releases/wave-9/outcome/" + "a" * 128, {}).status == 200


def test_a_post_anywhere_but_an_action_is_refused():
    page = app().post("releases/wave-9", b"", "text/plain", None, {}, "http://x/releases/wave-9", print)
    assert error(page) == (405, "no action at /releases/wave-9: only releases/&lt;name&gt;/act takes a POST")


def test_the_report_pages_of_a_release_and_of_a_wave():
    board_app = app()
    release = board_app.handle("releases/wave-9/report", {})
    wave = board_app.handle("waves/w-b/report", {})
    assert release.status == wave.status == 200
    assert "<title>Report release wave-9 · promote board</title>" in release.body.decode()
    assert "<title>Report wave w-b · promote board</title>" in wave.body.decode()
    assert '<h2 id="wave-report-h">Wave w-b</h2>' in wave.body.decode()
    assert '<section class="report" id="report-wave-9"' in wave.body.decode()
    assert '<section class="report" id="report-alpha-1"' not in wave.body.decode()  # of wave w-a
    crumbs = r'<nav aria-label="Board">.*?</nav>'
    assert re.findall(crumbs, release.body.decode()) == [
        '<nav aria-label="Board"><a href="/">All releases</a> › <a href="/releases/wave-9">wave-9</a> › <a '
        'href="/releases/wave-9/report" aria-current="page">report</a></nav>'
    ]
    assert re.findall(crumbs, wave.body.decode()) == [
        '<nav aria-label="Board"><a href="/">All releases</a> › <a href="/waves/w-b/report" aria-current="page">'
        "report</a></nav>"
    ]
    html = release.body.decode()
    assert html[html.index("<main") : html.index("<table")].split("\n") == [
        '<main id="main"  tabindex="-1">',
        "<h1>Report: release wave-9</h1>",
        '<p class="legend">Computed from the whole history when the page is loaded (it does not update itself); the '
        "same figures as <code>promote report</code>.</p>",
        '<section class="report" id="report-wave-9" aria-labelledby="report-h-wave-9">',
        '<h2 id="report-h-wave-9">Report: wave-9</h2>',
        '<p class="facts"><span>state <strong>in-progress</strong></span>',  # the release's state as stored
        "<span>from <strong>-</strong></span>",
        "<span>to <strong>(not done)</strong></span>",
        '<span>duration <strong class="report-duration">-</strong></span>',
        "<span>changes <strong>1</strong></span>",
        '<span>rollbacks <strong class="report-rollbacks">1</strong></span>',
        '<span>change failure rate <strong class="report-cfr">100%</strong></span></p>',
        "",
        "",
    ]
    assert 'data-live="1"' not in html and "refresh" not in html  # a report is never refreshed by itself


def overdue_cells(page) -> dict[str, str]:
    html = page.body.decode()
    rows = re.findall(r'<tr data-release="([^"]+)">(.*?)</tr>', html, re.S)
    return {name: re.search(r'<td class="rel-overdue[^"]*"[^>]*>(.*?)</td>', row, re.S).group(1) for name, row in rows}


def test_the_index_reads_the_deadlines_of_the_twenty_releases_changed_last():
    base = flight_release()
    releases = [base.evolve(plan=base.plan.model_copy(update={"release": f"r{i:02d}"})) for i in range(21)]
    cells = overdue_cells(board(releases, {}, NOW).handle("", {}))
    assert list(cells) == [f"r{i:02d}" for i in range(21)]  # most recently changed first
    assert {cells[f"r{i:02d}"] for i in range(20)} == {"1 overdue: api (since 2026-03-02 11:40:30Z)"}
    assert cells["r20"] == "not read here (only the 20 most recently changed releases' are): open the release"


def overdue_flight(n: int) -> Release:
    """A flight release of `n` workloads, each past its verdict deadline as flight_release's api is."""
    base = flight_release()
    plan = validate_plan(
        {**base.plan.model_dump(mode="json", exclude_none=True, by_alias=True),
         "workloads": [{"name": f"w{i:02d}", "assets": ["vm"]} for i in range(n)]}
    )  # fmt: skip
    api = base.workloads["api"]
    return new_release(plan, NOW).evolve(
        workloads={f"w{i:02d}": replace(api, name=f"w{i:02d}", assets={"vm": True}) for i in range(n)}
    )


def test_a_release_with_more_open_workloads_than_are_read_says_at_least():
    late = "since 2026-03-02 11:40:30Z"
    cells = overdue_cells(board([overdue_flight(51)], {}, NOW).handle("", {}))
    assert cells["wave-9"] == f"at least 50 overdue: {', '.join(f'w{i:02d} ({late})' for i in range(5))}, …"
    cells = overdue_cells(board([overdue_flight(50)], {}, NOW).handle("", {}))
    assert cells["wave-9"] == f"50 overdue: {', '.join(f'w{i:02d} ({late})' for i in range(5))}, …"
    cells = overdue_cells(board([overdue_flight(5)], {}, NOW).handle("", {}))
    assert cells["wave-9"] == f"5 overdue: {', '.join(f'w{i:02d} ({late})' for i in range(5))}"


def banner(page) -> list[str]:
    found = re.search(r'<section class="halt-banner".*?</section>', page.body.decode(), re.S)
    return found.group(0).split("\n") if found else []


def test_a_halt_of_everything_shows_on_every_page_first_and_a_store_that_cannot_say_shows_none():
    board_app = app()
    board_app.store.set_halt({"by": "ops@contoso.com", "reason": "incident 7", "at": "2026-03-02T11:00:00Z"})
    assert banner(board_app.handle("releases/wave-8", {})) == [
        '<section class="halt-banner" id="halt-banner" role="alert" aria-label="Halted">',
        '<p data-halted="*"><strong>Everything is halted</strong>',
        'by <span class="halted-by">ops@contoso.com</span> at <time>2026-03-02T11:00:00Z</time>: <q '
        'class="halted-reason">incident 7</q>.',
        "Every active release is paused, and new releases start paused, until an approver unhalts (<code>promote "
        "unhalt</code>).</p>",
        '<p data-halted="wave-8"><strong>Release <a href="/releases/wave-8">wave-8</a> is halted</strong>',
        'by <span class="halted-by">ops@contoso.com</span> at <time>2026-03-02T11:30:00Z</time>: <q '
        'class="halted-reason">incident 42</q>.',
        "Its workloads stay paused where they stand until an approver unhalts it.</p>",
        "</section>",
    ]
    assert len(banner(board_app.handle("releases/wave-9", {}))) == 5  # wave-9 is not halted itself

    def away():
        raise ConnectionError("storage away")

    board_app.store.get_halt = away
    assert banner(board_app.handle("releases/wave-9", {})) == []


class Progress:
    def __init__(self, found):
        self.found = found

    def read(self, release: str):
        return self.found


def test_a_release_page_shows_its_routing_move():
    from datetime import timedelta

    from shared.domain.progress import RoutingProgress

    board_app = app()
    started = NOW - timedelta(seconds=30)
    board_app.progress = Progress(RoutingProgress(10, 20, 3, 6, started, NOW - timedelta(seconds=5), 60.0))
    html = board_app.handle("releases/wave-9", {}).body.decode()
    assert '<p id="routing-progress">routing: 10 / 20 workloads (3 / 6 Azure writes), ETA 30 s</p>' in html
    board_app.progress = Progress(None)
    assert 'id="routing-progress"' not in board_app.handle("releases/wave-9", {}).body.decode()


def test_a_waves_forecast_from_when_its_releases_were_applied():
    flight = flight_release()
    w = flight.workloads
    moving = flight.evolve(
        plan=flight.plan.model_copy(update={"wave": "w-c"}),
        workloads={**w, "web": replace(w["web"], state=S.PROMOTED, traffic_percent=100),
                   "db": replace(w["db"], state=S.PROMOTED, traffic_percent=100)},
    )  # fmt: skip
    html = board([moving], {}, NOW).handle("", {}).body.decode()
    # applied two hours ago (the harness's record), 2 of 5 promoted: 3 left at 1 an hour
    assert re.findall(r'<p class="wave-forecast".*?</p>', html) == [
        '<p class="wave-forecast" id="wave-forecast-w-c" data-forecast="forecast">Forecast: the wave ends about '
        '<time datetime="2026-03-02T15:00:00+00:00">2026-03-02 15:00:00Z</time> (3 workloads left, each release at '
        "its pace so far).</p>"
    ]
