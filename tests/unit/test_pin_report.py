"""`promote report` and the board's report page pinned whole for the telemetry world's flight story (a release
rolled back twice, retried, approved, paused): every line of the text, every key of the JSON, every CSV row and
every line of the HTML, for the release and for its wave (report.py, report_render.py, figures.py)."""

from __future__ import annotations

import json

import pytest

from shared.application.report import WaveReport, release_report
from shared.application.report_render import html_section, render
from tests.telemetry_world import Flight


@pytest.fixture(scope="module")
def report():
    flight = Flight(applied_early=45, wave="wave-a").story()
    release = flight.w.store.get_release("wave-7").release
    return release_report(flight.plan, flight.w.store.list_history("wave-7"), release.state)


TEXT = [
    "Release wave-7 (flight, wave wave-a): rolled-back",
    "  from 2026-11-26 22:02:45Z to 2026-11-26 22:55:53Z: 53m8s; 25 history entries",
    "  ends: rolled-back at 2026-11-26 22:17:46Z after 15m1s, rolled-back at 2026-11-26 22:55:53Z after 53m8s",
    "  changes 3, rollbacks 2, change failure rate 67%",
    "",
    "Workloads",
    "  payroll                  promoted              -  attempts 2",
    "  ledger                   rolled-back           -  attempts 1",
    "",
    "Time per phase (all workloads)",
    "  replicating          1m *",
    "  testing              6m",
    "  ready               12m",
    "  flighting        38m39s",
    "  rolled-back      10m30s",
    "  * the apply is not in history: a workload's first phase counts from its first message",
    "",
    "Waits by gate",
    "  assets               1m",
    "  tests                6m",
    "  approval            12m",
    "  bake             33m30s",
    "  verdict            5m9s",
    "  paused               4m",
    "  retry            10m30s",
    "",
    "Flights",
    "  flight 1          15m3s  (3x)",
    "  flight 2         23m31s  (3x)",
    "  flight 3             5s  (1x)",
    "",
    "Rollbacks",
    "  2026-11-26 22:17:16Z  payroll          alert     from flighting at 50%, 0s after the alert",
    "  2026-11-26 22:17:46Z  ledger           verdict   from flighting at 50%, 0s after the alert",
    "",
    "Approvals",
    '  2026-11-26 22:10:45Z  payroll          by ana@contoso.com, after 5m in ready: "approve by hand"',
    '  2026-11-26 22:10:45Z  ledger           by ana@contoso.com, after 5m in ready: "approve by hand"',
    '  2026-11-26 22:30:46Z  payroll          by ana@contoso.com, after 2m in ready: "approve by hand"',
    "",
    "Pauses",
    "  2026-11-26 22:36:47Z  payroll          4m",
    "",
    "Traffic",
    "  2026-11-26 22:10:45Z  payroll            0% ->  10%  flighting",
    "  2026-11-26 22:10:45Z  ledger             0% ->  10%  flighting",
    "  2026-11-26 22:15:46Z  payroll           10% ->  50%  flighting",
    "  2026-11-26 22:15:46Z  ledger            10% ->  50%  flighting",
    "  2026-11-26 22:17:16Z  payroll           50% ->   0%  rolled-back",
    "  2026-11-26 22:17:46Z  ledger            50% ->   0%  rolled-back",
    "  2026-11-26 22:30:46Z  payroll            0% ->  10%  flighting",
    "  2026-11-26 22:35:47Z  payroll           10% ->  50%  flighting",
    "  2026-11-26 22:55:48Z  payroll           50% -> 100%  flighting",
    "",
]

