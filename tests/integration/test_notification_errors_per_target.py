"""`promote notifications` shows each target's own error (issue 29.7): a notice whose webhook setting is missing
and whose Event Grid topic refuses the key lists each failure on its own target, through the real outbox on
Azurite, and a target that accepted shows none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.adapters.notifiers import notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import Receiver

PROMOTE = str(Path(sys.executable).with_name("promote"))


@pytest.fixture
def receiver():
    r = Receiver().up()
    yield r
    r.down()


def refused_notice(stack: Stack, release: str, notify: list[dict]) -> None:
    """A release whose first message is a stranger's override: one notice (override-rejected) for every target."""
    stack.service.apply(
        validate_plan(
            {
                "release": release,
                "model": "single-step",
                "approvers": ["ana@contoso.com"],
                "notify": notify,
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    stack.service.handle(event("override", release, None, "x", action="abort", actor="eve@x.com", reason="r"))


def test_each_target_lists_its_own_error(settings, receiver, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    refused_notice(
        stack,
        release_name,
        [
            {"kind": "webhook", "url_setting": "ERRORS_NOT_SET"},
            {"kind": "teams", "url_setting": "ERRORS_TEAMS"},
            {"kind": "event-grid", "url_setting": "ERRORS_GRID"},
        ],
    )
    settings_ = {
        "ERRORS_TEAMS": receiver.url("teams"),
        "ERRORS_GRID": receiver.url("event-grid"),
        "ERRORS_GRID_KEY": "wrong-key",
    }
    NotificationDeliverer(stack.outbox, notifiers(settings_.get), settings_.get, clock).deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [(r["target"], r["status"], r["last_error"]) for r in rows] == [
        ("webhook", "pending", "webhook: setting ERRORS_NOT_SET is not set"),
        ("teams", "sent", None),
        # a wrong key is refused for good: failed at once, not retried for hours
        (
            "event-grid",
            "failed",
            "event-grid (ERRORS_GRID): the topic answered HTTP 401: not authorised (its access key; or a token "
            "for this cloud's Event Grid, EventGrid Data Sender) (refused: not retried)",
        ),
    ]


def test_with_ten_failing_targets_each_keeps_its_own_error_in_what_the_outbox_keeps(settings, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    refused_notice(stack, release_name, [{"kind": "webhook", "url_setting": f"ERRORS_UNSET_{i}"} for i in range(10)])
    NotificationDeliverer(stack.outbox, notifiers(lambda _: None), lambda _: None, clock).deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [r["last_error"] for r in rows] == [f"webhook: setting ERRORS_UNSET_{i} is not set" for i in range(10)]


def test_a_row_written_with_one_error_shows_it_on_every_target_it_did_not_reach(settings, release_name):
    """Rows recorded before errors were kept per target hold one text: it still shows, as it did."""
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    refused_notice(
        stack,
        release_name,
        [{"kind": "webhook", "url_setting": "ERRORS_A"}, {"kind": "webhook", "url_setting": "ERRORS_B"}],
    )
    [item] = stack.outbox.list_release(release_name)
    stack.outbox.record(
        item,
        sent=frozenset(),
        status="pending",
        attempts=1,
        next_attempt=clock.now(),
        last_error="webhook (ERRORS_B): the receiver answered HTTP 500",
    )
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [r["last_error"] for r in rows] == ["webhook (ERRORS_B): the receiver answered HTTP 500"] * 2


def test_promote_notifications_prints_each_targets_error(cli_env, stack, release_name):
    refused_notice(
        stack,
        release_name,
        [{"kind": "webhook", "url_setting": "HOOK_ONE"}, {"kind": "teams", "url_setting": "TEAMS_TWO"}],
    )
    NotificationDeliverer(stack.outbox, notifiers(lambda _: None), lambda _: None, stack.clock).deliver_due()
    cmd = [PROMOTE, "notifications", "--release", release_name]
    rows = json.loads(subprocess.run(cmd + ["--json"], env=cli_env, capture_output=True, text=True, check=True).stdout)
    assert [r["last_error"] for r in rows] == [
        "webhook: setting HOOK_ONE is not set",
        "teams: setting TEAMS_TWO is not set",
    ]
    lines = subprocess.run(cmd, env=cli_env, capture_output=True, text=True, check=True).stdout.splitlines()
    hook = next(line for line in lines if "(HOOK_ONE)" in line)
    teams = next(line for line in lines if "(TEAMS_TWO)" in line)
    assert "setting HOOK_ONE is not set" in hook and "TEAMS_TWO" not in hook.split("(HOOK_ONE)")[1]
    assert "setting TEAMS_TWO is not set" in teams and "HOOK_ONE" not in teams
