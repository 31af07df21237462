"""The board's "Waiting for" column (board/waiting.py) pinned whole for each workload of the staged release of
test_pin_status.py: each gate once, in the registry's order, worded as status words it, with the time it holds
until. The §8 gates (data-sync, hypercare, finalize) are in the registry's list: the board showed each of them
twice (once more from finish_holds)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.application.board.waiting import waiting_for
from shared.domain.gates import waiting_for as domain_waiting_for
from tests.unit.test_pin_status import NOW, staged_release


def test_each_workloads_gates_once_in_words_with_their_end():
    release = staged_release()
    shown = {name: waiting_for(release, w, NOW) for name, w in release.workloads.items()}
    assert shown == {
        "payroll": [
            {"gate": "hypercare", "detail": "hypercare until 2026-03-02T13:30:00Z",
             "until": datetime(2026, 3, 2, 13, 30, tzinfo=UTC)},
        ],
        "hr": [],
        "crm": [
            {"gate": "approval", "detail": "1 of 2 approvals (ana@contoso.com) by ana@contoso.com, bo@contoso.com",
             "until": None},
            {"gate": "release", "detail": "the rest of the release: ledger, billing", "until": None},
            {"gate": "window",
             "detail": "change window closed (denied period: freeze), opens 2026-03-03 06:00 UTC (06:00Z)",
             "until": datetime(2026, 3, 3, 6, 0, tzinfo=UTC)},
            {"gate": "after", "detail": "waiting for release(s) wave-6 to be promoted", "until": None},
        ],
        "ledger": [
            {"gate": "tests", "detail": "tests: waiting for tests-passed", "until": None},
            {"gate": "paused", "detail": "paused by ops@contoso.com: DBA on leave", "until": None},
        ],
        "billing": [
            {"gate": "retry", "detail": "override retry by one of ops@contoso.com, ana@contoso.com, bo@contoso.com",
             "until": None},
        ],
        "sales": [
            {"gate": "finalize", "detail": "finalize: decommission failed 3x (VM busy), retrying", "until": None},
        ],
    }  # fmt: skip


def test_the_gates_given_are_the_ones_shown():
    release = staged_release()
    w = release.workloads["ledger"]
    given = domain_waiting_for(release, w, NOW)[1:]  # a page's gates (gates_view.gates_of): the pause only
    assert waiting_for(release, w, NOW, given) == [
        {"gate": "paused", "detail": "paused by ops@contoso.com: DBA on leave", "until": None}
    ]