JSON = {
    "release": "wave-7",
    "model": "flight",
    "wave": "wave-a",
    "state": "rolled-back",
    "started": "2026-11-26T22:02:45Z",
    "done": "2026-11-26T22:55:53Z",
    "seconds": 3188.0,
    "ends": [
        {"state": "rolled-back", "status": "failed", "at": "2026-11-26T22:17:46Z", "seconds": 901.0},
        {"state": "rolled-back", "status": "failed", "at": "2026-11-26T22:55:53Z", "seconds": 3188.0},
    ],
    "entries": 25,
    "changes": 3,
    "change_failure_rate": 0.6666666666666666,
    "workloads": [
        {
            "name": "payroll",
            "state": "promoted",
            "started": "2026-11-26T22:02:45Z",
            "done": None,
            "seconds": None,
            "attempts": 2,
        },
        {
            "name": "ledger",
            "state": "rolled-back",
            "started": "2026-11-26T22:03:45Z",
            "done": None,
            "seconds": None,
            "attempts": 1,
        },
    ],
    "phases": {"replicating": 60.0, "testing": 360.0, "ready": 720.0, "flighting": 2319.0, "rolled-back": 630.0},
    "partial_phases": ["replicating"],
    "gates": {
        "assets": 60.0,
        "tests": 360.0,
        "approval": 720.0,
        "bake": 2010.0,
        "verdict": 309.0,
        "retry": 630.0,
        "paused": 240.0,
    },
    "flights": {
        "1": {"seconds": 903.0, "times": 3},
        "2": {"seconds": 1411.0, "times": 3},
        "3": {"seconds": 5.0, "times": 1},
    },
    "rollbacks_by_cause": {"alert": 1, "verdict": 1},
    "rollbacks": [
        {
            "at": "2026-11-26T22:17:16Z",
            "workload": "payroll",
            "cause": "alert",
            "from": "flighting",
            "share_before": 50,
            "flight": 2,
            "seconds_after_alert": 0.0,
            "event_id": "m9",
            "actor": None,
            "reason": "alert (Sev1): error rate 7%: rolled back to 0% (on_alert: rollback) -> "
            "rolled-back (0%); network: fake wave-7/payroll: share 50 -> 0",
        },
        {
            "at": "2026-11-26T22:17:46Z",
            "workload": "ledger",
            "cause": "verdict",
            "from": "flighting",
            "share_before": 50,
            "flight": 2,
            "seconds_after_alert": 0.0,
            "event_id": "m10",
            "actor": None,
            "reason": "flight 2 unhealthy: rolled back to 0% (on_alert: rollback) -> rolled-back (0%); "
            "network: fake wave-7/ledger: share 50 -> 0",
        },
    ],
    "approvals": [
        {
            "at": "2026-11-26T22:10:45Z",
            "workload": "payroll",
            "actor": "ana@contoso.com",
            "seconds_waited": 300.0,
            "counted": False,
            "actor_reason": "approve by hand",
        },
        {
            "at": "2026-11-26T22:10:45Z",
            "workload": "ledger",
            "actor": "ana@contoso.com",
            "seconds_waited": 300.0,
            "counted": False,
            "actor_reason": "approve by hand",
        },
        {
            "at": "2026-11-26T22:30:46Z",
            "workload": "payroll",
            "actor": "ana@contoso.com",
            "seconds_waited": 120.0,
            "counted": False,
            "actor_reason": "approve by hand",
        },
    ],
    "pauses": [{"from": "2026-11-26T22:36:47Z", "to": "2026-11-26T22:40:47Z", "workload": "payroll", "seconds": 240.0}],
    "traffic": [
        {"at": "2026-11-26T22:10:45Z", "workload": "payroll", "from": 0, "to": 10, "state": "flighting"},
        {"at": "2026-11-26T22:10:45Z", "workload": "ledger", "from": 0, "to": 10, "state": "flighting"},
        {"at": "2026-11-26T22:15:46Z", "workload": "payroll", "from": 10, "to": 50, "state": "flighting"},
        {"at": "2026-11-26T22:15:46Z", "workload": "ledger", "from": 10, "to": 50, "state": "flighting"},
        {"at": "2026-11-26T22:17:16Z", "workload": "payroll", "from": 50, "to": 0, "state": "rolled-back"},
        {"at": "2026-11-26T22:17:46Z", "workload": "ledger", "from": 50, "to": 0, "state": "rolled-back"},
        {"at": "2026-11-26T22:30:46Z", "workload": "payroll", "from": 0, "to": 10, "state": "flighting"},
        {"at": "2026-11-26T22:35:47Z", "workload": "payroll", "from": 10, "to": 50, "state": "flighting"},
        {"at": "2026-11-26T22:55:48Z", "workload": "payroll", "from": 50, "to": 100, "state": "flighting"},
    ],
}

