"""The board's timelines to scale (v3 §19): x is time with labelled ticks; pauses and the holds on a workload
now (window, after, data-sync, ttl, rehearsal) are spans, approvals marks of their own."""

from __future__ import annotations

import re
from datetime import timedelta

from shared.application.board.timeline import timeline
from shared.application.board.timeline_svg import LEFT, RIGHT, WIDTH
from shared.application.bootstrap import Stack
from shared.domain.model import HistoryEntry, Outcome
from shared.domain.plan import validate_plan
from tests.fakes import T0, FakeClock, event

APPROVERS, OPERATOR = ["ana@contoso.com", "bob@contoso.com"], "ops@contoso.com"


def entry(minutes: float, type_: str, reason: str, share: int | None = None, **extra) -> HistoryEntry:
    return HistoryEntry(
        at=T0 + timedelta(minutes=minutes),
        event_id=f"e{minutes}",
        type=type_,
        outcome=extra.pop("outcome", Outcome.APPLIED),
        reason=reason,
        workload="web",
        from_state=extra.pop("from_state", "flighting"),
        to_state=extra.pop("to_state", "flighting"),
        traffic_percent=share,
        **extra,
    )


def test_marks_sit_where_their_time_is_and_the_ticks_say_the_time():
    entries = [
        entry(0, "flight-healthy", "flight 1 healthy", 10, flight=1),
        entry(10, "alert", "HTTP 5xx above 2%"),
        entry(60, "flight-healthy", "flight 2 healthy", 50, flight=2),
    ]
    tl = timeline("web", entries, 50, T0 + timedelta(minutes=70))
    plot = WIDTH - LEFT - RIGHT
    # to scale: 10 of 70 minutes is 1/7 of the plot, 60 of 70 is 6/7, now is the right edge
    assert [m["x"] for m in tl.marks] == [LEFT, round(LEFT + plot / 7, 1), round(LEFT + plot * 6 / 7, 1)]
    assert tl.now_x == LEFT + plot
    # ticks every 10 minutes on the round times, labelled with them, each where its time is
    assert [t["label"] for t in tl.ticks] == ["22:00", "22:10", "22:20", "22:30", "22:40", "22:50", "23:00", "23:10"]
    assert all(t["x"] == round(LEFT + plot * i / 7, 1) for i, t in enumerate(tl.ticks))
    assert '<text class="axis" x="' + str(tl.ticks[1]["x"]) + '" y="' in tl.svg and ">22:10</text>" in tl.svg


def test_ticks_show_seconds_for_a_short_span_and_the_date_when_the_day_changes():
    short = timeline("web", [entry(0, "alert", "a")], 0, T0 + timedelta(seconds=40))
    assert short.ticks[0]["label"] == "21:59:40" and short.ticks[-1]["label"] == "22:00:40"  # a minute at least
    late = timeline("web", [entry(0, "alert", "a")], 0, T0 + timedelta(hours=5))
    labels = [t["label"] for t in late.ticks]
    assert labels[0] == "22:00" and "11-27 00:00" in labels and labels[-1] == "03:00"


def test_marks_close_in_time_take_a_second_row_then_fold_with_a_count():
    entries = [entry(30 + i / 60, "alert", f"alert {i}") for i in range(4)]  # four alerts in four seconds
    tl = timeline("web", [entry(0, "alert", "first"), *entries], 0, T0 + timedelta(minutes=60))
    rows = [(m["row"], m["folded"]) for m in tl.marks]
    assert rows == [(0, False), (0, False), (1, False), (1, True), (1, True)]
    assert tl.marks[2]["more"] == 2 and ">+2</text>" in tl.svg
    assert tl.svg.count('class="mark mark-alert') == 5  # every one is there (its title, its line)


def test_a_pause_is_a_span_from_its_entry_to_the_resume_and_an_open_one_runs_to_now():
    entries = [
        entry(0, "flight-healthy", "flight 1 healthy", 10),
        entry(5, "override", "paused at 10%", 10, actor=OPERATOR, actor_reason="DBA checks"),
        entry(15, "override", "resumed (by ops since ...)", 10, actor=OPERATOR),
        entry(20, "alert", "HTTP 5xx: paused at 10% (on_alert: pause)", 10),
    ]
    now = T0 + timedelta(minutes=40)
    tl = timeline("web", entries, 10, now, spans=_pauses(entries, now))
    spans = [(s["kind"], s["start"], s["end"], s["open"]) for s in tl.spans]
    assert spans == [
        ("paused", T0 + timedelta(minutes=5), T0 + timedelta(minutes=15), False),
        ("paused", T0 + timedelta(minutes=20), now, True),
    ]
    assert [s["text"] for s in tl.spans] == [f"by {OPERATOR}: DBA checks", "HTTP 5xx: paused at 10% (on_alert: pause)"]
    plot = WIDTH - LEFT - RIGHT
    assert tl.spans[0]["x0"] == round(LEFT + plot / 8, 1) and tl.spans[0]["x1"] == round(LEFT + plot * 3 / 8, 1)
    assert tl.svg.count('<g class="span span-paused"') == 2 and 'data-open="true"' in tl.svg
    assert "Spans: paused from 2026-11-26 22:05:00Z until 2026-11-26 22:15:00Z" in tl.summary


