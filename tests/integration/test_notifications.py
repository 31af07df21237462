"""Notifications on the real Azurite (contract §11): outbox in the state's transaction, delivery at least once
with stable ids, receivers that are down never hold a promotion, retries with backoff, and the listing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.adapters.notifiers import notifiers
from shared.application.bootstrap import Stack
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.actors import clip_actor_reason
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import EVENT_GRID_KEY, Receiver

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"

PROMOTE = str(Path(sys.executable).with_name("promote"))  # the installed command, as a user runs it


@pytest.fixture
def receiver():
    r = Receiver().up()
    yield r
    r.down()


@pytest.fixture
def clocked(settings):
    """A stack whose clock the test controls, and a request counter on its table traffic."""
    requests: list[str] = []
    clock = FakeClock()
    stack = Stack(
        settings, clock=clock, request_hook=lambda r: requests.append(f"{r.http_request.method} {r.http_request.url}")
    )
    return stack, clock, requests


def apply(stack, name, **extra):
    doc = {
        "release": name,
        "model": "flight",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "flights": [{"percent": 100}],  # one flight: flight-started, then promoted
        "notify": [
            {"kind": "webhook", "url_setting": "HOOK"},
            {"kind": "teams", "url_setting": "TEAMS", "on": ["promoted", "rolled-back"]},
            {"kind": "event-grid", "url_setting": "GRID"},
        ],
        "workloads": [{"name": "web", "assets": ["vm-1"]}],
    }
    doc.update(extra)
    stack.service.apply(validate_plan(doc))


def deliverer(stack, clock, receiver, **kwargs):
    settings = {
        "HOOK": receiver.url("webhook"),
        "TEAMS": receiver.url("teams"),
        "GRID": receiver.url("event-grid"),
        "GRID_KEY": EVENT_GRID_KEY,
    }
    return NotificationDeliverer(stack.outbox, notifiers(settings.get), settings.get, clock, **kwargs)


def promote(stack, name):
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}), ("flight-healthy", {"flight": 1})]
    ):
        result = stack.service.handle(event(type_, name, "web", f"{name}-{i}", **data))
        assert result.outcome == "applied", result.reason


def test_a_message_with_notices_still_costs_one_query_and_one_transaction(clocked, release_name):
    stack, clock, requests = clocked
    apply(stack, release_name)
    stack.service.handle(event("asset-replicated", release_name, "web", "a", asset="vm-1"))
    requests.clear()
    stack.service.handle(event("tests-passed", release_name, "web", "t"))  # starts flight 1: a notice
    storage = [r for r in requests if "/promotereleases" in r or "$batch" in r]
    assert len(storage) == 2, storage  # the range read and the one submit_transaction
    [row] = stack.outbox.list_release(release_name)
    assert row.status == "pending" and [n["kind"] for n in row.notices] == ["flight-started"]


def test_receivers_that_are_down_never_hold_a_promotion_and_get_everything_later_with_the_same_ids(
    clocked, receiver, release_name
):
    stack, clock, _ = clocked
    apply(stack, release_name)
    receiver.down()
    promote(stack, release_name)
    assert stack.store.get_release(release_name).release.workloads["web"].state == "promoted"
    send = deliverer(stack, clock, receiver, backoff=lambda n: 10.0 * n)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert len(rows) == 5  # 2 notices x (webhook, event-grid) + teams, which listens for promoted only
    assert {r["status"] for r in rows} == {"pending"} and all(r["attempts"] == 1 for r in rows)
    assert all("127.0.0.1" not in (r["last_error"] or "") and "could not be reached" in r["last_error"] for r in rows)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert all(r["attempts"] == 1 for r in rows)  # backing off: nothing was due yet
    receiver.up()
    clock.advance(11)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    # rows of one instant (the test's clock stands still) need not list in the order they were committed
    assert sorted((r["kind"], r["target"], r["status"]) for r in rows) == [
        ("flight-started", "event-grid", "sent"),
        ("flight-started", "webhook", "sent"),
        ("promoted", "event-grid", "sent"),
        ("promoted", "teams", "sent"),
        ("promoted", "webhook", "sent"),
    ]
    ids = {r["kind"]: r["id"] for r in rows}
    mine = lambda kind: sorted(receiver.ids(kind, release_name))  # noqa: E731
    assert mine("webhook") == sorted(ids.values()) == mine("event-grid") and mine("teams") == [ids["promoted"]]
    assert receiver.refused == []
    clock.advance(3600)
    send.deliver_due()
    assert len(receiver.ids(release=release_name)) == 5  # sent rows are not sent again


def test_a_flaky_receiver_gets_the_rest_only_and_a_crash_before_recording_resends_the_same_id(
    clocked, receiver, release_name
):
    stack, clock, _ = clocked
    apply(
        stack,
        release_name,
        notify=[{"kind": "webhook", "url_setting": "HOOK"}, {"kind": "event-grid", "url_setting": "GRID"}],
    )
    promote(stack, release_name)
    send = deliverer(stack, clock, receiver, backoff=lambda n: 1.0)

    class Crash(Exception):
        pass

    class CrashingOutbox:  # the deliverer dies after sending, before it records what it sent
        def __init__(self, inner):
            self.inner = inner

        def due(self, now, limit):
            return self.inner.due(now, limit)

        def record(self, *args, **kwargs):
            raise Crash()

    crashing = NotificationDeliverer(CrashingOutbox(stack.outbox), send.notifiers, send.setting, clock)
    with pytest.raises(Crash):
        crashing.deliver_due()
    sent_once = receiver.ids(release=release_name)
    assert sent_once  # delivered, but not recorded
    receiver.behaviour.flaky = 0.5
    for _ in range(20):  # a flaky receiver: each round sends only what is still missing
        clock.advance(2)
        send.deliver_due()
    receiver.behaviour.flaky = 0
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [r["status"] for r in rows] == ["sent"] * 4
    ids = receiver.ids(release=release_name)
    assert set(ids) == {r["id"] for r in rows} and len(set(ids)) == 2  # two notices, each always with its id
    assert sum(1 for r in receiver.refused if "flaky" in r) >= 1


def test_a_missing_setting_is_retried_to_the_limit_and_a_refused_key_fails_at_once(clocked, receiver, release_name):
    stack, clock, _ = clocked
    apply(
        stack,
        release_name,
        notify=[{"kind": "webhook", "url_setting": "NOT_SET"}, {"kind": "event-grid", "url_setting": "GRID"}],
    )
    stack.service.handle(event("override", release_name, None, "x", action="abort", actor="eve@x.com", reason="r"))
    settings = {"GRID": receiver.url("event-grid"), "GRID_KEY": "wrong-key"}
    send = NotificationDeliverer(
        stack.outbox, notifiers(settings.get), settings.get, clock, max_attempts=2, backoff=lambda n: 5.0
    )
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    # a 401 is the topic's answer to every retry: failed at once, with the reason; the missing setting may be
    # set meanwhile: retried
    assert [(r["target"], r["status"]) for r in rows] == [("webhook", "pending"), ("event-grid", "failed")]
    assert rows[1]["last_error"].startswith("event-grid (GRID): the topic answered HTTP 401: not authorised")
    assert rows[1]["last_error"].endswith("(refused: not retried)")
    clock.advance(6)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert [(r["kind"], r["target"], r["status"]) for r in rows] == [
        ("override-rejected", "webhook", "failed"),
        ("override-rejected", "event-grid", "failed"),
    ]
    assert rows[0]["last_error"] == "webhook: setting NOT_SET is not set"  # each target its own
    assert "HTTP 401" in rows[1]["last_error"]
    assert [r for r in receiver.refused if "401" in r] == ["event-grid: 401 wrong aeg-sas-key"]  # asked once
    clock.advance(3600)
    send.deliver_due()
    assert len(receiver.refused) == 1  # given up: listed, no longer tried


def test_promote_notifications_lists_them(cli_env, stack, receiver, release_name, tmp_path):
    apply(stack, release_name, notify=[{"kind": "webhook", "url_setting": "TEST_HOOK_URL"}])
    promote(stack, release_name)
    env = {**cli_env, "TEST_HOOK_URL": receiver.url("webhook")}
    cmd = [PROMOTE, "notifications", "--release", release_name]
    pending = json.loads(subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, check=True).stdout)
    assert [(r["kind"], r["status"]) for r in pending] == [("flight-started", "pending"), ("promoted", "pending")]
    # `promote run` delivers beside the host (nothing queued: it returns at once, after a last delivery round)
    subprocess.run([PROMOTE, "run", "--until-idle", "--wait", "0"], env=env, capture_output=True, text=True, check=True)
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert "2 sent, 0 pending, 0 failed" in text and receiver.url("webhook") not in text
    assert sorted(receiver.ids(release=release_name)) == sorted(r["id"] for r in pending)
    unknown = subprocess.run(cmd[:-1] + ["never-applied"], env=env, capture_output=True, text=True)
    assert unknown.returncode == 2 and "never applied" in unknown.stderr


def test_the_backoff_grows_and_is_capped():
    from random import Random

    from shared.application.notifications import backoff_seconds

    delays = [backoff_seconds(n, base=2, cap=300, rng=Random(1)) for n in range(1, 12)]
    assert delays[0] < delays[1] < delays[2] and 300 <= max(delays) <= 375


def test_a_release_wide_change_of_many_workloads_is_one_notice_naming_them(clocked, receiver, release_name):
    """One notice per release-level event, not one per workload (issue 22: a wave of thousands)."""
    stack, clock, _ = clocked
    names = [f"w{i:02d}" for i in range(40)]
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "approval": "manual",
                "approvers": [APPROVER],
                "notify": [{"kind": "webhook", "url_setting": "HOOK", "on": ["promoted"]}],
                "workloads": [{"name": n, "assets": ["vm"]} for n in names],
            }
        )
    )
    for n in names:
        stack.service.handle(event("asset-replicated", release_name, n, f"{n}-a", asset="vm"))
        stack.service.handle(event("tests-passed", release_name, n, f"{n}-t"))
    why = "CAB-4711 approved go-live for the whole wave; " * 20  # about 1,000 characters: history clips them
    result = stack.service.handle(
        event("override", release_name, None, "go", action="approve", actor=APPROVER, reason=why[:1000])
    )
    assert result.outcome == "applied"
    [row] = stack.outbox.list_release(release_name)
    kept = clip_actor_reason(why[:1000])  # what history records; the notices carry the same words
    assert kept and kept.startswith(why[:400])
    [notice] = row.notices
    assert (notice["kind"], notice["workload"], notice["actor_reason"]) == ("promoted", None, kept)
    assert notice["reason"].startswith("promoted: 40 workloads (w00, w01,") and "and 30 more" in notice["reason"]
    deliverer(stack, clock, receiver).deliver_due()
    assert len(set(receiver.ids(release=release_name))) == 1
    assert [r["status"] for r in notifications_json(stack.outbox.list_release(release_name))] == ["sent"]


def test_a_url_that_is_not_https_is_refused_without_being_shown(clocked, receiver, release_name):
    stack, clock, _ = clocked
    apply(stack, release_name, notify=[{"kind": "webhook", "url_setting": "HOOK"}])
    stack.service.handle(event("override", release_name, None, "x", action="abort", actor="eve@x.com", reason="r"))
    settings = {"HOOK": "http://hooks.example.com/secret-token-123"}
    NotificationDeliverer(stack.outbox, notifiers(settings.get), settings.get, clock).deliver_due()
    [row] = notifications_json(stack.outbox.list_release(release_name))
    assert row["status"] == "pending" and "does not hold an https URL" in row["last_error"]
    assert "secret-token-123" not in json.dumps(row)