CSV = [
    "release,section,workload,name,at,seconds,value,actor,detail",
    "wave-7,release,,rolled-back,2026-11-26T22:02:45Z,3188,3,,change failure rate 67%",
    "wave-7,end,,rolled-back,2026-11-26T22:17:46Z,901,,,failed",
    "wave-7,end,,rolled-back,2026-11-26T22:55:53Z,3188,,,failed",
    "wave-7,workload,payroll,promoted,2026-11-26T22:02:45Z,,2,,",
    "wave-7,workload,ledger,rolled-back,2026-11-26T22:03:45Z,,1,,",
    "wave-7,phase,,replicating,,60,,,partial",
    "wave-7,phase,,testing,,360,,,",
    "wave-7,phase,,ready,,720,,,",
    "wave-7,phase,,flighting,,2319,,,",
    "wave-7,phase,,rolled-back,,630,,,",
    "wave-7,gate,,assets,,60,,,",
    "wave-7,gate,,tests,,360,,,",
    "wave-7,gate,,approval,,720,,,",
    "wave-7,gate,,bake,,2010,,,",
    "wave-7,gate,,verdict,,309,,,",
    "wave-7,gate,,paused,,240,,,",
    "wave-7,gate,,retry,,630,,,",
    "wave-7,flight,,1,,903,3,,",
    "wave-7,flight,,2,,1411,3,,",
    "wave-7,flight,,3,,5,1,,",
    "wave-7,rollback,payroll,alert,2026-11-26T22:17:16Z,0,50,,alert (Sev1): error rate 7%: rolled back to 0% "
    "(on_alert: rollback) -> rolled-back (0%); network: fake wave-7/payroll: share 50 -> 0",
    "wave-7,rollback,ledger,verdict,2026-11-26T22:17:46Z,0,50,,flight 2 unhealthy: rolled back to 0% (on_alert: "
    "rollback) -> rolled-back (0%); network: fake wave-7/ledger: share 50 -> 0",
    "wave-7,approval,payroll,approve,2026-11-26T22:10:45Z,300,,ana@contoso.com,approve by hand",
    "wave-7,approval,ledger,approve,2026-11-26T22:10:45Z,300,,ana@contoso.com,approve by hand",
    "wave-7,approval,payroll,approve,2026-11-26T22:30:46Z,120,,ana@contoso.com,approve by hand",
    "wave-7,pause,payroll,paused,2026-11-26T22:36:47Z,240,,,",
    "wave-7,traffic,payroll,flighting,2026-11-26T22:10:45Z,,10,,0% -> 10%",
    "wave-7,traffic,ledger,flighting,2026-11-26T22:10:45Z,,10,,0% -> 10%",
    "wave-7,traffic,payroll,flighting,2026-11-26T22:15:46Z,,50,,10% -> 50%",
    "wave-7,traffic,ledger,flighting,2026-11-26T22:15:46Z,,50,,10% -> 50%",
    "wave-7,traffic,payroll,rolled-back,2026-11-26T22:17:16Z,,0,,50% -> 0%",
    "wave-7,traffic,ledger,rolled-back,2026-11-26T22:17:46Z,,0,,50% -> 0%",
    "wave-7,traffic,payroll,flighting,2026-11-26T22:30:46Z,,10,,0% -> 10%",
    "wave-7,traffic,payroll,flighting,2026-11-26T22:35:47Z,,50,,10% -> 50%",
    "wave-7,traffic,payroll,flighting,2026-11-26T22:55:48Z,,100,,50% -> 100%",
    "",
]