def _pauses(entries, now):
    from shared.application.board.timeline import pauses

    return pauses(entries, now - timedelta(minutes=20), now)


def scenario(settings, name: str) -> tuple[Stack, FakeClock]:
    """A staged release needing two approvals, inside a change freeze from 22:30: paused for ten minutes,
    resumed, approved by one approver; looked at 22:40 (past 22:30: the window holds it)."""
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    plan = {
        "release": name,
        "model": "single-step",
        "approval": {"mode": "manual", "quorum": 2},
        "approvers": APPROVERS,
        "operators": [OPERATOR],
        "windows": {
            "timezone": "UTC",
            "deny": [{"from": "2026-11-26T22:30", "to": "2026-11-26T23:30", "reason": "freeze"}],
        },
        "workloads": [{"name": "web", "assets": ["vm"]}],
    }
    stack.service.apply(validate_plan(plan))
    steps = [
        ("asset-replicated", {"asset": "vm"}),
        ("tests-passed", {}),
        ("override", {"action": "pause", "actor": OPERATOR, "reason": "checking the DNS"}),
        ("override", {"action": "resume", "actor": OPERATOR, "reason": "DNS fine"}),
        ("override", {"action": "approve", "actor": APPROVERS[0], "reason": "looks good"}),
    ]
    for i, (type_, data) in enumerate(steps):
        clock.advance(300)
        result = stack.service.handle(event(type_, name, "web", f"{name}-{i}", **data))
        assert result.outcome == "applied", result
    clock.current = T0 + timedelta(minutes=40)
    return stack, clock


def test_the_release_page_draws_the_pause_the_window_and_the_approval(settings, release_name):
    stack, _ = scenario(settings, release_name)
    page = stack.board("/").handle(f"releases/{release_name}", {})
    assert page.status == 200
    html = page.body.decode()
    card = re.search(r'<section class="timeline-card" id="timeline-web".*?</section>', html, re.S)
    assert card
    svg = card.group(0)
    assert svg.count('<g class="span span-paused" data-kind="paused" data-open="false">') == 1
    assert svg.count('<g class="span span-window" data-kind="window"') == 1  # the freeze holds it now
    # from when the freeze began (not when the workload got ready) to 23:30, past the chart's end: the chart
    # shows half its past ahead (22:05 to 22:40: to 22:57:30), and the words say when the window really opens
    assert "window from 2026-11-26 22:30:00Z until 2026-11-26 23:30:00Z (beyond the chart)" in svg
    shade = re.search(r'<rect class="span-shade span-shade-window" x="([\d.]+)" y="\d+" width="([\d.]+)"', svg)
    assert shade and float(shade.group(1)) + float(shade.group(2)) == WIDTH - RIGHT  # drawn to the chart's edge
    assert svg.count('<g class="mark mark-approval" data-kind="approval">') == 1
    assert '<tr class="mark-row" data-kind="approval">' in svg and "1 of 2 approvals" in svg
    assert ">22:10</text>" in svg and ">22:40</text>" in svg


def test_ticks_stay_few_and_inside_the_chart_over_months_years_or_a_fraction_of_a_second():
    from shared.application.board.timeline_svg import MAX_TICKS, ticks

    for days in (60, 365, 20_000):  # a workload left in hypercare, a year, an entry stamped near 1970 (clock skew)
        found = ticks(T0 - timedelta(days=days), T0)
        assert 2 <= len(found) <= MAX_TICKS + 1, (days, len(found))
        assert all(T0 - timedelta(days=days) <= at <= T0 for at, _ in found)
    years = [label for _, label in ticks(T0 - timedelta(days=800), T0)]
    assert len(set(years)) == len(years) and all(re.fullmatch(r"\d{4}-\d\d-\d\d", y) for y in years), years
    start = T0 + timedelta(seconds=10.5)  # an entry's time has microseconds: no tick before the chart begins
    assert all(at >= start for at, _ in ticks(start, start + timedelta(seconds=4)))


