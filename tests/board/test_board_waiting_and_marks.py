"""The board's release page on the real Azurite: the §8 gates (data-sync, hypercare, finalize) show in the
"Waiting for" column like every other gate, and a redelivered message (recorded as a duplicate) adds no
second mark to the workload's timeline."""

from __future__ import annotations

import re

from shared.application.bootstrap import Stack
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


def _page(stack: Stack, release: str) -> str:
    page = stack.board("/").handle(f"releases/{release}", {})
    assert page.status == 200
    return page.body.decode()


def _row(html: str, workload: str) -> str:
    match = re.search(rf'<tr data-workload="{workload}">(.*?)</tr>', html, re.S)
    assert match, workload
    return match.group(1)


def _gates(html: str, workload: str) -> dict[str, str]:
    """Gate -> the text shown for it, in the workload's "Waiting for" cell."""
    return dict(re.findall(r'<span class="gate" data-gate="([^"]+)">([^<]*)</span>', _row(html, workload)))


def _timeline(html: str, workload: str) -> str:
    match = re.search(rf'<section class="timeline-card" id="timeline-{workload}".*?</section>', html, re.S)
    assert match, workload
    return match.group(0)


def test_the_data_sync_hypercare_and_finalize_gates_show_as_waiting(settings, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approval": "auto",
                "approvers": [APPROVER],
                "hypercare": "1h",
                "workloads": [
                    {"name": "early", "assets": ["vm-e"]},
                    {"name": "late", "assets": ["vm-l"]},
                    {"name": "synced", "assets": ["vm-s"], "data_sync": {"max_lag": "5s", "max_age": "2m"}},
                ],
            }
        )
    )

    def ready(workload: str) -> None:
        stack.service.handle(
            event("asset-replicated", release_name, workload, f"{workload}-r", asset=f"vm-{workload[0]}")
        )
        stack.service.handle(event("tests-passed", release_name, workload, f"{workload}-t"))

    ready("early")  # promoted now: its hypercare ends in an hour
    clock.advance(2 * 3600)
    ready("late")  # promoted two hours later: in hypercare
    ready("synced")  # ready, but no replication-lag report yet
    html = _page(stack, release_name)
    assert _gates(html, "early") == {"finalize": "finalize: waiting for an approver"}
    assert _gates(html, "late") == {"hypercare": "hypercare until 2026-11-27T01:00:00Z"}
    assert _gates(html, "synced") == {"data-sync": "data-sync: lag none reported (max 5s, max age 120s)"}


def test_a_redelivered_message_adds_no_second_mark(stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approvers": [APPROVER],
                "operators": [OPERATOR],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    pause = event("override", release_name, "web", "pause-1", action="pause", actor=OPERATOR, reason="look")
    assert stack.service.handle(pause).outcome == "applied"
    assert stack.service.handle(pause).outcome == "duplicate"  # redelivered: recorded, changes nothing
    stack.service.handle(
        event("override", release_name, "web", "resume-1", action="resume", actor=OPERATOR, reason="ok")
    )
    timeline = _timeline(_page(stack, release_name), "web")
    assert timeline.count('<tr class="mark-row" data-kind="override">') == 2  # pause and resume, once each
    assert timeline.count('<g class="mark mark-override"') == 2
    assert "Marked: 2 overrides." in timeline
