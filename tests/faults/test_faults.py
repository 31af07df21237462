"""Nothing lost, nothing doubled: duplicates, concurrent hosts, SIGKILL at each step, a storage restart."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

import pytest

from shared.adapters.routing.local import LocalRouter
from shared.application.bootstrap import Stack, use_stack
from shared.application.config import ROUTING_TABLE, load_settings
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import event
from tests.promote_command import start_fault_host
from tools.faults import retry

WORKLOADS = ("web", "api")


def plan(name: str, workloads=WORKLOADS) -> dict:
    return {
        "release": name,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 10, "bake": "0s"}, {"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": w, "assets": [f"{w}-vm-1", f"{w}-vm-2"]} for w in workloads],
    }


def phases(release: str, workloads=WORKLOADS) -> list[list[str]]:
    """The life cycle in phases whose messages commute, so any delivery order ends in the same state.
    Verdicts carry no `time`: they stay valid however late a redelivery brings them."""
    out = [
        [
            event("asset-replicated", release, w, f"{release}-{w}-a{i}", asset=f"{w}-vm-{i}")
            for w in workloads
            for i in (1, 2)
        ],
        [event("tests-passed", release, w, f"{release}-{w}-t") for w in workloads],
    ]
    out += [
        [event("flight-healthy", release, w, f"{release}-{w}-h{f}", flight=f) for w in workloads] for f in (1, 2, 3)
    ]
    return out


def publish(stack: Stack, bodies: list[str]) -> None:
    for body in bodies:
        stack.publisher.publish(json.loads(body))


def drain(stack: Stack, **kwargs) -> None:
    local_host(stack, lock_seconds=1, retry_delay=lambda n: 0, **kwargs).run(until_idle=True, wait=1.5, poll=0.05)


def assert_promoted_and_routed(stack: Stack, release: str, workloads=WORKLOADS) -> None:
    state = stack.store.get_release(release).release
    for name in workloads:
        w = state.workloads[name]
        assert (w.state, w.traffic_percent) == ("promoted", 100), name
        assert LocalRouter(stack.table(ROUTING_TABLE), release, name).read() == w.traffic_percent


def assert_each_id_applied_once(stack: Stack, release: str, ids: list[str]) -> None:
    outcomes: dict[str, Counter] = {}
    for e in stack.store.list_history(release):
        outcomes.setdefault(e.event_id, Counter())[e.outcome] += 1
    for event_id in ids:
        assert event_id in outcomes, f"{event_id} has no recorded outcome (lost)"
        assert outcomes[event_id]["applied"] == 1, (event_id, outcomes[event_id])
        assert set(outcomes[event_id]) <= {"applied", "duplicate"}, (event_id, outcomes[event_id])


def ids_of(bodies: list[str]) -> list[str]:
    return [json.loads(b)["id"] for b in bodies]


def test_every_message_delivered_two_or_three_times_interleaved(stack, release_name):
    stack.service.apply(validate_plan(plan(release_name)))
    rng = random.Random(7)
    all_ids = []
    for bodies in phases(release_name):
        copies = [b for b in bodies for _ in range(rng.choice((2, 3)))]
        rng.shuffle(copies)
        publish(stack, copies)
        drain(stack)
        all_ids += ids_of(bodies)
    assert_promoted_and_routed(stack, release_name)
    assert_each_id_applied_once(stack, release_name, all_ids)


def test_concurrent_hosts_lose_no_update(stack, cli_env, release_name):
    """Three host processes on one queue and one release: ETag conflicts are re-decided, nothing is lost."""
    workloads = tuple(f"w{i}" for i in range(8))
    stack.service.apply(validate_plan(plan(release_name, workloads)))
    all_ids = []
    for bodies in phases(release_name, workloads):
        publish(stack, bodies)
        hosts = [start_fault_host(["--lock", "1"], env=cli_env) for _ in range(3)]
        done = [h.wait(timeout=120) for h in hosts]
        assert all(d.returncode == 0 for d in done), [d.stdout + d.stderr for d in done]
        all_ids += ids_of(bodies)
    assert_promoted_and_routed(stack, release_name, workloads)
    assert_each_id_applied_once(stack, release_name, all_ids)


@pytest.mark.parametrize(
    "point,phase",
    [
        ("after-routing", 1),
        ("after-routing", 3),
        ("before-commit", 0),
        ("before-commit", 1),
        ("before-commit", 2),
        ("after-commit", 1),
        ("after-commit", 4),
    ],
)
def test_a_host_killed_at_each_step_converges_after_restart(stack, cli_env, release_name, point, phase):
    stack.service.apply(validate_plan(plan(release_name)))
    all_ids = []
    for n, bodies in enumerate(phases(release_name)):
        publish(stack, bodies)
        all_ids += ids_of(bodies)
        if n == phase:
            crashed = start_fault_host(["--crash", point, "--nth", "1", "--lock", "1"], env=cli_env).wait(timeout=60)
            assert crashed.returncode == -9, crashed.stdout + crashed.stderr  # it really died (SIGKILL)
        drain(stack)  # the restarted host: the interrupted message comes back after its lock (1s)
        state = stack.store.get_release(release_name).release
        for name in WORKLOADS:  # routing never differs from the state after the redelivery
            router = LocalRouter(stack.table(ROUTING_TABLE), release_name, name)
            assert router.read() == state.workloads[name].traffic_percent, (n, name)
    assert_promoted_and_routed(stack, release_name)
    assert_each_id_applied_once(stack, release_name, all_ids)


def test_storage_stopped_and_restarted_during_a_run(tmp_path, release_name):
    """Storage goes away in the middle of a delivery, longer than the SDKs' own retries, and comes back."""
    from shared.local.azurite import free_ports, start
    from shared.local.localhost import registered_function

    blob, queue, table = free_ports(3)
    ports = {"blob": blob, "queue": queue, "table": table}
    where = {"location": tmp_path / "azurite", "ports": ports, "log": tmp_path / "azurite.log"}
    azurite = [start(**where)]
    stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite[0].connection_string}))
    use_stack(stack)
    real, outage = registered_function(), threading.Event()

    def restart():
        azurite[0] = start(**where)

    def function(msg):
        if msg.message_id.endswith("-t") and not outage.is_set():  # the first tests-passed: mid-flight
            outage.set()
            azurite[0].stop()
            threading.Timer(6, restart).start()
        real(msg)

    try:
        stack.service.apply(validate_plan(plan(release_name)))
        all_ids, done = [], threading.Event()
        host = local_host(stack, function=function, lock_seconds=1, retry_delay=lambda n: 1, max_delivery=20)
        runner = threading.Thread(target=lambda: host.run(stop=done.is_set, poll=0.05, outage_limit=60))
        runner.start()
        for bodies in phases(release_name):
            for body in bodies:
                retry(lambda body=body: stack.publisher.publish(json.loads(body)))
            all_ids += ids_of(bodies)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _phase_done(stack, release_name, ids_of(bodies)):
                time.sleep(0.2)
        done.set()
        runner.join(timeout=30)
        # the delivery in flight failed on the outage and was delivered again: by the host's retry, or, when
        # storage was still down for that too (a slow restart), when its lock expired; either way one delivery
        # more than the messages completed, each applied once (below)
        assert outage.is_set() and host.stats.received >= host.stats.completed + 1
        assert any("Connection refused" in e for e in host.stats.errors)
        assert host.stats.poisoned == 0
        assert_promoted_and_routed(stack, release_name)
        assert_each_id_applied_once(stack, release_name, all_ids)
    finally:
        use_stack(None)
        azurite[0].stop()


def _phase_done(stack: Stack, release: str, ids: list[str]) -> bool:
    try:
        recorded = {e.event_id for e in stack.store.list_history(release)}
    except Exception:
        return False
    return set(ids) <= recorded