HTML = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>promote report: release '
    "wave-7</title><style>body{font-family:system-ui,sans-serif;margin:2rem}"
    "table{border-collapse:collapse;margin:.5rem "
    "0 1.5rem}td,th{border:1px solid #ccc;padding:.2rem "
    ".6rem;text-align:left}td.n{text-align:right}</style></head><body><h1>promote report: release wave-7</h1>",
    '<section class="report" id="report-wave-7" aria-labelledby="report-h-wave-7">',
    '<h2 id="report-h-wave-7">Report: wave-7</h2>',
    '<p class="facts"><span>state <strong>rolled-back</strong></span>',
    "<span>from <strong>2026-11-26 22:02:45Z</strong></span>",
    "<span>to <strong>2026-11-26 22:55:53Z</strong></span>",
    '<span>duration <strong class="report-duration">53m8s</strong></span>',
    "<span>changes <strong>3</strong></span>",
    '<span>rollbacks <strong class="report-rollbacks">2</strong></span>',
    '<span>change failure rate <strong class="report-cfr">67%</strong></span></p>',
    "",
    '<table class="report-workloads"><caption>Workloads</caption>',
    '<thead><tr><th scope="col">Workload</th><th scope="col">State</th><th scope="col">Duration</th><th '
    'scope="col">Attempts</th></tr></thead>',
    '<tbody><tr><th scope="row">payroll</th><td>promoted</td><td class="n">-</td><td '
    'class="n">2</td></tr><tr><th scope="row">ledger</th><td>rolled-back</td><td class="n">-</td><td '
    'class="n">1</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-phases"><caption>Time per phase (all workloads); * the apply is not in history: a '
    "workload&#39;s first phase counts from its first message</caption>",
    '<tbody><tr data-phase="replicating"><th scope="row">replicating *</th><td class="n">1m</td></tr><tr '
    'data-phase="testing"><th scope="row">testing</th><td class="n">6m</td></tr><tr data-phase="ready"><th '
    'scope="row">ready</th><td class="n">12m</td></tr><tr data-phase="flighting"><th '
    'scope="row">flighting</th><td class="n">38m39s</td></tr><tr data-phase="rolled-back"><th '
    'scope="row">rolled-back</th><td class="n">10m30s</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-gates"><caption>Waits by gate</caption>',
    '<tbody><tr data-gate="assets"><th scope="row">assets</th><td class="n">1m</td></tr><tr '
    'data-gate="tests"><th scope="row">tests</th><td class="n">6m</td></tr><tr data-gate="approval"><th '
    'scope="row">approval</th><td class="n">12m</td></tr><tr data-gate="bake"><th scope="row">bake</th><td '
    'class="n">33m30s</td></tr><tr data-gate="verdict"><th scope="row">verdict</th><td '
    'class="n">5m9s</td></tr><tr data-gate="paused"><th scope="row">paused</th><td class="n">4m</td></tr><tr '
    'data-gate="retry"><th scope="row">retry</th><td class="n">10m30s</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-rollbacks"><caption>Rollbacks</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">Cause</th><th '
    'scope="col">From</th><th scope="col">After the alert</th><th scope="col">By</th></tr></thead>',
    '<tbody><tr data-cause="alert"><td>2026-11-26 22:17:16Z</td><td>payroll</td><td>alert</td><td>flighting at '
    '50%</td><td class="n">0s</td><td></td></tr><tr data-cause="verdict"><td>2026-11-26 '
    "22:17:46Z</td><td>ledger</td><td>verdict</td><td>flighting at 50%</td><td "
    'class="n">0s</td><td></td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-approvals"><caption>Approvals</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">By</th><th '
    'scope="col">Waited in ready</th><th scope="col">Their reason</th></tr></thead>',
    "<tbody><tr><td>2026-11-26 22:10:45Z</td><td>payroll</td><td>ana@contoso.com</td><td "
    'class="n">5m</td><td>approve by hand</td></tr><tr><td>2026-11-26 '
    '22:10:45Z</td><td>ledger</td><td>ana@contoso.com</td><td class="n">5m</td><td>approve by '
    "hand</td></tr><tr><td>2026-11-26 22:30:46Z</td><td>payroll</td><td>ana@contoso.com</td><td "
    'class="n">2m</td><td>approve by hand</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-traffic"><caption>Traffic</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">Share</th><th '
    'scope="col">State</th></tr></thead>',
    "<tbody><tr><td>2026-11-26 22:10:45Z</td><td>payroll</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:10:45Z</td><td>ledger</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:15:46Z</td><td>payroll</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:15:46Z</td><td>ledger</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:17:16Z</td><td>payroll</td><td>50% → "
    "0%</td><td>rolled-back</td></tr><tr><td>2026-11-26 22:17:46Z</td><td>ledger</td><td>50% → "
    "0%</td><td>rolled-back</td></tr><tr><td>2026-11-26 22:30:46Z</td><td>payroll</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:35:47Z</td><td>payroll</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:55:48Z</td><td>payroll</td><td>50% → "
    "100%</td><td>flighting</td></tr></tbody>",
    "</table>",
    "</section>",
    "</body></html>",
    "",
]

