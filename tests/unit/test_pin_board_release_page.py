"""A release's board page (board/release_page.py) beyond the pinned pages: each rehearsal as the Rehearsal
column shows it (v3 §16), the health panel without the judge's records and each check's bounds, a long page
opening only the timelines that need a look, the workload pages' links and the history's older and newest
pages."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from shared.application.board.release_page import _check
from shared.domain.health import CheckResult
from shared.domain.model import HistoryEntry, Release, WorkloadState, new_release
from shared.domain.plan import validate_plan
from tests.unit.board_harness import board
from tests.unit.test_pin_status import NOW, flight_release

S = WorkloadState
SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-mig/providers/Microsoft.RecoveryServices/vaults/vault-mig"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test"


def migrated() -> Release:
    plan = validate_plan(
        {"release": "mig-1", "model": "single-step", "approvers": ["ana@contoso.com"], "operators": ["ops@contoso.com"],
         "source": {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": True},
         "rehearsal": {"network": VNET, "required": True, "max_age": "14d", "cleanup_after": "4h"},
         "workloads": [{"name": f"w{i}", "assets": [f"a{i}"]} for i in range(4)]}
    )  # fmt: skip
    release = new_release(plan, NOW - timedelta(hours=3))
    w = release.workloads
    w["w1"] = replace(w["w1"], rehearsal_hash="df7947d755825b5a", rehearsal_at=NOW - timedelta(hours=1),
                      rehearsal_by="ana@contoso.com", test_migration="succeeded", rehearsal_verdict="passed",
                      rehearsal_note="suite smoke run 8")  # fmt: skip
    w["w2"] = replace(w["w2"], rehearsal_hash="oldhash", rehearsal_at=NOW - timedelta(hours=2),
                      rehearsal_by="ops@contoso.com", rehearsal_verdict="failed",
                      rehearsal_note="smoke failed")  # fmt: skip
    w["w3"] = replace(w["w3"], rehearsal_hash="9c9fd29c3dd27ac9", rehearsal_at=NOW - timedelta(minutes=5),
                      test_migration="running")  # fmt: skip
    return release.evolve(workloads=w)


def test_each_rehearsal_in_the_rehearsal_column():
    html = board([migrated()], {}, NOW).handle("releases/mig-1", {}).body.decode()
    assert '<th scope="col">Rehearsal</th>' in html
    assert re.findall(r'<td class="wl-rehearsal".*?</td>', html, re.S) == [
        '<td class="wl-rehearsal" data-rehearsal="none">none yet</td>',
        '<td class="wl-rehearsal" data-rehearsal="passed"><strong class="rehearsal-passed">passed</strong> <time '
        'datetime="2026-03-02T11:00:00+00:00">2026-03-02 11:00:00Z</time> by ana@contoso.com<br>\n<span '
        'class="plan-match" data-match="yes">of this plan (df7947d755825b5a)</span><br><span '
        'class="rehearsal-note">suite smoke run 8</span></td>',
        '<td class="wl-rehearsal" data-rehearsal="failed"><strong class="rehearsal-failed">failed</strong> <time '
        'datetime="2026-03-02T10:00:00+00:00">2026-03-02 10:00:00Z</time> by ops@contoso.com<br>\n<span '
        'class="plan-match overdue" data-match="no">of another plan (oldhash; now 232fc41b632fcf85)</span><br><span '
        'class="rehearsal-note">smoke failed</span></td>',
        '<td class="wl-rehearsal" data-rehearsal="running"><strong class="rehearsal-running">running</strong> <time '
        'datetime="2026-03-02T11:55:00+00:00">2026-03-02 11:55:00Z</time><br>\n<span class="plan-match" '
        'data-match="yes">of this plan (9c9fd29c3dd27ac9)</span></td>',
    ]
    plain = board([flight_release()], {}, NOW).handle("releases/wave-9", {}).body.decode()
    assert "Rehearsal</th>" not in plain and "wl-rehearsal" not in plain


def test_the_health_panel_without_the_judges_records_says_so():
    html = board([flight_release()], {}, NOW).handle("releases/wave-9", {}).body.decode()
    assert (
        '<p class="read-only">Not shown: the judge&#39;s records are not read by this board; '
        "<code>promote status --release wave-9</code> shows them.</p>"
    ) in html
    grounded = flight_release()
    landed = {n: replace(w, state=S.PROMOTED) if w.state == S.FLIGHTING else w for n, w in grounded.workloads.items()}
    html = board([grounded.evolve(workloads=landed)], {}, NOW).handle("releases/wave-9", {}).body.decode()
    assert 'id="sec-health"' not in html  # no workload of the page flighting: no panel


def test_a_checks_value_bounds_and_samples_in_the_panel():
    both = CheckResult(name="lat", value=123.456789, samples=None, max=250.0, min=0.5, min_samples=10, passed=False,
                       outcome="inconclusive", in_a_row=3, error="too few samples")  # fmt: skip
    assert _check(both) == {
        "name": "lat", "value": "123.5", "threshold": "≤ 250 and ≥ 0.5", "samples": "-", "outcome": "inconclusive",
        "in_a_row": 3, "why": "too few samples",
    }  # fmt: skip
    bare = CheckResult(name="x", value=None, samples=7, min_samples=1, passed=True, outcome="passed")
    assert _check(bare) == {
        "name": "x", "value": "-", "threshold": "-", "samples": "7 (needs 1)", "outcome": "passed", "in_a_row": 1,
        "why": None,
    }  # fmt: skip
    assert _check(CheckResult(name="m", min=2.0, passed=True, outcome="passed"))["threshold"] == "≥ 2"


def long_release() -> Release:
    """A flight release of 55 workloads: w01 paused, w02 flighting, w03 rolled back, w04 promoted."""
    base = flight_release().plan.model_dump(mode="json", exclude_none=True, by_alias=True)
    plan = validate_plan({**base, "workloads": [{"name": f"w{i:02d}", "assets": [f"a{i}"]} for i in range(55)]})
    release = new_release(plan, NOW - timedelta(hours=3))
    w = release.workloads
    since = NOW - timedelta(minutes=3)
    w["w01"] = replace(w["w01"], paused=True, paused_by="ops", paused_at=since)
    w["w02"] = replace(w["w02"], state=S.FLIGHTING, flight=1, traffic_percent=10, flight_started_at=since,
                       state_since=since, assets={"a2": True}, tests_passed=True)  # fmt: skip
    w["w03"] = replace(w["w03"], state=S.ROLLED_BACK, assets={"a3": True}, tests_passed=True)
    w["w04"] = replace(w["w04"], state=S.PROMOTED, traffic_percent=100)
    return release.evolve(workloads=w)


HISTORY = [
    HistoryEntry(NOW - timedelta(minutes=400 - i), f"e{i}", "asset-replicated", "ignored", "x", "w00", "replicating",
                 "replicating", 0)
    for i in range(310)
]  # fmt: skip


def test_a_long_page_opens_the_timelines_that_need_a_look_and_links_its_pages():
    app = board([long_release()], {"wave-9": HISTORY}, NOW)
    html = app.handle("releases/wave-9", {}).body.decode()
    opened = dict(re.findall(r'<details id="tl-open-(w\d+)" ?(open)?>', html))
    assert len(opened) == 50 and {n for n, o in opened.items() if o} == {"w01", "w02", "w03"}
    assert re.findall(r'<p class="page-of" id="page-of">.*?</p>', html) == [
        '<p class="page-of" id="page-of">1-50 of 55, page 1 of 2</p>'
    ]
    assert re.findall(r'<nav class="pages".*?</nav>', html, re.S) == [
        '<nav class="pages" aria-label="Workload pages"><a rel="next" href="/releases/wave-9?page=2">Next workloads</a>'
        "</nav>",
        # the newest 300 entries are shown: older ones are before the oldest of them (05:30, in ms)
        '<nav class="pages" aria-label="History pages"><a href="/releases/wave-9?before=1772429400000#history">Older '
        "entries</a></nav>",
    ]


def test_the_second_workload_page_and_an_older_history_page():
    app = board([long_release()], {"wave-9": HISTORY}, NOW)
    html = app.handle("releases/wave-9", {"page": ["2"], "before": ["1772429400000"]}).body.decode()
    assert re.findall(r'<p class="page-of" id="page-of">.*?</p>', html) == [
        '<p class="page-of" id="page-of">51-55 of 55, page 2 of 2</p>'
    ]
    assert re.findall(r'<nav class="pages".*?</nav>', html, re.S) == [
        '<nav class="pages" aria-label="Workload pages"><a rel="prev" href="/releases/wave-9?page=1">Previous 5</a>'
        "</nav>",
        '<nav class="pages" aria-label="History pages"><a href="/releases/wave-9?page=2#history">Newest</a></nav>',
    ]
    assert "Showing the history entries before 2026-03-02 05:30:00Z." in html
    assert 'data-live="1"' not in html  # an older page does not refresh itself
    filtered = app.handle("releases/wave-9", {"state": ["promoted"], "q": [" W0 "]}).body.decode()
    assert re.findall(r'<p class="page-of" id="page-of">.*?</p>', filtered) == [
        '<p class="page-of" id="page-of">1-1 of 1 in state promoted whose name contains “W0”, page 1 of 1</p>'
    ]  # the filter's words as typed (trimmed), matched ignoring case
    assert '<tr data-workload="w04">' in filtered and '<details id="tl-open-w04" open>' in filtered
