"""The local host on a real Azurite queue: the registered function, retries, poison, scheduled timers."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from shared.application.config import LOCAL_QUEUE, POISON_QUEUE
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import event


def flight_plan(name: str, bake: str = "0s") -> dict:
    return {
        "release": name,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": bake}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": "web", "assets": ["vm-1"]}],
    }


class Polls:
    """A `stop` for LocalHost.run that never stops it (up to a bound), counting its polls once `counting()`:
    how long the host kept going is told in polls, not in wall-clock seconds that vary with the machine's load."""

    def __init__(self, counting, limit: int = 500):
        self.counting, self.limit, self.count, self.total = counting, limit, 0, 0

    def __call__(self) -> bool:
        self.total += 1
        if self.counting():
            self.count += 1
        assert self.total < self.limit, "the host never became idle"
        return False


def poison(stack) -> list[dict]:
    return [json.loads(m.content) for m in stack.queue(POISON_QUEUE).peek_messages(max_messages=32)]


def test_the_host_runs_the_registered_function_until_idle(stack, release_name):
    stack.service.apply(validate_plan(flight_plan(release_name)))
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}), ("flight-healthy", {"flight": 1})]
    ):
        stack.publisher.publish(json.loads(event(type_, release_name, "web", f"e{i}", **data)))
    host = local_host(stack)
    stats = host.run(until_idle=True, wait=0.5, poll=0.05)
    assert (stats.completed, stats.retried, stats.poisoned) == (3, 0, 0)
    w = stack.store.get_release(release_name).release.workloads["web"]
    assert (w.state, w.flight, w.traffic_percent) == ("flighting", 2, 100)
    assert stack.queue(LOCAL_QUEUE).get_queue_properties().approximate_message_count == 0


def test_unparseable_and_unknown_release_messages_end_in_the_poison_queue_with_a_reason(stack):
    stack.queue(LOCAL_QUEUE).send_message("{not json")
    stack.publisher.publish(json.loads(event("tests-passed", "never-applied", "web", "x1")))
    local_host(stack).run(until_idle=True, wait=0.2, poll=0.05)
    letters = poison(stack)
    assert len(letters) == 2
    assert letters[0]["body"] == "{not json" and "not JSON" in letters[0]["reason"]
    assert "never applied" in letters[1]["reason"]


def test_a_failing_message_is_retried_then_poisoned_with_its_last_error(stack):
    calls = []

    def broken(msg):
        calls.append(msg.delivery_count)
        raise RuntimeError("routing API unavailable")

    stack.queue(LOCAL_QUEUE).send_message('{"id": "m1"}')
    host = local_host(stack, function=broken, max_delivery=3, retry_delay=lambda n: 0)
    stats = host.run(until_idle=True, wait=0.5, poll=0.05)
    assert calls == [1, 2, 3]
    assert (stats.retried, stats.poisoned) == (2, 1)
    [letter] = poison(stack)
    assert "failed 3 deliveries" in letter["reason"] and "routing API unavailable" in letter["reason"]
    assert letter["body"] == '{"id": "m1"}' and letter["delivery_count"] == 3


def test_a_message_that_fails_once_succeeds_on_redelivery(stack, release_name):
    stack.service.apply(validate_plan(flight_plan(release_name)))
    from shared.local.localhost import registered_function

    real, failures = registered_function(), []

    def flaky(msg):
        if msg.delivery_count == 1:
            failures.append(msg.message_id)
            raise ConnectionError("storage blip")
        real(msg)

    stack.publisher.publish(json.loads(event("asset-replicated", release_name, "web", "e1", asset="vm-1")))
    local_host(stack, function=flaky, retry_delay=lambda n: 0).run(until_idle=True, wait=0.5, poll=0.05)
    assert failures == ["e1"]
    assert stack.store.get_release(release_name).release.workloads["web"].state == "testing"
    assert poison(stack) == []


def without_judge(host):
    """No judge rounds (nor the Azure Migrate watcher's, which run with them): they read every release on this
    Azurite, and another test's flighting workload keeps the host busy waiting for its verdict, so a test of how
    long the host waits would measure the other test's release."""
    host.judge = None
    return host


def test_bake_timers_are_scheduled_messages_that_until_idle_waits_for(stack, release_name):
    stack.service.apply(validate_plan(flight_plan(release_name, bake="3s")))  # 3 s: three messages fit before it
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}), ("flight-healthy", {"flight": 1})]
    ):
        stack.publisher.publish(json.loads(event(type_, release_name, "web", f"e{i}", **data)))
    host = without_judge(local_host(stack))  # the verdict here is a message
    host.run(until_idle=True, wait=0.1, poll=0.05)  # the timer is due in ~3s: beyond the 0.1s horizon
    assert stack.store.get_release(release_name).release.workloads["web"].flight == 1
    assert len(stack.local_scheduler.pending_due()) == 1
    polls_after_the_timer = Polls(lambda: host.stats.completed > 3)
    host.run(until_idle=True, wait=5, poll=0.05, stop=polls_after_the_timer)  # within the horizon: waits for it
    # it returned on its own once the timer was handled, not at the end of `wait` (nor stopped by the counter)
    assert host.stats.completed == 4 and 1 <= polls_after_the_timer.count <= 2
    w = stack.store.get_release(release_name).release.workloads["web"]
    assert (w.flight, w.traffic_percent) == (2, 100)
    assert stack.local_scheduler.pending_due() == []
    timer = [e for e in stack.store.list_history(release_name, "web") if e.type == "bake-elapsed"]
    assert [e.outcome for e in timer] == ["applied"]


def test_stale_schedule_notes_do_not_keep_the_host_busy(stack):
    from datetime import datetime

    stack.local_scheduler.schedule_table.upsert_entity(
        {
            "PartitionKey": "local",
            "RowKey": "stale",
            "event_id": "gone",
            "due": datetime.now(UTC) - timedelta(hours=1),
        }
    )
    host = without_judge(local_host(stack))
    polls = Polls(lambda: True)
    host.run(until_idle=True, wait=1, poll=0.05, stop=polls)
    assert polls.count == 1, "idle at the first poll: a note for a message long gone is not something to wait for"
    assert stack.local_scheduler.pending_due() == []