WAVE_TEXT = [
    "Release wave-7 (flight, wave wave-a): rolled-back",
    "  from 2026-11-26 22:02:45Z to 2026-11-26 22:55:53Z: 53m8s; 25 history entries",
    "  ends: rolled-back at 2026-11-26 22:17:46Z after 15m1s, rolled-back at 2026-11-26 22:55:53Z after 53m8s",
    "  changes 3, rollbacks 2, change failure rate 67%",
    "",
    "Workloads",
    "  payroll                  promoted              -  attempts 2",
    "  ledger                   rolled-back           -  attempts 1",
    "",
    "Time per phase (all workloads)",
    "  replicating          1m *",
    "  testing              6m",
    "  ready               12m",
    "  flighting        38m39s",
    "  rolled-back      10m30s",
    "  * the apply is not in history: a workload's first phase counts from its first message",
    "",
    "Waits by gate",
    "  assets               1m",
    "  tests                6m",
    "  approval            12m",
    "  bake             33m30s",
    "  verdict            5m9s",
    "  paused               4m",
    "  retry            10m30s",
    "",
    "Flights",
    "  flight 1          15m3s  (3x)",
    "  flight 2         23m31s  (3x)",
    "  flight 3             5s  (1x)",
    "",
    "Rollbacks",
    "  2026-11-26 22:17:16Z  payroll          alert     from flighting at 50%, 0s after the alert",
    "  2026-11-26 22:17:46Z  ledger           verdict   from flighting at 50%, 0s after the alert",
    "",
    "Approvals",
    '  2026-11-26 22:10:45Z  payroll          by ana@contoso.com, after 5m in ready: "approve by hand"',
    '  2026-11-26 22:10:45Z  ledger           by ana@contoso.com, after 5m in ready: "approve by hand"',
    '  2026-11-26 22:30:46Z  payroll          by ana@contoso.com, after 2m in ready: "approve by hand"',
    "",
    "Pauses",
    "  2026-11-26 22:36:47Z  payroll          4m",
    "",
    "Traffic",
    "  2026-11-26 22:10:45Z  payroll            0% ->  10%  flighting",
    "  2026-11-26 22:10:45Z  ledger             0% ->  10%  flighting",
    "  2026-11-26 22:15:46Z  payroll           10% ->  50%  flighting",
    "  2026-11-26 22:15:46Z  ledger            10% ->  50%  flighting",
    "  2026-11-26 22:17:16Z  payroll           50% ->   0%  rolled-back",
    "  2026-11-26 22:17:46Z  ledger            50% ->   0%  rolled-back",
    "  2026-11-26 22:30:46Z  payroll            0% ->  10%  flighting",
    "  2026-11-26 22:35:47Z  payroll           10% ->  50%  flighting",
    "  2026-11-26 22:55:48Z  payroll           50% -> 100%  flighting",
    "",
    "Wave wave-a: 1 releases, from 2026-11-26 22:02:45Z to 2026-11-26 22:55:53Z: 53m8s",
    "  changes 3, rollbacks 2, change failure rate 67%",
    "  waits by gate: assets 1m, tests 6m, approval 12m, bake 33m30s, verdict 5m9s, paused 4m, retry 10m30s",
    "",
]

WAVE_JSON = {
    "wave": "wave-a",
    "started": "2026-11-26T22:02:45Z",
    "done": "2026-11-26T22:55:53Z",
    "seconds": 3188.0,
    "changes": 3,
    "rollbacks": 2,
    "change_failure_rate": 0.6666666666666666,
    "gates": {
        "assets": 60.0,
        "tests": 360.0,
        "approval": 720.0,
        "bake": 2010.0,
        "verdict": 309.0,
        "retry": 630.0,
        "paused": 240.0,
    },
    "phases": {"replicating": 60.0, "testing": 360.0, "ready": 720.0, "flighting": 2319.0, "rolled-back": 630.0},
    "releases": [JSON],
}

