"""`promote send` / `promote override` say that a message is queued, not done: where its outcome will appear,
and with --wait what it is (exit 1 when rejected). What no host could record is refused before it is queued."""

from __future__ import annotations

import json
import re
import threading
from contextlib import contextmanager

import pytest

from shared.application.config import DEADLETTER_TABLE, LOCAL_QUEUE
from shared.local.common import local_host
from tests.e2e.test_cli import history, promote, write_plan  # noqa: F401 - the fixture

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


def _plan(tmp_path, name: str) -> str:
    return write_plan(
        tmp_path,
        f"""
release: {name}
model: single-step
approval: manual
approvers: [{APPROVER}]
operators: [{OPERATOR}]
workloads:
  - name: payroll
    assets: [vm-1]
    data_sync: {{max_lag: 10s, max_age: 5m}}
  - name: crm
    assets: [vm-2]
""",
    )


def queued(stack) -> list[dict]:
    return [json.loads(m.content) for m in stack.queue(LOCAL_QUEUE).peek_messages(max_messages=32)]


@contextmanager
def host_running(stack):
    """The local host processing the queue in a thread, as `promote run` does in another terminal."""
    stop = threading.Event()
    thread = threading.Thread(target=local_host(stack).run, kwargs={"stop": stop.is_set, "poll": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def test_send_and_override_say_the_message_is_queued_and_where_its_outcome_appears(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    out = promote("send", "asset-replicated", "--release", release_name, "--workload", "payroll", "--asset", "vm-1")
    assert "published" not in out.stdout
    assert out.stdout.startswith(f"queued asset-replicated {release_name}/payroll id=")
    assert f"`promote history --release {release_name} --workload payroll` once a host (`promote run`)" in out.stdout
    out = promote("override", "pause", "--release", release_name, "--actor", OPERATOR, "--reason", "freeze")
    assert out.stdout.startswith(f"queued override {release_name}/* id=")
    assert f"`promote history --release {release_name}` once" in out.stdout
    assert [e["type"] for e in queued(stack)] == ["asset-replicated", "override"]


def test_a_workload_the_release_does_not_have_is_refused_at_once_and_nothing_is_queued(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    done = promote("send", "tests-passed", "--release", release_name, "--workload", "ghost", expect=2)
    assert f"workload 'ghost' is not part of release {release_name} (its workloads: payroll, crm)" in done.stderr
    args = ("override", "pause", "--release", release_name, "--workload", "ghost", "--actor", OPERATOR)
    assert "nothing queued" in promote(*args, "--reason", "r", "--wait", "1", expect=2).stderr
    assert "never applied" in promote("send", "alert", "--release", "nope", "--workload", "w", expect=2).stderr
    assert queued(stack) == []


def test_wait_prints_the_recorded_outcome_and_exits_1_only_when_rejected(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    send = lambda *a, expect=0: promote(*a, "--release", release_name, "--wait", "20", expect=expect)  # noqa: E731
    with host_running(stack):
        for workload, asset in (("payroll", "vm-1"), ("crm", "vm-2")):
            done = send("send", "asset-replicated", "--workload", workload, "--asset", asset, "--id", f"r-{workload}")
            assert f"asset-replicated {release_name}/{workload}: applied: asset {asset} replicated" in done.stdout
        # refused by the service (not among the approvers): queued, recorded, audited, and exit 1
        done = send("override", "approve", "--actor", "mallory@contoso.com", "--reason", "ship it", expect=1)
        assert f"override {release_name}/*: rejected: mallory@contoso.com may not approve" in done.stdout
        assert done.stdout.rstrip().endswith("outcome: rejected")
        # the same id again: a duplicate is no failure
        done = send("send", "asset-replicated", "--workload", "crm", "--asset", "vm-2", "--id", "r-crm")
        assert f"asset-replicated {release_name}/crm: duplicate: id 'r-crm' was seen before" in done.stdout
        # valid, but no effect in this state: ignored, no failure
        done = send("send", "flight-healthy", "--workload", "crm", "--flight", "1")
        assert "outcome: ignored" in done.stdout
        # a release-wide override: one line per workload, applied if applied to any
        send("send", "tests-passed", "--workload", "crm")
        done = send("override", "pause", "--actor", OPERATOR, "--reason", "CAB freeze")
        assert f"override {release_name}/payroll: applied" in done.stdout
        assert f"override {release_name}/crm: applied" in done.stdout and "outcome: applied" in done.stdout
    full = json.loads(promote("history", "--release", release_name, "--json").stdout)
    [audit] = [e for e in full if e["actor"] == "mallory@contoso.com"]
    assert (audit["outcome"], audit["actor_reason"]) == ("rejected", "ship it")


def test_wait_with_no_host_says_nothing_processes_the_queue_and_exits_1(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    done = promote("send", "tests-passed", "--release", release_name, "--workload", "crm", "--wait", "0.5", expect=1)
    assert "waiting up to 0.5s" in done.stdout
    assert "no outcome within 0.5s: it is still queued: nothing is processing the local queue" in done.stderr
    assert "`promote run`" in done.stderr and f"promote history --release {release_name} --workload crm" in done.stderr
    assert [e["type"] for e in queued(stack)] == ["tests-passed"]  # still there for a host to come


def test_wait_finds_the_outcome_of_a_lag_report_kept_off_the_history(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    lag = ("send", "replication-lag", "--release", release_name, "--workload", "payroll", "--wait", "20")
    with host_running(stack):
        assert "outcome: applied" in promote(*lag, "--lag-seconds", "1", "--id", "lag-1").stdout
        done = promote(*lag, "--lag-seconds", "2", "--id", "lag-2")  # nothing changed: no history entry
    assert f"replication-lag {release_name}/payroll: applied: replication lag 2s: data-sync gate open" in done.stdout
    assert [e["event_id"] for e in history(promote, release_name, "payroll")] == ["lag-1"]


@pytest.mark.parametrize("given, seconds", [("5s", 5.0), ("2m", 120.0), ("1h30m", 5400.0), ("1.5", 1.5), ("0", 0.0)])
def test_lag_seconds_takes_the_durations_plans_take(
    promote,  # noqa: F811
    stack,
    tmp_path,
    release_name,
    given,
    seconds,
):
    promote("apply", _plan(tmp_path, release_name))
    promote("send", "replication-lag", "--release", release_name, "--workload", "payroll", "--lag-seconds", given)
    [event] = queued(stack)
    assert event["data"]["lag_seconds"] == seconds


@pytest.mark.parametrize("given", ["soon", "-1", "5x", "inf", "-5s"])
def test_lag_seconds_refuses_what_is_neither_a_number_nor_a_duration(promote, given):  # noqa: F811
    done = promote("send", "replication-lag", "--release", "r", "--workload", "w", f"--lag-seconds={given}", expect=2)
    assert f"must be a number of seconds >= 0 or a duration like 5s, 2m or 1h30m (at most 3650d), got '{given}'" in (
        done.stderr
    )


def test_run_names_the_release_and_workload_of_a_lag_report_kept_off_the_history(
    promote,  # noqa: F811
    tmp_path,
    release_name,
):
    promote("apply", _plan(tmp_path, release_name))
    lag = ("send", "replication-lag", "--release", release_name, "--workload", "payroll", "--lag-seconds")
    promote(*lag, "1", "--id", "lag-first")
    promote(*lag, "2", "--id", "lag-quiet")
    out = promote("run", "--until-idle", "--wait", "0.2").stdout
    assert f"  [applied] {release_name}/payroll replication-lag: replication lag 1s: data-sync gate open [0%]" in out
    assert f"  [applied] {release_name}/payroll replication-lag: replication lag 2s: data-sync gate open\n" in out
    assert "lag-quiet" not in out


def test_deadletters_on_azure_show_rfc3339_times_in_utc(promote, cli_env, stack):  # noqa: F811
    from shared.adapters.local_queue import TableDeadLetters

    body = f"not an event {id(stack)}".encode()
    TableDeadLetters(stack.table(DEADLETTER_TABLE), stack.clock).dead_letter(body, "not JSON")
    cli_env["PROMOTE_SERVICEBUS_NAMESPACE"] = "sb-promote-test.servicebus.windows.net"
    [record] = [r for r in json.loads(promote("deadletters", "--json").stdout) if r["body"] == body.decode()]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record["dead_lettered_at"]), record
