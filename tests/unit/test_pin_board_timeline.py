"""A workload's timeline on the board (board/timeline.py, timeline_svg.py) pinned whole: its share steps, each
kind of mark (a duplicate none, marks too close folded into the one before), its pauses and holds as spans
(one past the chart's end), the ticks, the text alternative and every element of the SVG; then the ticks'
labels at each scale and a label cut to the room it has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.application.board.timeline import holds, pauses, timeline
from shared.application.board.timeline_svg import tick_step, ticks
from shared.domain.model import HistoryEntry

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def e(minutes, type, outcome, reason, frm=None, to=None, share=None, actor=None, why=None, flight=None):
    return HistoryEntry(at(minutes), f"id{minutes}", type, outcome, reason, "api", frm, to, share, actor=actor,
                        flight=flight, actor_reason=why)  # fmt: skip


ENTRIES = [
    e(60, "tests-passed", "applied", "tests passed", "testing", "ready", 0),
    e(55, "override", "applied", "approved by ana", "ready", "flighting", 10, actor="ana", why="looks good"),
    e(50, "flight-healthy", "applied", "judge evaluation 2: errors 0.4 passed", "flighting", "flighting", 50, flight=1),
    e(49.9, "alert", "applied", "paused at 50% (on_alert: pause)", "flighting", "flighting", 50),
    e(49.8, "alert", "duplicate", "duplicate", "flighting", "flighting", 50),
    e(49.7, "override", "ignored", "already paused", "flighting", "flighting", 50, actor="ops"),
    e(40, "override", "applied", "resumed", "flighting", "flighting", 50, actor="ops"),
    e(30, "deadline", "applied", "verdict deadline passed", "flighting", "flighting", 50),
    e(20, "alert", "applied", "rolled back: error rate", "flighting", "rolled-back", 0),
    e(10, "override", "applied", "paused at 0%", "rolled-back", "rolled-back", 0, actor="ops", why="investigating"),
]
WAITING = [
    {"gate": "window", "detail": "change window closed", "until": NOW + timedelta(hours=5)},
    {"gate": "tests", "detail": "tests", "until": None},
    {"gate": "after", "detail": "waiting for wave-6", "until": None},
]

POINTS = [
    {"at": datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "share": 0, "x": 44.0, "y": 154.0},
    {"at": datetime(2026, 3, 2, 11, 5, tzinfo=UTC), "share": 10, "x": 82.9, "y": 143.0},
    {"at": datetime(2026, 3, 2, 11, 10, tzinfo=UTC), "share": 50, "x": 121.8, "y": 99.0},
    {"at": datetime(2026, 3, 2, 11, 40, tzinfo=UTC), "share": 0, "x": 355.1, "y": 154.0},
]

MARKS = [
    {
        "at": datetime(2026, 3, 2, 11, 5, tzinfo=UTC),
        "kind": "approval",
        "letter": "Y",
        "text": 'override by ana ("looks good"): applied: approved by ana',
        "x": 82.9,
        "more": 0,
        "row": 0,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 10, tzinfo=UTC),
        "kind": "verdict",
        "letter": "V",
        "text": "flight-healthy (flight 1), applied: judge evaluation 2: errors 0.4 passed",
        "x": 121.8,
        "more": 0,
        "row": 0,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 10, 6, tzinfo=UTC),
        "kind": "alert",
        "letter": "A",
        "text": "alert, applied: paused at 50% (on_alert: pause)",
        "x": 122.6,
        "more": 1,
        "row": 1,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 10, 18, tzinfo=UTC),
        "kind": "override",
        "letter": "O",
        "text": "override by ops: ignored: already paused",
        "x": 124.1,
        "more": 0,
        "row": 1,
        "folded": True,
    },
    {
        "at": datetime(2026, 3, 2, 11, 20, tzinfo=UTC),
        "kind": "override",
        "letter": "O",
        "text": "override by ops: applied: resumed",
        "x": 199.6,
        "more": 0,
        "row": 0,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 30, tzinfo=UTC),
        "kind": "deadline",
        "letter": "D",
        "text": "deadline, applied: verdict deadline passed",
        "x": 277.3,
        "more": 0,
        "row": 0,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 40, tzinfo=UTC),
        "kind": "rollback",
        "letter": "R",
        "text": "alert, applied: rolled back: error rate",
        "x": 355.1,
        "more": 0,
        "row": 0,
        "folded": False,
    },
    {
        "at": datetime(2026, 3, 2, 11, 50, tzinfo=UTC),
        "kind": "override",
        "letter": "O",
        "text": 'override by ops ("investigating"): applied: paused at 0%',
        "x": 432.9,
        "more": 0,
        "row": 0,
        "folded": False,
    },
]

SPANS = [
    {
        "kind": "paused",
        "start": datetime(2026, 3, 2, 11, 10, 6, tzinfo=UTC),
        "end": datetime(2026, 3, 2, 11, 20, tzinfo=UTC),
        "open": False,
        "text": "paused at 50% (on_alert: pause)",
        "x0": 122.6,
        "x1": 199.6,
        "lane": 0,
    },
    {
        "kind": "paused",
        "start": datetime(2026, 3, 2, 11, 50, tzinfo=UTC),
        "end": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "open": True,
        "text": "by ops: investigating",
        "x0": 432.9,
        "x1": 510.7,
        "lane": 0,
    },
    {
        "kind": "window",
        "start": datetime(2026, 3, 2, 11, 40, tzinfo=UTC),
        "end": datetime(2026, 3, 2, 12, 30, tzinfo=UTC),
        "open": False,
        "text": "change window closed",
        "lifts": datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
        "beyond": True,
        "x0": 355.1,
        "x1": 744.0,
        "lane": 1,
    },
    {
        "kind": "after",
        "start": datetime(2026, 3, 2, 11, 40, tzinfo=UTC),
        "end": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "open": True,
        "text": "waiting for wave-6",
        "x0": 355.1,
        "x1": 510.7,
        "lane": 2,
    },
]

TICKS = [
    {"at": datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "x": 44.0, "label": "11:00"},
    {"at": datetime(2026, 3, 2, 11, 15, tzinfo=UTC), "x": 160.7, "label": "11:15"},
    {"at": datetime(2026, 3, 2, 11, 30, tzinfo=UTC), "x": 277.3, "label": "11:30"},
    {"at": datetime(2026, 3, 2, 11, 45, tzinfo=UTC), "x": 394.0, "label": "11:45"},
    {"at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "x": 510.7, "label": "12:00"},
    {"at": datetime(2026, 3, 2, 12, 15, tzinfo=UTC), "x": 627.3, "label": "12:15"},
    {"at": datetime(2026, 3, 2, 12, 30, tzinfo=UTC), "x": 744.0, "label": "12:30"},
]

SUMMARY = (
    "Traffic share of api: 0% at 11:00:00 then 10% at 11:05:00 then 50% at 11:10:00 then 0% at 11:40:00; now "
    "0%. Marked: 1 approval, 1 verdict, 1 alert, 3 overrides, 1 deadline, 1 rollback. Spans: paused from "
    "2026-03-02 11:10:06Z until 2026-03-02 11:20:00Z: paused at 50% (on_alert: pause); paused from 2026-03-02 "
    "11:50:00Z still: by ops: investigating; window from 2026-03-02 11:40:00Z until 2026-03-02 17:00:00Z "
    "(beyond the chart): change window closed; after from 2026-03-02 11:40:00Z still: waiting for wave-6. From "
    "2026-03-02 11:00:00Z to 2026-03-02 12:30:00Z."
)

SVG = [
    '<svg class="timeline" viewBox="0 0 760 226" width="100%" role="img" aria-labelledby="svg-api-title '
    'svg-api-desc" xmlns="http://www.w3.org/2000/svg">',
    '<title id="svg-api-title">Traffic share of api over time, to scale</title>',
    '<desc id="svg-api-desc">Traffic share of api: 0% at 11:00:00 then 10% at 11:05:00 then 50% at 11:10:00 '
    "then 0% at 11:40:00; now 0%. Marked: 1 approval, 1 verdict, 1 alert, 3 overrides, 1 deadline, 1 rollback. "
    "Spans: paused from 2026-03-02 11:10:06Z until 2026-03-02 11:20:00Z: paused at 50% (on_alert: pause); "
    "paused from 2026-03-02 11:50:00Z still: by ops: investigating; window from 2026-03-02 11:40:00Z until "
    "2026-03-02 17:00:00Z (beyond the chart): change window closed; after from 2026-03-02 11:40:00Z still: "
    "waiting for wave-6. From 2026-03-02 11:00:00Z to 2026-03-02 12:30:00Z.</desc>",
    '<rect class="span-shade span-shade-paused" x="122.6" y="44" width="77.0" height="110"/>',
    '<rect class="span-shade span-shade-paused" x="432.9" y="44" width="77.8" height="110"/>',
    '<rect class="span-shade span-shade-window" x="355.1" y="44" width="388.9" height="110"/>',
    '<rect class="span-shade span-shade-after" x="355.1" y="44" width="155.6" height="110"/>',
    '<line class="grid" x1="44" x2="744" y1="154.0" y2="154.0"/>',
    '<text class="axis" x="38" y="158.0" text-anchor="end">0%</text>',
    '<line class="grid" x1="44" x2="744" y1="99.0" y2="99.0"/>',
    '<text class="axis" x="38" y="103.0" text-anchor="end">50%</text>',
    '<line class="grid" x1="44" x2="744" y1="44.0" y2="44.0"/>',
    '<text class="axis" x="38" y="48.0" text-anchor="end">100%</text>',
    '<g class="tick" data-at="2026-03-02T11:00:00+00:00">',
    '<line class="tick-line" x1="44.0" x2="44.0" y1="44" y2="158"/>',
    '<text class="axis" x="44.0" y="169" text-anchor="middle">11:00</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T11:15:00+00:00">',
    '<line class="tick-line" x1="160.7" x2="160.7" y1="44" y2="158"/>',
    '<text class="axis" x="160.7" y="169" text-anchor="middle">11:15</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T11:30:00+00:00">',
    '<line class="tick-line" x1="277.3" x2="277.3" y1="44" y2="158"/>',
    '<text class="axis" x="277.3" y="169" text-anchor="middle">11:30</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T11:45:00+00:00">',
    '<line class="tick-line" x1="394.0" x2="394.0" y1="44" y2="158"/>',
    '<text class="axis" x="394.0" y="169" text-anchor="middle">11:45</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T12:00:00+00:00">',
    '<line class="tick-line" x1="510.7" x2="510.7" y1="44" y2="158"/>',
    '<text class="axis" x="510.7" y="169" text-anchor="middle">12:00</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T12:15:00+00:00">',
    '<line class="tick-line" x1="627.3" x2="627.3" y1="44" y2="158"/>',
    '<text class="axis" x="627.3" y="169" text-anchor="middle">12:15</text>',
    "</g>",
    '<g class="tick" data-at="2026-03-02T12:30:00+00:00">',
    '<line class="tick-line" x1="744.0" x2="744.0" y1="44" y2="158"/>',
    '<text class="axis" x="744.0" y="169" text-anchor="middle">12:30</text>',
    "</g>",
    '<line class="now-line" x1="510.7" x2="510.7" y1="44" y2="154"/>',
    '<text class="axis now" x="507.7" y="150" text-anchor="end">now</text>',
    '<path class="share" d="M44.0,154.0 H82.9 V143.0 H121.8 V99.0 H355.1 V154.0 H510.7"/>',
    '<circle class="share-point" cx="44.0" cy="154.0" r="4" data-share="0">',
    "<title>0% from 2026-03-02 11:00:00Z</title>",
    "</circle>",
    '<circle class="share-point" cx="82.9" cy="143.0" r="4" data-share="10">',
    "<title>10% from 2026-03-02 11:05:00Z</title>",
    "</circle>",
    '<circle class="share-point" cx="121.8" cy="99.0" r="4" data-share="50">',
    "<title>50% from 2026-03-02 11:10:00Z</title>",
    "</circle>",
    '<circle class="share-point" cx="355.1" cy="154.0" r="4" data-share="0">',
    "<title>0% from 2026-03-02 11:40:00Z</title>",
    "</circle>",
    '<g class="mark mark-approval" data-kind="approval">',
    "<title>approval at 2026-03-02 11:05:00Z: override by ana (&#34;looks good&#34;): applied: approved by ana</title>",
    '<line class="mark-line" x1="82.9" x2="82.9" y1="20" y2="154"/>',
    '<rect x="75.9" y="4" width="14" height="16" rx="7"/>',
    '<text x="82.9" y="16" text-anchor="middle">Y</text>',
    "</g>",
    '<g class="mark mark-verdict" data-kind="verdict">',
    "<title>verdict at 2026-03-02 11:10:00Z: flight-healthy (flight 1), applied: judge evaluation 2: errors 0.4 "
    "passed</title>",
    '<line class="mark-line" x1="121.8" x2="121.8" y1="20" y2="154"/>',
    '<rect x="114.8" y="4" width="14" height="16" rx="3"/>',
    '<text x="121.8" y="16" text-anchor="middle">V</text>',
    "</g>",
    '<g class="mark mark-alert" data-kind="alert">',
    "<title>alert at 2026-03-02 11:10:06Z: alert, applied: paused at 50% (on_alert: pause)</title>",
    '<line class="mark-line" x1="122.6" x2="122.6" y1="38" y2="154"/>',
    '<rect x="115.6" y="22" width="14" height="16" rx="3"/>',
    '<text x="122.6" y="34" text-anchor="middle">A</text>',
    '<text class="more" x="131.6" y="34">+1</text>',
    "</g>",
    '<g class="mark mark-override folded" data-kind="override">',
    "<title>override at 2026-03-02 11:10:18Z: override by ops: ignored: already paused</title>",
    '<line class="mark-line" x1="124.1" x2="124.1" y1="38" y2="154"/>',
    "</g>",
    '<g class="mark mark-override" data-kind="override">',
    "<title>override at 2026-03-02 11:20:00Z: override by ops: applied: resumed</title>",
    '<line class="mark-line" x1="199.6" x2="199.6" y1="20" y2="154"/>',
    '<rect x="192.6" y="4" width="14" height="16" rx="3"/>',
    '<text x="199.6" y="16" text-anchor="middle">O</text>',
    "</g>",
    '<g class="mark mark-deadline" data-kind="deadline">',
    "<title>deadline at 2026-03-02 11:30:00Z: deadline, applied: verdict deadline passed</title>",
    '<line class="mark-line" x1="277.3" x2="277.3" y1="20" y2="154"/>',
    '<rect x="270.3" y="4" width="14" height="16" rx="3"/>',
    '<text x="277.3" y="16" text-anchor="middle">D</text>',
    "</g>",
    '<g class="mark mark-rollback" data-kind="rollback">',
    "<title>rollback at 2026-03-02 11:40:00Z: alert, applied: rolled back: error rate</title>",
    '<line class="mark-line" x1="355.1" x2="355.1" y1="20" y2="154"/>',
    '<rect x="348.1" y="4" width="14" height="16" rx="3"/>',
    '<text x="355.1" y="16" text-anchor="middle">R</text>',
    "</g>",
    '<g class="mark mark-override" data-kind="override">',
    "<title>override at 2026-03-02 11:50:00Z: override by ops (&#34;investigating&#34;): applied: paused at 0%</title>",
    '<line class="mark-line" x1="432.9" x2="432.9" y1="20" y2="154"/>',
    '<rect x="425.9" y="4" width="14" height="16" rx="3"/>',
    '<text x="432.9" y="16" text-anchor="middle">O</text>',
    "</g>",
    '<g class="span span-paused" data-kind="paused" data-open="false">',
    "<title>paused from 2026-03-02 11:10:06Z until 2026-03-02 11:20:00Z: paused at 50% (on_alert: pause)</title>",
    '<rect x="122.6" y="176" width="77.0" height="12" rx="2"/>',
    '<text class="span-label" x="125.6" y="186">paused: paused at 50% (on_alert: pause)</text>',
    "</g>",
    '<g class="span span-paused" data-kind="paused" data-open="true">',
    "<title>paused from 2026-03-02 11:50:00Z still: by ops: investigating</title>",
    '<rect x="432.9" y="176" width="77.8" height="12" rx="2"/>',
    '<text class="span-label" x="435.9" y="186">paused: by ops: investigating▸</text>',
    "</g>",
    '<g class="span span-window" data-kind="window" data-open="false">',
    "<title>window from 2026-03-02 11:40:00Z until 2026-03-02 17:00:00Z (beyond the chart): change window "
    "closed</title>",
    '<rect x="355.1" y="192" width="388.9" height="12" rx="2"/>',
    '<text class="span-label" x="358.1" y="202">window: change window closed▸</text>',
    "</g>",
    '<g class="span span-after" data-kind="after" data-open="true">',
    "<title>after from 2026-03-02 11:40:00Z still: waiting for wave-6</title>",
    '<rect x="355.1" y="208" width="155.6" height="12" rx="2"/>',
    '<text class="span-label" x="358.1" y="218">after: waiting for wave-6▸</text>',
    "</g>",
    "</svg>",
]


def test_a_timeline_with_every_kind_of_mark_and_span_is_pinned_whole():
    spans = pauses(ENTRIES, at(10), NOW, "by ops: investigating") + holds(WAITING, at(20), NOW)
    tl = timeline("api", ENTRIES, 0, NOW, spans)
    assert (tl.start, tl.end, tl.now_x) == (at(60), NOW + timedelta(minutes=30), 510.7)
    assert tl.points == POINTS
    assert tl.marks == MARKS
    assert [round(s["room"], 1) for s in tl.spans] == [310.3, 311.1, 388.9, 388.9]  # to the next in its lane
    assert [{k: v for k, v in s.items() if k != "room"} for s in tl.spans] == SPANS
    assert tl.ticks == TICKS
    assert tl.summary == SUMMARY
    assert str(tl.svg).replace("><", ">\n<").split("\n") == SVG


def test_a_spans_label_is_cut_to_the_room_before_the_next_span_in_its_lane():
    spans = [
        {"kind": "paused", "start": at(60), "end": at(55), "open": False, "text": "by ops: a long reason for pausing"},
        {"kind": "paused", "start": at(50), "end": at(45), "open": False, "text": "short"},
    ]
    tl = timeline("w", [], 0, NOW, spans)
    assert [(s["x0"], s["x1"], s["lane"], round(s["room"], 1)) for s in tl.spans] == [
        (44.0, 102.3, 0, 116.7),  # 17 characters fit
        (160.7, 219.0, 0, 583.3),
    ]
    labels = [line for line in str(tl.svg).replace("><", ">\n<").split("\n") if 'class="span-label"' in line]
    assert labels == [
        '<text class="span-label" x="47.0" y="186">paused: by ops: …</text>',
        '<text class="span-label" x="163.7" y="186">paused: short</text>',
    ]


def test_an_empty_timeline_covers_the_last_minute():
    tl = timeline("db", [], 30, NOW)
    assert (
        tl.summary
        == "db: no share recorded in this window; now 30%. Marked: no marks. From 2026-03-02 11:59:00Z to now."
    )
    assert [t["label"] for t in tl.ticks] == [f"11:59:{s:02d}" for s in range(0, 60, 10)] + ["12:00:00"]
    assert 'viewBox="0 0 760 178"' in str(tl.svg) and "<path" not in str(tl.svg)


def test_tick_steps_and_labels_at_each_scale():
    assert [tick_step(s) for s in (7, 8, 420, 421, 604800 * 7, 604800 * 7 + 1, 604800 * 20)] == [
        1, 2, 60, 120, 604800, 1209600, 1814400
    ]  # fmt: skip
    assert [label for _, label in ticks(NOW, NOW + timedelta(seconds=30))] == [
        "12:00:00", "12:00:05", "12:00:10", "12:00:15", "12:00:20", "12:00:25", "12:00:30"
    ]  # fmt: skip
    night = ticks(datetime(2026, 3, 1, 22, tzinfo=UTC), datetime(2026, 3, 2, 2, tzinfo=UTC))
    assert [label for _, label in night] == ["22:00", "23:00", "03-02 00:00", "01:00", "02:00"]
    week = ticks(datetime(2026, 2, 25, tzinfo=UTC), NOW)
    assert [label for _, label in week] == ["02-25", "02-26", "02-27", "02-28", "03-01", "03-02"]
    new_year = ticks(datetime(2025, 12, 20, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC))
    assert new_year == [
        (datetime(2025, 12, 25, tzinfo=UTC), "2025-12-25"),
        (datetime(2026, 1, 1, tzinfo=UTC), "2026-01-01"),
    ]


def test_pauses_end_at_a_resume_or_a_move_and_an_open_one_says_what_it_knows():
    def entry(minutes, reason, to="testing", actor=None):
        return HistoryEntry(at(minutes), "x", "override", "applied", reason, "w", "testing", to, 0, actor=actor)

    found = pauses(
        [entry(30, "halt: paused at 0%"), entry(20, "moved", to="ready"), entry(15, "paused at 0%", actor="ops"),
         entry(10, "unhalt: resumed")], None, NOW
    )  # fmt: skip
    assert found == [
        {"kind": "paused", "start": at(30), "end": at(20), "open": False, "text": "halt: paused at 0%"},
        {"kind": "paused", "start": at(15), "end": at(10), "open": False, "text": "by ops"},
    ]
    assert pauses([entry(30, "resumed")], at(120), NOW) == [
        {"kind": "paused", "start": at(120), "end": NOW, "open": True, "text": "since before this window of history"}
    ]
    assert pauses([], at(120), NOW, "by ops: why") == [
        {"kind": "paused", "start": at(120), "end": NOW, "open": True, "text": "by ops: why"}
    ]


def test_a_window_hold_starts_when_the_window_closed():
    from shared.domain.plan import validate_plan

    plan = validate_plan(
        {"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}],
         "windows": {"timezone": "UTC", "allow": [{"days": ["mon", "tue"], "from": "08:00", "to": "11:00"}]}}
    )  # fmt: skip
    assert holds([{"gate": "window", "detail": "closed", "until": None}], at(24 * 60), NOW, plan.windows) == [
        {"kind": "window", "start": at(60), "end": NOW, "open": True, "text": "closed"}
    ]


def test_a_mark_shares_a_row_with_the_one_before_from_fifteen_pixels_apart():
    from shared.application.board.timeline import Timeline
    from shared.application.board.timeline_svg import place

    start = NOW - timedelta(seconds=700)  # the plot is 700 px wide: a pixel a second

    def mark(second: float) -> dict:
        return {"at": start + timedelta(seconds=second), "kind": "alert", "letter": "A", "text": "x"}

    tl = Timeline("w", [], [mark(0), mark(15), mark(29), mark(30), mark(31)], start=start, end=NOW)
    place(tl, NOW)
    assert [(m["x"], m["row"], m["folded"], m["more"]) for m in tl.marks] == [
        (44.0, 0, False, 0),
        (59.0, 0, False, 0),  # 15 px after the first: same row
        (73.0, 1, False, 0),  # 14 px: the second row
        (74.0, 0, False, 1),  # 15 px after the second; counts the one folded into it
        (75.0, 0, True, 0),  # no room in either row: folded into the latest drawn (74)
    ]
