"""Time and order on a real Azurite: round-trips of the new fields, timers that survive a host restart, and
what a dependency costs in storage requests."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from bench.metering import RequestCounter
from shared.application.bootstrap import Stack, use_stack
from shared.application.views import status_json
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import event


def single_step(name: str, **extra) -> dict:
    return {
        "release": name,
        "model": "single-step",
        "approvers": ["ana@contoso.com"],
        "operators": ["ops@contoso.com"],
        "workloads": [{"name": "web", "assets": ["vm-1"]}],
        **extra,
    }


def freeze_until(moment: datetime) -> dict:
    """A change window that is closed now and opens at `moment` (a denied period may end on any second)."""
    start = moment - timedelta(hours=1)
    return {"timezone": "UTC", "deny": [{"from": start.isoformat(), "to": moment.isoformat(), "reason": "freeze"}]}


def test_the_time_fields_round_trip(stack, release_name):
    now = datetime.now(UTC).replace(microsecond=0)
    stack.service.apply(validate_plan(single_step(release_name)))
    dependant = f"{release_name}-b"[:63]
    stack.service.apply(validate_plan({**single_step(dependant), "after": [release_name]}))
    snapshot = stack.store.get_release(release_name)
    assert snapshot.release.dependants == (dependant,)
    w = snapshot.release.workloads["web"].evolve(
        paused=True,
        paused_by="ops@contoso.com",
        paused_at=now,
        paused_reason="CAB freeze",
        state_since=now,
        deadline_fired="testing:1795730400000",
        window_opens_at=now + timedelta(hours=2),
        trouble_at=now - timedelta(minutes=5),
    )
    from shared.domain.machine import Decision

    changed = snapshot.release.evolve(workloads={"web": w}, after_met=("x", "y"))
    stack.store.commit(snapshot, Decision(release=changed, entries=[]), None)
    back = stack.store.get_release(release_name).release
    assert back.workloads["web"] == w
    assert (back.after_met, back.dependants) == (("x", "y"), (dependant,))  # the commit keeps the dependants


def restarted(settings) -> Stack:
    """A new stack, as a new host process would build it (the registered function uses the process's)."""
    fresh = Stack(settings)
    use_stack(fresh)
    return fresh


def test_a_window_opening_survives_a_host_restart(stack, settings, release_name):
    first = stack
    opens = datetime.now(UTC) + timedelta(seconds=8)  # the first host returns well before, even on a busy machine
    first.service.apply(validate_plan(single_step(release_name, windows=freeze_until(opens))))
    for i, (type_, data) in enumerate([("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {})]):
        first.publisher.publish(json.loads(event(type_, release_name, "web", f"e{i}", **data)))
    local_host(first).run(until_idle=True, wait=0, poll=0.05)  # returns with the opening still to come
    release = first.store.get_release(release_name).release
    assert release.workloads["web"].state == "ready"
    [gate] = status_json(release)["workloads"][0]["waiting_for"]
    assert gate["gate"] == "window" and gate["reason"] == "denied period: freeze"

    before = len(first.store.list_history(release_name))
    second = restarted(settings)  # another process: nothing shared with the first but storage
    local_host(second).run(until_idle=True, wait=15, poll=0.05)
    w = second.store.get_release(release_name).release.workloads["web"]
    assert (w.state, w.traffic_percent) == ("promoted", 100)
    # The second host did the window-open and nothing else of this release. (Not its message count: the queue
    # is the worker's, and an earlier test's timer may come due on it while this host waits.)
    added = second.store.list_history(release_name)[before:]
    assert [(e.type, e.outcome) for e in added] == [("window-open", "applied")] and added[0].at >= opens


def test_a_deadline_survives_a_host_restart_and_fires_once(stack, settings, release_name):
    first = stack
    first.service.apply(validate_plan(single_step(release_name, deadlines={"testing": "1s"})))
    first.publisher.publish(json.loads(event("asset-replicated", release_name, "web", "e1", asset="vm-1")))
    local_host(first).run(until_idle=True, wait=0, poll=0.05)
    assert first.store.get_release(release_name).release.workloads["web"].state == "testing"

    second = restarted(settings)
    local_host(second).run(until_idle=True, wait=5, poll=0.05)
    deadlines = [e for e in second.store.list_history(release_name) if e.type == "deadline"]
    assert [e.outcome for e in deadlines] == ["applied"]
    waited = re.search(r"waited (\d+)s for testing", deadlines[0].reason)  # 1s, or more on a busy machine
    assert waited and int(waited.group(1)) >= 1, deadlines[0].reason
    doc = status_json(second.store.get_release(release_name).release)["workloads"][0]
    assert doc["overdue"] is True and doc["deadline"] is not None
    local_host(restarted(settings)).run(until_idle=True, wait=1, poll=0.05)  # a third host: nothing more happens
    assert len([e for e in second.store.list_history(release_name) if e.type == "deadline"]) == 1


def test_what_a_dependency_costs_in_storage_requests(settings, release_name):
    counter = RequestCounter()
    stack = Stack(settings, request_hook=counter)
    dependant = f"{release_name}-b"[:63]
    stack.service.apply(
        validate_plan(
            single_step(
                release_name,
                windows=freeze_until(datetime.now(UTC) - timedelta(seconds=1)),
                deadlines={"testing": "1h"},
            )
        )
    )
    stack.service.apply(validate_plan({**single_step(dependant), "after": [release_name]}))
    stack.table("promoterouting")
    scheduled: list[dict] = []
    stack.service.scheduler = type("Recorder", (), {"schedule": lambda self, e, due: scheduled.append(e)})()

    counter.reset()  # a release with windows and deadlines but no `after`: still 2 per lifecycle event
    assert stack.service.handle(event("asset-replicated", release_name, "web", "a1", asset="vm-1")).outcome == "applied"
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1}
    counter.reset()  # its promotion tells the dependant at no storage cost: one scheduled message
    assert stack.service.handle(event("tests-passed", release_name, "web", "a2")).outcome == "applied"
    # + the local router reading its release's shares record and its routing record, creating its record and
    # reading the shares record again (a release-level move that landed meanwhile), as for any promotion
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1, "point-read": 3, "post": 1}
    [told] = [e for e in scheduled if e["type"] == "dependency-promoted"]
    assert told["data"] == {"release": dependant, "dependency": release_name}
    counter.reset()  # the dependant: the dependency's state read by the service, its own read, one transaction
    assert stack.service.handle(json.dumps(told)).outcome == "applied"
    assert dict(counter.by_kind) == {"query": 2, "transaction": 1}
    assert stack.store.get_release(dependant).release.after_met == (release_name,)
