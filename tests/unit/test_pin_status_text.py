"""`promote status`'s text of a status document, line by line, for what the whole-release pins
(test_pin_status.py) do not show: one workload, a routing move under way, a window that never opens, names
past the shown ones, a page and its filter, attention past its first twenty, each finishing hold, each
rehearsal state; the deadline's boundary; `promote history`'s table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.application.views import history_text, status_doc_text, time_json
from shared.domain.model import HistoryEntry, WorkloadState, new_release
from shared.domain.plan import validate_plan

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def workload(name: str, **fields) -> dict:
    """A workload of a status document with the fields the text reads, none of them holding it."""
    return {
        "name": name,
        "state": "promoted",
        "paused": False,
        "flight": None,
        "traffic_percent": 100,
        "assets": {"vm-1": "replicated", "vm-2": "pending", "vm-3": "replicated"},
        "tests_passed": True,
        "provider": "private-dns",
        "finalized_by": None,
        "finalized_at": None,
        "finish_waiting_for": [],
        "lag_seconds": None,
        "waiting_for": [],
        "deadline": None,
        "overdue": False,
        **fields,
    }


def document(workloads: list[dict], **fields) -> dict:
    return {
        "release": "wave-3",
        "model": "single-step",
        "state": "in-progress",
        "approval": "auto",
        "counts": {"promoted": 1},
        "workloads": workloads,
        "access_revocation": None,
        "holds": [],
        "attention": [],
        **fields,
    }


def test_one_workload_is_one_workload_and_a_pending_revocation_says_nothing():
    doc = document([workload("solo")], access_revocation={"state": "pending", "failed_attempts": 0, "error": None})
    assert status_doc_text(doc).split("\n") == [
        "release wave-3  model single-step  state in-progress  approval auto",
        "1 promoted (1 workload)",
        "",
        "WORKLOAD  STATE     FLIGHT  TRAFFIC  ASSETS  TESTS  ROUTING      FINISH",
        "--------  --------  ------  -------  ------  -----  -----------  ------",
        "solo      promoted  -       100%     2/3     yes    private-dns  -",
    ]


def test_no_counts_and_no_workloads_make_an_empty_table():
    doc = document([], counts={}, total=0)
    assert status_doc_text(doc).split("\n") == [
        "release wave-3  model single-step  state in-progress  approval auto",
        " (0 workloads)",
        "",
        "WORKLOAD  STATE  FLIGHT  TRAFFIC  ASSETS  TESTS  ROUTING  FINISH",
        "--------  -----  ------  -------  ------  -----  -------  ------",
    ]


def test_a_page_with_its_holds_routing_move_attention_and_finishing_holds():
    attention = [
        {"workload": f"w{i:02d}", "state": "testing", "traffic_percent": 0, "why": f"reason {i}"} for i in range(23)
    ]
    finish = [
        workload("a", finish_waiting_for=[{"gate": "data-sync", "lag_seconds": None, "reported_at": None,
                                           "max_lag_seconds": 5, "max_age_seconds": 120}]),
        workload("b", finish_waiting_for=[{"gate": "data-sync", "lag_seconds": 12.5,
                                           "reported_at": "2026-03-02T11:59:00Z",
                                           "max_lag_seconds": 5, "max_age_seconds": 120}]),
        workload("c", finish_waiting_for=[{"gate": "finalize", "approval": "auto", "error": None}]),
        workload("d", finish_waiting_for=[{"gate": "finalize", "approval": "manual"}]),
        workload("e", lag_seconds=0.5, paused=True, state="testing", traffic_percent=0, flight=2),
        workload("f", lag_seconds=2.0, finish_waiting_for=[{"gate": "hypercare", "until": "2026-03-02T14:00:00Z"}]),
    ]  # fmt: skip
    doc = document(
        finish,
        counts={"testing": 1, "promoted": 2_500},
        total=2_501,
        routing_progress={"done": 1_234, "total": 5_000, "writes_done": 310, "writes": 795, "eta_s": 200,
                          "took_s": None, "failed": False, "stale": False, "recorded_at": "2026-03-02T11:59:50Z"},
        access_revocation={"state": "failing", "failed_attempts": 1, "error": "denied"},
        holds=[
            {"gate": "window", "reason": "outside the allowed hours", "opens": None},
            {"gate": "approval", "approvers": ["ana@contoso.com"], "workload_count": 1_200},
            {"gate": "release", "workloads": ["x1", "x2"], "workload_count": 1_502},
            {"gate": "paused", "workloads": ["p1"], "workload_count": 1},
        ],
        attention=attention,
        page={"number": 2, "pages": 4, "size": 6, "matching": 1_001},
        filter={"state": "promoted", "workload": "a"},
    )  # fmt: skip
    assert status_doc_text(doc).split("\n") == [
        "release wave-3  model single-step  state in-progress  approval auto",
        "1 testing, 2,500 promoted (2,501 workloads)",
        "routing: 1,234 / 5,000 workloads (310 / 795 Azure writes), ETA 3 min",
        "access revocation FAILING after 1 attempt(s), retried: denied",
        "",
        "the release waits for:",
        "  change window: outside the allowed hours; opens never",
        "  approval by one of ana@contoso.com (1,200 ready, not approved)",
        "  1,502 workload(s) not ready: x1, x2 and 1,500 more",
        "  1 paused workload(s): p1",
        "",
        "WORKLOAD  STATE             FLIGHT  TRAFFIC  ASSETS  TESTS  ROUTING      FINISH",
        "--------  ----------------  ------  -------  ------  -----  -----------  " + "-" * 67,
        "a         promoted          -       100%     2/3     yes    private-dns  "
        "data-sync: lag none reported (max 5s, max age 120s)",
        "b         promoted          -       100%     2/3     yes    private-dns  "
        "data-sync: lag 12.5s at 2026-03-02T11:59:00Z (max 5s, max age 120s)",
        "c         promoted          -       100%     2/3     yes    private-dns  finalize: automatic",
        "d         promoted          -       100%     2/3     yes    private-dns  finalize: waiting for an approver",
        "e         testing (paused)  2       0%       2/3     yes    private-dns  lag 0.5s",
        "f         promoted          -       100%     2/3     yes    private-dns  hypercare until 2026-03-02T14:00:00Z",
        "workloads 7-12 of 1,001 (state promoted, workload a), page 2 of 4; "
        "next: promote status --release wave-3 --state promoted --workload a --page 3; every workload: --all",
        "",
        "attention:",
        *[f"  w{i:02d} (testing, 0%): reason {i}" for i in range(20)],
        "  ... and 3 more (promote status --json lists every one)",
    ]


def test_the_last_page_and_an_empty_page_name_no_next_one():
    last = document([workload("a"), workload("b")], page={"number": 3, "pages": 3, "size": 2, "matching": 6})
    assert status_doc_text(last).split("\n")[-1] == "workloads 5-6 of 6, page 3 of 3; every workload: --all"
    empty = document([], page={"number": 1, "pages": 1, "size": 100, "matching": 0}, filter={"state": "aborted"})
    assert status_doc_text(empty).split("\n")[-1] == "no workloads (state aborted), page 1 of 1; every workload: --all"


def test_exactly_twenty_attention_items_are_all_shown_with_no_more_line():
    attention = [{"workload": f"w{i}", "state": "ready", "traffic_percent": 0, "why": "x"} for i in range(20)]
    lines = status_doc_text(document([], attention=attention)).split("\n")
    assert lines[-21:] == ["attention:", *[f"  w{i} (ready, 0%): x" for i in range(20)]]


def test_gates_the_registry_does_not_word_show_their_details_or_their_name_alone():
    waiting = [
        workload("a", waiting_for=[{"gate": "hypercare", "until": "2026-03-02T14:00:00Z"}]),
        workload("b", waiting_for=[{"gate": "finalize", "approval": "manual", "error": None, "failures": 0,
                                    "approvers": [], "requested_by": ""}]),
        workload("c", waiting_for=[], deadline="2026-03-02T12:00:00Z", overdue=True),
        workload("d", waiting_for=[{"gate": "ttl", "until": "2026-03-02T12:30:00Z"}, {"gate": "data-sync"}]),
    ]  # fmt: skip
    lines = status_doc_text(document(waiting)).split("\n")
    assert lines[lines.index("waiting for") :] == [
        "waiting for",
        "  a waits for: hypercare: until 2026-03-02T14:00:00Z",
        "  b waits for: finalize: approval manual, failures 0",
        "  c waits for: nothing  (deadline 2026-03-02T12:00:00Z, OVERDUE)",
        "  d waits for: ttl: until 2026-03-02T12:30:00Z; data-sync",
    ]


def test_each_rehearsal_state_in_words():
    def rehearsal(state, at=None, by=None, matches=None, job=None, note=None):
        return {
            "state": state,
            "at": at,
            "by": by,
            "plan_matches": matches,
            "plan_hash": "h1",
            "job": job,
            "note": note,
        }

    waiting = [
        workload("a", rehearsal=rehearsal("none")),
        workload("b", rehearsal=rehearsal("running", at="2026-03-02T11:00:00Z", by="ana", matches=True, job="j-1")),
        workload("c", rehearsal=rehearsal("cleaned", at="2026-03-02T10:00:00Z", matches=False)),
        workload("d", rehearsal=rehearsal("failed", note="suite smoke run 7 failed")),
        workload("e", rehearsal=rehearsal("failed")),
        workload("f", rehearsal=rehearsal("passed", note="suite smoke run 8")),
        workload("g", rehearsal=None),
    ]
    waiting.insert(0, workload("first", rehearsal=None))  # one without a rehearsal does not end the list
    lines = status_doc_text(document(waiting)).split("\n")
    assert lines[lines.index("rehearsals (Azure Migrate test migration)") :] == [
        "rehearsals (Azure Migrate test migration)",
        "  a: no rehearsal yet",
        "  b: running, no verdict yet; started 2026-03-02T11:00:00Z by ana; plan hash h1 (this plan); test job j-1",
        "  c: cleaned up, no verdict; started 2026-03-02T10:00:00Z by -; plan hash h1 (ANOTHER plan: rehearse again)",
        "  d: failed (suite smoke run 7 failed)",
        "  e: failed",
        "  f: passed",
    ]


def test_a_deadline_is_overdue_from_the_moment_it_falls():
    plan = validate_plan(
        {"release": "r1", "model": "single-step", "deadlines": {"replicating": "1h"},
         "workloads": [{"name": "w1", "assets": ["a"]}]}
    )  # fmt: skip
    release = new_release(plan, NOW - timedelta(hours=3))
    w = replace(release.workloads["w1"], state=WorkloadState.REPLICATING, state_since=NOW - timedelta(hours=1))
    gates: list = []
    assert time_json(release, w, NOW, gates) == {"waiting_for": [], "deadline": "2026-03-02T12:00:00Z", "overdue": True}
    before = NOW - timedelta(seconds=1)
    assert time_json(release, w, before, gates)["overdue"] is False


def test_the_history_table():
    entries = [
        HistoryEntry(NOW, "e1", "override", "applied", "paused by ops", "w1", "testing", "testing", 0, actor="ops",
                     actor_reason="CAB freeze"),
        HistoryEntry(NOW + timedelta(seconds=61), "e2", "apply", "applied", "release applied", None, None, None, None),
        HistoryEntry(NOW + timedelta(hours=1), "e3", "flight-healthy", "ignored", "stale", "w2", "flighting", None, 50,
                     actor_reason=None),
    ]  # fmt: skip
    assert history_text(entries).split("\n") == [
        "AT (UTC)              WORKLOAD  TYPE            OUTCOME  STATE               TRAFFIC  ACTOR  REASON",
        "--------------------  --------  --------------  -------  ------------------  -------  -----  " + "-" * 44,
        "2026-03-02 12:00:00Z  w1        override        applied  testing -> testing  0%       ops    "
        'paused by ops | actor\'s reason: "CAB freeze"',
        "2026-03-02 12:01:01Z  -         apply           applied  - -> -              -               release applied",
        "2026-03-02 13:00:00Z  w2        flight-healthy  ignored  flighting -> -      50%             stale",
    ]
    assert history_text([]).split("\n") == [
        "AT (UTC)  WORKLOAD  TYPE  OUTCOME  STATE  TRAFFIC  ACTOR  REASON",
        "--------  --------  ----  -------  -----  -------  -----  ------",
    ]


def test_lists_of_two_are_joined_and_one_more_is_counted():
    doc = document(
        [workload("a", finish_waiting_for=[{"gate": "hypercare", "until": "2026-03-02T14:00:00Z"},
                                           {"gate": "finalize", "approval": "auto"}])],
        holds=[{"gate": "after", "releases": ["wave-5", "wave-6"]},
               {"gate": "paused", "workloads": ["p1", "p2"], "workload_count": 3}],
        page={"number": 1, "pages": 2, "size": 1, "matching": 2},
    )  # fmt: skip
    lines = status_doc_text(doc).split("\n")
    assert lines[3:6] == [
        "the release waits for:",
        "  release(s) wave-5, wave-6 to be promoted",
        "  3 paused workload(s): p1, p2 and 1 more",
    ]
    assert lines[-2:] == [
        "a         promoted  -       100%     2/3     yes    private-dns  hypercare until 2026-03-02T14:00:00Z; "
        "finalize: automatic",
        "workloads 1-1 of 2, page 1 of 2; next: promote status --release wave-3 --page 2; every workload: --all",
    ]


def test_the_health_lines_skip_a_judged_workload_not_flighting():
    health = {"interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None}
    doc = document([workload("landed", health=health), workload("up", state="flighting", flight=2, health=health)])
    lines = status_doc_text(doc).split("\n")
    assert lines[lines.index("health (the judge's last evaluation)") :] == [
        "health (the judge's last evaluation)",
        "  up: flight 2 not evaluated yet (every 60s)",
    ]


def test_a_status_without_a_time_is_of_now():
    from shared.application.views import status_json

    plan = validate_plan(
        {"release": "r1", "model": "single-step", "deadlines": {"replicating": "1h"},
         "workloads": [{"name": "w1", "assets": ["a"]}]}
    )  # fmt: skip
    release = new_release(plan, NOW)  # applied 2026-03-02: its replicating deadline passed long before now
    w = replace(release.workloads["w1"], state_since=NOW)
    doc = status_json(release.evolve(workloads={"w1": w}))
    assert (doc["workloads"][0]["deadline"], doc["workloads"][0]["overdue"]) == ("2026-03-02T13:00:00Z", True)
