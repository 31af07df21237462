"""The `promote` command at scale (contract §14), as a user runs it on a real Azurite with small shards: a
5,000-workload plan refused with every problem and nothing written, a plan applied again writing nothing,
status and history a page at a time, and `send --file` refusing a whole file for one bad line."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from bench.metering import RequestCounter
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE
from shared.local.common import local_host
from tests.e2e.test_send_outcome import host_running, queued
from tests.promote_command import run_promote

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"


@pytest.fixture
def promote(cli_env, tmp_path, stack):
    env = {**cli_env, "PROMOTE_SHARD_SIZE": "3"}

    def run(*args: str, expect: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
        done = run_promote(list(args), env=env, cwd=tmp_path, stdin=stdin)
        assert done.returncode == expect, f"promote {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return run


def plan(name: str, n: int, model: str = "single-step") -> dict:
    return {
        "release": name,
        "model": model,
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": f"w{i:04d}", "assets": [f"vm-{i}"]} for i in range(n)],
    }


def cloud_event(type_: str, release: str, workload: str | None, **data) -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "migrate-wave",
        "type": type_,
        "time": datetime.now(UTC).isoformat(),
        "data": {"release": release, "workload": workload, **data},
    }


def partition(stack, name: str) -> list[str]:
    return [r["RowKey"] for r in stack.table(RELEASES_TABLE).query_entities(f"PartitionKey eq '{name}'")]


def test_a_5000_workload_plan_names_every_problem_and_writes_nothing(promote, stack, tmp_path, release_name):
    doc = plan(release_name, 5_000)
    doc["workloads"][17]["assets"] = ["vm", "vm"]
    doc["workloads"][4711]["name"] = "W-4711"
    doc["workloads"][4999]["routing"] = {"provider": "nowhere"}
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(doc))
    done = promote("apply", str(path), expect=2)
    assert "invalid plan (3 problems)" in done.stderr
    for where in ("workloads[17].assets", "workloads[4711].name", "workloads[4999].routing"):
        assert where in done.stderr
    assert partition(stack, release_name) == []
    import yaml

    yaml_path = tmp_path / "wave.yaml"
    yaml_path.write_text(yaml.safe_dump(doc))
    assert "invalid plan (3 problems)" in promote("apply", str(yaml_path), expect=2).stderr
    assert partition(stack, release_name) == []


def test_applying_the_same_plan_again_writes_nothing(promote, stack, settings, tmp_path, release_name):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(plan(release_name, 20)))
    assert "registered" in promote("apply", str(path)).stdout
    assert sum(k.startswith("w.") and k.count(".") == 1 for k in partition(stack, release_name)) == 7  # shards of 3
    counter = RequestCounter()
    from shared.domain.plan import load_plan_text

    again = Stack(settings, request_hook=counter)
    again.table(RELEASES_TABLE)
    counter.reset()
    assert again.service.apply(load_plan_text(path.read_text())).action == "unchanged"
    assert set(counter.by_kind) == {"query"}  # read, compared, nothing written
    assert "unchanged" in promote("apply", str(path)).stdout


def test_status_a_page_at_a_time_and_json_with_every_workload(promote, stack, tmp_path, release_name):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(plan(release_name, 250)))
    promote("apply", str(path))
    events = [cloud_event("asset-replicated", release_name, f"w{i:04d}", asset=f"vm-{i}") for i in range(0, 250, 5)]
    promote("send", "--file", "-", stdin="\n".join(json.dumps(e) for e in events) + "\n")
    local_host(stack).run(until_idle=True, wait=0.5, poll=0.05)
    text = promote("status", "--release", release_name).stdout
    assert "200 replicating, 50 testing (250 workloads)" in text
    assert "workloads 1-100 of 250, page 1 of 3; next: promote status --release" in text
    assert text.count("\nw0") == 100 and "\nw0099 " in text and "\nw0100 " not in text
    third = promote("status", "--release", release_name, "--page", "3").stdout
    assert "workloads 201-250 of 250, page 3 of 3" in third and "\nw0249 " in third
    testing = promote("status", "--release", release_name, "--state", "testing", "--page", "1").stdout
    assert "workloads 1-50 of 50 (state testing), page 1 of 1" in testing and "\nw0245 " in testing
    one = promote("status", "--release", release_name, "--workload", "w0005").stdout
    assert "workloads 1-1 of 1 (workload w0005)" in one and "\nw0005 " in one
    assert "there are 3 page(s)" in promote("status", "--release", release_name, "--page", "4", expect=2).stderr
    doc = json.loads(promote("status", "--release", release_name, "--json").stdout)
    assert len(doc["workloads"]) == 250 and doc["counts"] == {"replicating": 200, "testing": 50}
    every = promote("status", "--release", release_name, "--all").stdout
    assert every.count("\nw0") == 250 and "page 1 of" not in every


def test_history_a_page_of_500_at_a_time_oldest_first(promote, stack, tmp_path, release_name):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(plan(release_name, 6)))
    promote("apply", str(path))
    events = [cloud_event("alert", release_name, f"w{i % 6:04d}", severity="Sev3") for i in range(620)]
    for e in events:  # handled as the function would (send --file and the host have tests of their own)
        stack.service.handle(json.dumps(e))
    first = json.loads(promote("history", "--release", release_name, "--page", "1", "--json").stdout)
    second = json.loads(promote("history", "--release", release_name, "--page", "2", "--json").stdout)
    assert len(first) == 500 and len(second) == 120
    assert [e["event_id"] for e in first + second] == [e["id"] for e in events]  # oldest first, in order sent
    text = promote("history", "--release", release_name, "--page", "2").stdout
    assert text.rstrip().endswith("entries 501-620 of 620, page 2 of 2")
    assert "1 page(s) of 500" in promote("history", "--release", release_name, "--workload", "w0001",
                                         "--page", "2", expect=2).stderr  # fmt: skip


def test_send_file_refuses_the_whole_file_naming_each_bad_line(promote, stack, tmp_path, release_name):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(plan(release_name, 4)))
    promote("apply", str(path))
    good = cloud_event("tests-passed", release_name, "w0001")
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps(cloud_event("teleported", release_name, "w0001")),
        json.dumps({**cloud_event("asset-replicated", release_name, "w0002"), "specversion": "0.3"}),
        json.dumps(cloud_event("tests-passed", "never-applied", "w0001")),
        "",
        json.dumps(cloud_event("tests-passed", release_name, "ghost")),
        json.dumps({**cloud_event("tests-passed", release_name, "w0003"), "source": "promote/timer"}),
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    done = promote("send", "--file", str(events), expect=2)
    assert "6 bad line(s), nothing queued" in done.stderr
    for says in (
        "line 2: not JSON",
        "line 3: type 'teleported' is not one a sender may use",
        "line 4: not a valid CloudEvent: specversion must be '1.0'",
        "line 5: release never-applied was never applied",
        f"line 7: workload 'ghost' is not part of release {release_name}",
        "line 8: source 'promote/timer' is promote's own",
    ):
        assert says in done.stderr
    assert "  line 1:" not in done.stderr and "  line 6:" not in done.stderr
    assert queued(stack) == []
    assert (
        "--file sends the file's events: leave out the type, --release"
        in promote("send", "alert", "--file", str(events), "--release", release_name, expect=2).stderr
    )


def test_send_file_queues_every_event_in_order_and_wait_finds_outcomes(promote, stack, tmp_path, release_name):
    path = tmp_path / "wave.json"
    path.write_text(json.dumps(plan(release_name, 4)))
    promote("apply", str(path))
    events = [cloud_event("asset-replicated", release_name, f"w{i:04d}", asset=f"vm-{i}") for i in range(4)]
    done = promote("send", "--file", "-", stdin="\n".join(json.dumps(e) for e in events) + "\n\n")
    assert "queued 4 event(s) from <stdin> on the local queue promotion-events, in order" in done.stdout
    assert [e["id"] for e in queued(stack)] == [e["id"] for e in events]
    with host_running(stack):  # --wait reads the outcome from the message's marker
        send = ("send", "tests-passed", "--release", release_name, "--wait", "20")
        assert "outcome: applied" in promote(*send, "--workload", "w0002", "--id", "t-2").stdout
        again = promote(*send, "--workload", "w0002", "--id", "t-2").stdout
        assert "duplicate" in again and "outcome: duplicate" in again
        done = promote("override", "pause", "--release", release_name, "--actor", OPERATOR, "--reason", "CAB",
                       "--wait", "20")  # fmt: skip
    # a release-wide decision over both shards: each workload's entry, kept in its one release-level entry
    assert all(f"override {release_name}/w000{i}: applied: paused at 0%" in done.stdout for i in (0, 1, 3))
    assert f"override {release_name}/w0002: ignored: workload is promoted" in done.stdout