WAVE_HTML_SECTION = [
    '<section class="report" id="wave-report" aria-labelledby="wave-report-h">',
    '<h2 id="wave-report-h">Wave wave-a</h2>',
    '<p class="facts"><span>releases <strong>1</strong></span>',
    "<span>duration <strong>53m8s</strong></span>",
    "<span>changes <strong>3</strong></span>",
    "<span>rollbacks <strong>2</strong></span>",
    "<span>change failure rate <strong>67%</strong></span></p>",
    "</section>",
    '<section class="report" id="report-wave-7" aria-labelledby="report-h-wave-7">',
    '<h2 id="report-h-wave-7">Report: wave-7</h2>',
    '<p class="facts"><span>state <strong>rolled-back</strong></span>',
    "<span>from <strong>2026-11-26 22:02:45Z</strong></span>",
    "<span>to <strong>2026-11-26 22:55:53Z</strong></span>",
    '<span>duration <strong class="report-duration">53m8s</strong></span>',
    "<span>changes <strong>3</strong></span>",
    '<span>rollbacks <strong class="report-rollbacks">2</strong></span>',
    '<span>change failure rate <strong class="report-cfr">67%</strong></span></p>',
    "",
    '<table class="report-workloads"><caption>Workloads</caption>',
    '<thead><tr><th scope="col">Workload</th><th scope="col">State</th><th scope="col">Duration</th><th '
    'scope="col">Attempts</th></tr></thead>',
    '<tbody><tr><th scope="row">payroll</th><td>promoted</td><td class="n">-</td><td '
    'class="n">2</td></tr><tr><th scope="row">ledger</th><td>rolled-back</td><td class="n">-</td><td '
    'class="n">1</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-phases"><caption>Time per phase (all workloads); * the apply is not in history: a '
    "workload&#39;s first phase counts from its first message</caption>",
    '<tbody><tr data-phase="replicating"><th scope="row">replicating *</th><td class="n">1m</td></tr><tr '
    'data-phase="testing"><th scope="row">testing</th><td class="n">6m</td></tr><tr data-phase="ready"><th '
    'scope="row">ready</th><td class="n">12m</td></tr><tr data-phase="flighting"><th '
    'scope="row">flighting</th><td class="n">38m39s</td></tr><tr data-phase="rolled-back"><th '
    'scope="row">rolled-back</th><td class="n">10m30s</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-gates"><caption>Waits by gate</caption>',
    '<tbody><tr data-gate="assets"><th scope="row">assets</th><td class="n">1m</td></tr><tr '
    'data-gate="tests"><th scope="row">tests</th><td class="n">6m</td></tr><tr data-gate="approval"><th '
    'scope="row">approval</th><td class="n">12m</td></tr><tr data-gate="bake"><th scope="row">bake</th><td '
    'class="n">33m30s</td></tr><tr data-gate="verdict"><th scope="row">verdict</th><td '
    'class="n">5m9s</td></tr><tr data-gate="paused"><th scope="row">paused</th><td class="n">4m</td></tr><tr '
    'data-gate="retry"><th scope="row">retry</th><td class="n">10m30s</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-rollbacks"><caption>Rollbacks</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">Cause</th><th '
    'scope="col">From</th><th scope="col">After the alert</th><th scope="col">By</th></tr></thead>',
    '<tbody><tr data-cause="alert"><td>2026-11-26 22:17:16Z</td><td>payroll</td><td>alert</td><td>flighting at '
    '50%</td><td class="n">0s</td><td></td></tr><tr data-cause="verdict"><td>2026-11-26 '
    "22:17:46Z</td><td>ledger</td><td>verdict</td><td>flighting at 50%</td><td "
    'class="n">0s</td><td></td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-approvals"><caption>Approvals</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">By</th><th '
    'scope="col">Waited in ready</th><th scope="col">Their reason</th></tr></thead>',
    "<tbody><tr><td>2026-11-26 22:10:45Z</td><td>payroll</td><td>ana@contoso.com</td><td "
    'class="n">5m</td><td>approve by hand</td></tr><tr><td>2026-11-26 '
    '22:10:45Z</td><td>ledger</td><td>ana@contoso.com</td><td class="n">5m</td><td>approve by '
    "hand</td></tr><tr><td>2026-11-26 22:30:46Z</td><td>payroll</td><td>ana@contoso.com</td><td "
    'class="n">2m</td><td>approve by hand</td></tr></tbody>',
    "</table>",
    "",
    '<table class="report-traffic"><caption>Traffic</caption>',
    '<thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">Share</th><th '
    'scope="col">State</th></tr></thead>',
    "<tbody><tr><td>2026-11-26 22:10:45Z</td><td>payroll</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:10:45Z</td><td>ledger</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:15:46Z</td><td>payroll</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:15:46Z</td><td>ledger</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:17:16Z</td><td>payroll</td><td>50% → "
    "0%</td><td>rolled-back</td></tr><tr><td>2026-11-26 22:17:46Z</td><td>ledger</td><td>50% → "
    "0%</td><td>rolled-back</td></tr><tr><td>2026-11-26 22:30:46Z</td><td>payroll</td><td>0% → "
    "10%</td><td>flighting</td></tr><tr><td>2026-11-26 22:35:47Z</td><td>payroll</td><td>10% → "
    "50%</td><td>flighting</td></tr><tr><td>2026-11-26 22:55:48Z</td><td>payroll</td><td>50% → "
    "100%</td><td>flighting</td></tr></tbody>",
    "</table>",
    "</section>",
    "",
]


def test_the_report_as_text(report):
    assert render(report, "text").split("\n") == TEXT


def test_the_report_as_json(report):
    assert json.loads(render(report, "json")) == JSON


def test_the_report_as_csv(report):
    assert render(report, "csv").split("\n") == CSV


def test_the_report_as_a_page(report):
    assert render(report, "html").split("\n") == HTML


def test_the_waves_report(report):
    wave = WaveReport("wave-a", [report])
    assert render(wave, "text").split("\n") == WAVE_TEXT
    assert json.loads(render(wave, "json")) == WAVE_JSON
    assert render(wave, "csv").split("\n") == CSV  # the rows of its releases
    assert html_section(wave).split("\n") == WAVE_HTML_SECTION
    page = render(wave, "html")
    assert page == (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>promote report: wave wave-a</title>'
        + HTML[1][HTML[1].index("<style>") : HTML[1].index("<h1>")]
        + "<h1>promote report: wave wave-a</h1>\n"
        + html_section(wave)
        + "</body></html>\n"
    )