def test_a_release_started_while_everything_is_halted_says_who_paused_it_and_why(settings, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.store.set_halt({"by": OPERATOR, "reason": "DNS outage", "at": "2026-11-26T21:59:00Z"})
    try:
        stack.service.apply(validate_plan({"release": release_name, "model": "single-step",
            "workloads": [{"name": "web", "assets": ["vm"]}]}))  # fmt: skip
    finally:
        stack.store.set_halt(None)
    clock.advance(600)
    html = stack.board("/").handle(f"releases/{release_name}", {}).body.decode()
    card = re.search(r'<section class="timeline-card" id="timeline-web".*?</section>', html, re.S)
    assert card and card.group(0).count('<g class="span span-paused" data-kind="paused" data-open="true">') == 1
    # the whole history is on the page: the pause is not "before this window", it is the halt's
    assert "paused from 2026-11-26 22:00:00Z still: by ops@contoso.com: halted: DNS outage" in card.group(0)
    assert "before this window" not in card.group(0)


def test_every_id_on_a_release_page_is_unique_whatever_the_workloads_are_called(settings, release_name):
    # "h-web"'s card and "web"'s heading, "x-title"'s fold and "open-x"'s chart title were the same id: the
    # table's link to h-web scrolled to web and opened web's timeline
    names = ["web", "h-web", "open-x", "x-title", "x-desc"]
    stack = Stack(settings, clock=FakeClock())
    stack.service.apply(validate_plan({"release": release_name, "model": "single-step",
        "workloads": [{"name": n, "assets": ["vm"]} for n in names]}))  # fmt: skip
    html = stack.board("/").handle(f"releases/{release_name}", {}).body.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) > 5 * len(names) and sorted(i for i in set(ids) if ids.count(i) > 1) == []
    for name in names:  # each link lands on its own timeline, and every reference names an id on the page
        assert f'href="#timeline-{name}"' in html and f'id="timeline-{name}"' in html
    for refs in re.findall(r'aria-(?:labelledby|describedby)="([^"]+)"', html):
        assert all(ref in ids for ref in refs.split()), refs


def test_an_alerts_own_words_neither_start_nor_end_a_pause():
    from shared.application.board.timeline import pauses

    now = T0 + timedelta(minutes=30)
    forged = [  # the alert's description says ": paused at 40%"; on_alert: rollback rolled it back, then a retry
        entry(
            5,
            "alert",
            "alert (Sev1): consumer: paused at 40% of capacity: rolled back to 0% (on_alert: rollback)",
            0,
            to_state="rolled-back",
        ),  # fmt: skip
        entry(10, "override", "retried (attempt 2)", 0, from_state="rolled-back", to_state="replicating"),
    ]
    assert pauses(forged, None, now) == []
    cut = [  # paused by an operator; an alert recorded while paused says "resumed" in its description
        entry(5, "override", "paused at 10%", 10, actor=OPERATOR, actor_reason="DBA checks"),
        entry(
            10, "alert", "alert (Sev2): resumed after failover; recorded while paused, routing unchanged until resume"
        ),
    ]
    spans = pauses(cut, T0 + timedelta(minutes=5), now)
    assert [(s["start"], s["end"], s["open"]) for s in spans] == [(T0 + timedelta(minutes=5), now, True)]
    # the domain's own words still do: on_alert and on_deadline pauses, a halt, its unhalt
    own = [
        entry(1, "alert", "alert (Sev1): HTTP 5xx: paused at 10% (on_alert: pause)", 10),
        entry(2, "override", "resumed (by promote since ...)", 10),
        entry(
            3,
            "deadline",
            "deadline passed: waited 1h for verdict (deadline verdict: 1h) in flighting; "
            "paused at 10% (on_deadline: pause)",
            10,
        ),  # fmt: skip
        entry(4, "override", "resumed", 10),
        entry(6, "override", "halt: paused at 10%", 10, actor=OPERATOR),
        entry(7, "override", "unhalt: resumed (by ops since ...)", 10, actor=OPERATOR),
    ]
    assert len(pauses(own, None, now)) == 3


def test_pauses_one_after_another_share_a_lane_and_spans_at_once_do_not():
    from shared.application.board.timeline import pauses
    from shared.application.board.timeline_svg import AXIS, LANE, PLOT_H, TOP

    flapping = []  # paused and resumed 40 times: the chart stays one lane tall, not 40
    for i in range(40):
        flapping += [entry(2 * i, "override", "paused at 10%", 10), entry(2 * i + 1, "override", "resumed", 10)]
    now = T0 + timedelta(minutes=90)
    tl = timeline("web", flapping, 10, now, spans=pauses(flapping, None, now))
    assert len(tl.spans) == 40 and {s["lane"] for s in tl.spans} == {0}
    assert f'viewBox="0 0 {WIDTH} {TOP + PLOT_H + AXIS + LANE + 4}"' in tl.svg
    held = [  # a pause and a window hold at the same time: a lane each
        {"kind": "paused", "start": T0, "end": now, "open": True, "text": "by ops"},
        {"kind": "window", "start": T0 + timedelta(minutes=10), "end": now, "open": True, "text": "freeze"},
    ]
    both = timeline("web", [], 10, now, spans=held)
    assert [s["lane"] for s in both.spans] == [0, 1]
    # a label stops before the next span in its lane (its title has every word)
    labels = re.findall(r'<text class="span-label" x="([\d.]+)"[^>]*>([^<]*)</text>', tl.svg)
    assert all(len(text) * 6.2 <= tl.spans[i + 1]["x0"] - float(x) for i, (x, text) in enumerate(labels[:-1]))
