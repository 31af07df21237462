"""When a wave ends (v3 §19): forecast on the releases page from each release's pace so far, and "no forecast
yet" with the reason when there is no basis."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shared.application.board.forecast import wave_forecast
from shared.application.board.summary import FINISHED
from shared.application.bootstrap import Stack
from shared.domain.plan import validate_plan
from tests.fakes import T0, FakeClock, event


def row(
    name: str, done: int, total: int, started: datetime | None, state: str = "in-progress", aborted: int = 0
) -> dict:
    by_state = [("aborted", aborted), ("promoted", done), ("testing", total - done - aborted)]
    return {
        "name": name,
        "state": state,
        "progress": {"promoted": done, "total": total},
        "by_state": [(s, n) for s, n in by_state if n],
        "started": started,
    }


def test_the_wave_ends_when_its_slowest_release_does_at_the_pace_each_kept_so_far():
    now = T0 + timedelta(hours=2)
    rows = [
        row("big", 4, 10, T0),  # 4 in 2 h: the 6 left take 3 h more
        row("small", 1, 2, T0 + timedelta(hours=1)),  # 1 in 1 h: 1 h more
        row("done", 5, 5, None, state="promoted"),
    ]
    assert wave_forecast(rows, FINISHED, now) == {
        "state": "forecast",
        "at": now + timedelta(hours=3),
        "remaining": 7,
        "why": None,
    }


def test_no_forecast_without_a_pace_and_the_reason_why():
    now = T0 + timedelta(hours=1)
    nothing = wave_forecast([row("a", 2, 4, T0), row("b", 0, 3, T0)], FINISHED, now)
    assert nothing["state"] == "none" and nothing["at"] is None
    assert nothing["why"] == "b has promoted nothing yet, so there is no pace to go by"
    unread = wave_forecast([row("a", 2, 4, None), row("b", 0, 3, T0)], FINISHED, now)
    assert unread["why"] == "a's start was not read here (open the release) (and 1 more)"
    finished = wave_forecast([row("a", 4, 4, None, state="promoted")], FINISHED, now)
    assert finished["state"] == "finished"


def test_a_pace_too_slow_for_any_date_is_no_forecast_not_a_broken_page():
    now = T0
    slow = wave_forecast([row("slow", 1, 5000, now - timedelta(days=800))], FINISHED, now)  # 4,999 x 800 days
    assert slow["state"] == "none" and slow["at"] is None
    assert slow["why"] == "slow at its pace so far (1 of 5000 in 800 days) would not end before the year 9999"


def test_aborted_workloads_are_not_left_to_do_and_a_rolled_back_release_has_no_pace():
    now = T0 + timedelta(hours=1)
    # 4 promoted in an hour, 5 aborted (they left the release): the 1 left takes a quarter of an hour
    shrunk = wave_forecast([row("a", 4, 10, T0, aborted=5)], FINISHED, now)
    assert shrunk["state"] == "forecast" and shrunk["remaining"] == 1
    assert shrunk["at"] == now + timedelta(minutes=15)
    # every workload promoted or rolled back: nothing moves until someone retries
    stopped = wave_forecast([row("a", 2, 4, T0), row("b", 3, 4, T0, state="rolled-back")], FINISHED, now)
    assert stopped == {
        "state": "none",
        "at": None,
        "remaining": None,
        "why": "b is rolled back: nothing moves until a workload is retried",
    }


def test_the_releases_page_shows_the_waves_forecast(settings, release_name):
    clock = FakeClock(datetime.now(UTC))  # the release records' `created_at` is the storage side's time
    stack = Stack(settings, clock=clock)
    wave = f"{release_name[:50]}-w"
    fast, slow = f"{release_name}-fast", f"{release_name}-slow"
    for name, n in ((fast, 4), (slow, 2)):
        stack.service.apply(validate_plan({"release": name, "model": "single-step", "wave": wave,
            "workloads": [{"name": f"w{i}", "assets": ["vm"]} for i in range(n)]}))  # fmt: skip

    def promote(release: str, workload: str) -> None:
        stack.service.handle(event("asset-replicated", release, workload, f"{release}-{workload}-r", asset="vm"))
        stack.service.handle(event("tests-passed", release, workload, f"{release}-{workload}-t"))

    clock.advance(3600)
    promote(fast, "w0")
    html = stack.board("/").handle("", {}).body.decode()
    said = re.search(rf'<p class="wave-forecast" id="wave-forecast-{wave}" data-forecast="none">(.*?)</p>', html)
    assert said and f"No forecast yet: {slow} has promoted nothing yet, so there is no pace to go by." == said.group(1)

    promote(fast, "w1")  # fast: 2 of 4 in an hour; slow: 1 of 2 in an hour
    promote(slow, "w0")
    html = stack.board("/").handle("", {}).body.decode()
    said = re.search(rf'id="wave-forecast-{wave}" data-forecast="forecast">Forecast: the wave ends about '
                     r'<time datetime="([^"]+)">', html)  # fmt: skip
    assert said, html.split(f'data-wave="{wave}"')[1][:1500]
    expected = clock.now() + timedelta(hours=1)  # both need one more hour at their pace
    assert abs((datetime.fromisoformat(said.group(1)) - expected).total_seconds()) < 120
    assert "(3 workloads left, each release at its pace so far)" in html