EMPTY_TEXT = [
    "Release wave-7 (staged): -",
    "  from - to (not done): -; 0 history entries",
    "  changes 0, rollbacks 0, change failure rate -",
    "",
    "Workloads",
    *[f"  {name:<24} -                     -  attempts 1" for name in ("payroll", "hr", "crm", "ledger", "billing",
                                                                      "sales")],
    "",
    "Time per phase (all workloads)",
    "",
    "Waits by gate",
    "",
    "Rollbacks",
    "  none",
    "",
    "Approvals",
    "  none",
    "",
    "Traffic",
    "",
]  # fmt: skip


def test_the_report_of_a_release_without_history():
    from tests.unit.test_pin_status import staged_release

    release = staged_release()
    empty = release_report(release.plan, [], None)
    assert render(empty, "text").split("\n") == EMPTY_TEXT
    assert render(empty, "anything else") == render(empty, "text")
    assert render(empty, "csv").split("\n") == [
        "release,section,workload,name,at,seconds,value,actor,detail",
        "wave-7,release,,,,,0,,change failure rate -",
        *[f"wave-7,workload,{n},,,,1,," for n in ("payroll", "hr", "crm", "ledger", "billing", "sales")],
        "",
    ]
    doc = json.loads(render(empty, "json"))
    assert {k: v for k, v in doc.items() if k != "workloads"} == {
        "release": "wave-7", "model": "staged", "wave": None, "state": None, "started": None, "done": None,
        "seconds": None, "ends": [], "entries": 0, "changes": 0, "change_failure_rate": None, "phases": {},
        "partial_phases": [], "gates": {}, "flights": {}, "rollbacks_by_cause": {}, "rollbacks": [],
        "approvals": [], "pauses": [], "traffic": [],
    }  # fmt: skip
    wave = WaveReport("w", [empty, empty])
    assert render(wave, "text").split("\n") == EMPTY_TEXT + EMPTY_TEXT + [
        "Wave w: 2 releases, from - to (not done): -",
        "  changes 0, rollbacks 0, change failure rate -",
        "  waits by gate: ",
        "",
    ]
    assert {k: v for k, v in json.loads(render(wave, "json")).items() if k != "releases"} == {
        "wave": "w", "started": None, "done": None, "seconds": None, "changes": 0, "rollbacks": 0,
        "change_failure_rate": None, "gates": {}, "phases": {},
    }  # fmt: skip


def test_a_wave_sums_its_releases_and_is_done_only_when_each_is(report):
    from tests.unit.test_pin_status import staged_release

    twice = WaveReport("wave-a", [report, report])
    doc = json.loads(render(twice, "json"))
    assert {k: v for k, v in doc.items() if k != "releases"} == {
        "wave": "wave-a", "started": "2026-11-26T22:02:45Z", "done": "2026-11-26T22:55:53Z", "seconds": 3188.0,
        "changes": 6, "rollbacks": 4, "change_failure_rate": 4 / 6,
        "gates": {"assets": 120.0, "tests": 720.0, "approval": 1440.0, "bake": 4020.0, "verdict": 618.0,
                  "retry": 1260.0, "paused": 480.0},
        "phases": {"replicating": 120.0, "testing": 720.0, "ready": 1440.0, "flighting": 4638.0,
                   "rolled-back": 1260.0},
    }  # fmt: skip
    empty = release_report(staged_release().plan, [], None)
    unfinished = json.loads(render(WaveReport("wave-a", [report, empty]), "json"))
    assert (unfinished["started"], unfinished["done"], unfinished["seconds"]) == ("2026-11-26T22:02:45Z", None, None)
    assert json.loads(render(WaveReport("none", []), "json"))["done"] is None


def test_a_finalized_workloads_duration_and_an_unstarted_abort():
    from datetime import timedelta

    from shared.domain.model import HistoryEntry
    from shared.domain.plan import validate_plan
    from tests.unit.test_pin_status import NOW

    plan = validate_plan(
        {"release": "r1", "model": "single-step", "approvers": ["ana@contoso.com"], "operators": ["ops@contoso.com"],
         "workloads": [{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}]}
    )  # fmt: skip

    def entry(minutes, type_, workload, from_, to, share, actor=None):
        return HistoryEntry(NOW + timedelta(minutes=minutes), f"e{minutes}", type_, "applied", type_, workload,
                            from_, to, share, actor=actor)  # fmt: skip

    entries = [
        entry(0, "asset-replicated", "w1", "replicating", "testing", 0),
        entry(1, "override", "w2", "replicating", "aborted", 0, "ops@contoso.com"),
        entry(5, "tests-passed", "w1", "testing", "ready", 0),
        entry(10, "override", "w1", "ready", "promoted", 100, "ana@contoso.com"),
        entry(70, "override", "w1", "promoted", "finalized", 100, "ana@contoso.com"),
    ]
    r = release_report(plan, entries, "finalized")
    assert render(r, "text").split("\n")[:8] == [
        "Release r1 (single-step): finalized",
        "  from 2026-03-02 12:00:00Z to 2026-03-02 13:10:00Z: 1h10m; 5 history entries",
        "  ends: finalized at 2026-03-02 13:10:00Z after 1h10m",
        "  changes 1, rollbacks 0, change failure rate 0%",
        "",
        "Workloads",
        "  w1                       finalized         1h10m  attempts 1",
        "  w2                       aborted               -  attempts 1",
    ]
    doc = json.loads(render(r, "json"))
    assert (doc["workloads"], doc["ends"]) == (
        [{"name": "w1", "state": "finalized", "started": "2026-03-02T12:00:00Z", "done": "2026-03-02T13:10:00Z",
          "seconds": 4200.0, "attempts": 1},
         {"name": "w2", "state": "aborted", "started": None, "done": None, "seconds": None, "attempts": 1}],
        [{"state": "finalized", "status": "succeeded", "at": "2026-03-02T13:10:00Z", "seconds": 4200.0}],
    )  # fmt: skip
    assert render(r, "csv").split("\n")[2:5] == [
        "r1,end,,finalized,2026-03-02T13:10:00Z,4200,,,succeeded",
        "r1,workload,w1,finalized,2026-03-02T12:00:00Z,4200,1,,",
        "r1,workload,w2,aborted,,,1,,",
    ]


def test_an_operators_rollback_and_a_quorums_approvals():
    from datetime import timedelta

    from shared.domain.model import HistoryEntry
    from shared.domain.plan import validate_plan
    from tests.unit.test_pin_status import NOW

    plan = validate_plan(
        {"release": "r2", "model": "single-step", "approval": {"mode": "manual", "quorum": 2},
         "approvers": ["ana@contoso.com", "bo@contoso.com"], "operators": ["ops@contoso.com"],
         "workloads": [{"name": "w1", "assets": ["a"]}]}
    )  # fmt: skip

    def entry(minutes, type_, from_, to, share, reason, actor=None, why=None):
        return HistoryEntry(NOW + timedelta(minutes=minutes), f"e{minutes}", type_, "applied", reason, "w1", from_,
                            to, share, actor=actor, actor_reason=why)  # fmt: skip

    entries = [
        entry(0, "asset-replicated", "replicating", "testing", 0, "asset replicated"),
        entry(2, "tests-passed", "testing", "ready", 0, "tests passed"),
        entry(3, "override", "ready", "ready", 0, "approval counted: 1 of 2", "ana@contoso.com", "looks fine"),
        entry(4, "override", "ready", "promoted", 100, "approved by bo", "bo@contoso.com"),
        entry(9, "override", "promoted", "rolled-back", 0, "rolled back to 0%", "ops@contoso.com", "users complain"),
    ]
    r = release_report(plan, entries, "rolled-back")
    text = render(r, "text")
    assert text[text.index("Rollbacks") :].split("\n") == [
        "Rollbacks",
        "  2026-03-02 12:09:00Z  w1               operator  from promoted at 100% (by ops@contoso.com)",
        "",
        "Approvals",
        '  2026-03-02 12:03:00Z  w1               by ana@contoso.com, counted toward the quorum: "looks fine"',
        "  2026-03-02 12:04:00Z  w1               by bo@contoso.com, after 2m in ready",
        "",
        "Traffic",
        "  2026-03-02 12:04:00Z  w1                 0% -> 100%  promoted",
        "  2026-03-02 12:09:00Z  w1               100% ->   0%  rolled-back",
        "",
    ]
    assert [line for line in render(r, "csv").split("\n") if line.split(",")[1:2] in (["rollback"], ["approval"])] == [
        "r2,rollback,w1,operator,2026-03-02T12:09:00Z,,100,ops@contoso.com,rolled back to 0%",
        "r2,approval,w1,counted,2026-03-02T12:03:00Z,,,ana@contoso.com,looks fine",
        "r2,approval,w1,approve,2026-03-02T12:04:00Z,120,,bo@contoso.com,",
    ]
