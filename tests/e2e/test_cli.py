"""The `promote` command as a user runs it, against a real Azurite: one scenario per model and the edges."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.promote_command import PROMOTE, run_promote

HISTORY_KEYS = {"at", "event_id", "type", "outcome", "reason", "from", "to", "traffic_percent", "actor"}


@pytest.fixture
def promote(cli_env, tmp_path, stack):  # `stack` empties the shared local queues before each test
    def run(*args: str, expect: int = 0, stdin: str | None = None) -> subprocess.CompletedProcess:
        done = run_promote(list(args), env=cli_env, cwd=tmp_path, stdin=stdin)
        assert done.returncode == expect, f"promote {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return run


def write_plan(tmp_path: Path, text: str) -> str:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    return str(path)


def status(promote, release: str) -> dict:
    return json.loads(promote("status", "--release", release, "--json").stdout)


def history(promote, release: str, workload: str) -> list[dict]:
    return json.loads(promote("history", "--release", release, "--workload", workload, "--json").stdout)


def test_single_step(promote, tmp_path, release_name):
    plan = write_plan(
        tmp_path,
        f"""
release: {release_name}
model: single-step
workloads:
  - name: payroll
    assets: [vm-payroll-web-01, vm-payroll-db-01]
""",
    )
    assert "registered" in promote("apply", plan).stdout
    assert "unchanged" in promote("apply", plan).stdout
    promote(
        "send",
        "asset-replicated",
        "--release",
        release_name,
        "--workload",
        "payroll",
        "--asset",
        "vm-payroll-web-01",
        "--id",
        "r1",
    )
    promote(
        "send",
        "asset-replicated",
        "--release",
        release_name,
        "--workload",
        "payroll",
        "--asset",
        "vm-payroll-db-01",
        "--id",
        "r2",
        "--source",
        "azure-migrate",
    )
    promote("send", "tests-passed", "--release", release_name, "--workload", "payroll", "--id", "t1")
    out = promote("run", "--until-idle", "--wait", "0.5").stdout
    assert "3 handled" in out
    doc = status(promote, release_name)
    assert {k: doc[k] for k in ("release", "model", "state")} == {
        "release": release_name,
        "model": "single-step",
        "state": "promoted",
    }
    [w] = doc["workloads"]
    assert {k: w[k] for k in ("name", "state", "paused", "traffic_percent", "assets")} == {
        "name": "payroll",
        "state": "promoted",
        "paused": False,
        "traffic_percent": 100,
        "assets": {"vm-payroll-web-01": "replicated", "vm-payroll-db-01": "replicated"},
    }
    entries = history(promote, release_name, "payroll")
    assert [e["event_id"] for e in entries] == ["r1", "r2", "t1"]
    assert all(HISTORY_KEYS <= set(e) for e in entries)
    assert (entries[-1]["from"], entries[-1]["to"], entries[-1]["traffic_percent"]) == ("testing", "promoted", 100)
    text = promote("status", "--release", release_name).stdout
    assert "payroll" in text and "promoted" in text and "100%" in text


def test_staged_with_an_unauthorized_approval(promote, tmp_path, release_name):
    plan = write_plan(
        tmp_path,
        f"""
release: {release_name}
model: staged
approvers: [ana@contoso.com]
operators: [ops@contoso.com]
revoke_access: {{provider: local, source_prefixes: [10.50.0.0/24]}}
workloads:
  - {{name: crm, assets: [vm-crm]}}
  - {{name: billing, assets: [vm-billing]}}
""",
    )
    promote("apply", plan)
    for w in ("crm", "billing"):
        promote("send", "asset-replicated", "--release", release_name, "--workload", w, "--asset", f"vm-{w}")
        promote("send", "tests-passed", "--release", release_name, "--workload", w)
    promote("run", "--until-idle", "--wait", "0.5")
    assert status(promote, release_name)["state"] == "awaiting-approval"
    promote(
        "override",
        "approve",
        "--release",
        release_name,
        "--actor",
        "ops@contoso.com",
        "--reason",
        "me",
        "--id",
        "bad-approve",
    )
    promote("run", "--until-idle", "--wait", "0.5")
    full = json.loads(promote("history", "--release", release_name, "--json").stdout)
    [audit] = [e for e in full if e["event_id"] == "bad-approve"]
    assert audit["outcome"] == "rejected" and audit["actor"] == "ops@contoso.com" and "approvers" in audit["reason"]
    assert status(promote, release_name)["state"] == "awaiting-approval"
    promote("override", "approve", "--release", release_name, "--actor", "ana@contoso.com", "--reason", "CAB-7")
    promote("run", "--until-idle", "--wait", "0.5")
    doc = status(promote, release_name)
    assert doc["state"] == "promoted" and doc["access_revoked"] is True
    assert [w["traffic_percent"] for w in doc["workloads"]] == [100, 100]


def test_flight_with_alert_rollback_retry_and_duplicates(promote, tmp_path, release_name):
    plan = write_plan(
        tmp_path,
        json.dumps(
            {
                "release": release_name,
                "model": "flight",
                "approvers": ["ana@contoso.com"],
                "operators": ["ops@contoso.com"],
                "flights": [
                    {"percent": 10, "bake": "1s"},
                    {"percent": 50, "bake": "0s"},
                    {"percent": 100, "bake": "0s"},
                ],
                "workloads": [{"name": "shop", "assets": ["vm-shop"]}],
            }
        ),
    )
    promote("apply", plan)
    send = lambda *a: promote("send", *a, "--release", release_name, "--workload", "shop")  # noqa: E731
    send("asset-replicated", "--asset", "vm-shop", "--id", "rep-1")
    send("asset-replicated", "--asset", "vm-shop", "--id", "rep-1")  # delivered twice
    send("tests-passed", "--id", "t-1")
    promote("run", "--until-idle", "--wait", "0.5")
    w = status(promote, release_name)["workloads"][0]
    assert (w["state"], w["flight"], w["traffic_percent"]) == ("flighting", 1, 10)
    send("flight-healthy", "--flight", "1")
    promote("run", "--until-idle", "--wait", "3")  # waits for the 1s bake timer
    w = status(promote, release_name)["workloads"][0]
    assert (w["flight"], w["traffic_percent"]) == (2, 50)
    send("alert", "--severity", "Sev1", "--description", "errors")
    promote("run", "--until-idle", "--wait", "0.5")
    assert status(promote, release_name)["state"] == "rolled-back"
    assert status(promote, release_name)["workloads"][0]["traffic_percent"] == 0
    promote(
        "override",
        "retry",
        "--release",
        release_name,
        "--workload",
        "shop",
        "--actor",
        "ops@contoso.com",
        "--reason",
        "fixed",
    )
    send("tests-passed", "--id", "t-2")
    promote("run", "--until-idle", "--wait", "0.5")
    send("flight-healthy", "--flight", "1", "--id", "h-1")  # a verdict issued after the flight began
    promote("run", "--until-idle", "--wait", "3")
    send("flight-healthy", "--flight", "2")
    promote("run", "--until-idle", "--wait", "0.5")
    send("flight-healthy", "--flight", "3")
    promote("run", "--until-idle", "--wait", "0.5")
    doc = status(promote, release_name)
    assert doc["state"] == "promoted" and doc["workloads"][0]["attempt"] == 1
    entries = history(promote, release_name, "shop")
    assert [e["outcome"] for e in entries if e["event_id"] == "rep-1"] == ["applied", "duplicate"]
    shares = [e["traffic_percent"] for e in entries if e["outcome"] == "applied"]
    moves = [s for i, s in enumerate(shares) if i == 0 or s != shares[i - 1]]
    assert moves == [0, 10, 50, 0, 10, 50, 100]  # flights, the rollback, and the retried flights


def test_bad_input_exits_2_with_a_clear_message(promote, tmp_path, release_name):
    bad = write_plan(tmp_path, "release: Bad_Name\nmodel: flight\nworkloads: []\n")
    err = promote("apply", bad, expect=2).stderr
    assert "release" in err and "flights" in err and "workloads" in err
    assert "does not exist" in promote("apply", str(tmp_path / "missing.yaml"), expect=2).stderr
    assert "never applied" in promote("status", "--release", "never-applied", expect=2).stderr
    assert (
        "never applied"
        in promote("send", "tests-passed", "--release", "never-applied", "--workload", "w", expect=2).stderr
    )
    good = write_plan(tmp_path, f"release: {release_name}\nmodel: single-step\nworkloads: [{{name: w, assets: [a]}}]\n")
    promote("apply", good)
    assert (
        "needs --flight"
        in promote("send", "flight-healthy", "--release", release_name, "--workload", "w", expect=2).stderr
    )
    assert (
        "invalid"
        in promote(
            "send", "asset-replicated", "--release", release_name, "--workload", "w", "--asset", "a\x01", expect=2
        ).stderr
    )
    changed = write_plan(
        tmp_path, f"release: {release_name}\nmodel: staged\napprovers: [a@b.c]\nworkloads: [{{name: w, assets: [a]}}]\n"
    )
    refused = promote("apply", changed, expect=2).stderr
    assert "only deadlines, windows, notify, health thresholds, approvers and operators may change" in refused
    assert "(this plan changes approval, model)" in refused  # approvers may change: not named
    promote("frobnicate", expect=2)
    assert "not part of release" in promote("history", "--release", release_name, "--workload", "nope", expect=2).stderr


def test_dead_letters_are_listed_with_their_reason(promote, stack):
    stack.queue("promotion-events").send_message("this is not an event")
    promote("run", "--until-idle", "--wait", "0.2")
    records = json.loads(promote("deadletters", "--json").stdout)
    assert [r["body"] for r in records] == ["this is not an event"]
    assert "not JSON" in records[0]["reason"]


def test_unreachable_storage_is_a_clear_failure(tmp_path):
    from shared.application.config import azurite_connection_string

    env = {
        "PATH": "/usr/bin:/bin",
        "PROMOTE_STORAGE_CONNECTION_STRING": azurite_connection_string(queue_port=9, table_port=9, blob_port=9),
    }
    done = subprocess.run([PROMOTE, "status", "--release", "r1"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "cannot reach table storage" in done.stderr


def test_demo_promotes_all_three_models(promote):
    out = promote("demo").stdout
    assert "demo FAILED" not in out
    summary = out[out.index("Summary") :]
    # release and workload state of 4 workloads in 3 releases; the single-step one goes on to finalized (§8)
    assert summary.count("promoted") >= 6 and summary.count("finalized") >= 2
    assert "held by billing data-sync" in out and "source: local source record" in out
    assert "rolled back to 0%" in out and "retry #1" in out and "duplicate" in out
    # the judged flight: one inconclusive evaluation holds, then healthy; a failing check rolls back
    assert "judge evaluation 1 of catalog: error-rate no data (0 samples, needs 50)" in out
    assert "flight 1 healthy (judge evaluation 2: error-rate 0.3 passed (max 1, 800 samples))" in out
    assert "error-rate 4.8 FAILED (max 1, 600 samples), 2 in a row): rolled back to 0%" in out
    # the wave: 200 workloads in 3 shards move at once, at one commit point and a catch-up a shard (§14)
    assert "(staged, 200 workloads in 3 shards)" in out and "400 lifecycle events" in out
    assert "2.0 storage requests each" in out
    assert re.search(r"200 workloads promoted at once in [\d.]+s: 4 transactions \(1 commit point", out)
    assert "every reader sees it at once: 200/200 promoted" in out
    wave = re.search(r"the wave's report: promote report --wave (demo-\d{4}-\d{6})", out)  # the plan's `wave:`
    assert wave and f"{wave[1]}-wave-200" in promote("report", "--wave", wave[1]).stdout
    # every message the demo sent has one outcome; the rest are promote's own (timers, verdicts, notices)
    found = re.search(
        r"\n(\d+) messages handled: (\d+) sent by the demo, (\d+) by promote itself .*\noutcomes: ([^;]+);", out
    )
    assert found, out[-2000:]
    handled, sent, own = int(found[1]), int(found[2]), int(found[3])
    outcomes = {kind: int(n) for n, kind in (part.split() for part in found[4].split(", "))}
    assert own >= 10 and handled == sum(outcomes.values()) == sent + own and outcomes["rejected"] == 2
    # the README shows this summary as it is
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    sample = readme[readme.index("```\nSummary\n") + 4 :]
    sample = sample[: sample.index("```")]
    assert _table(sample) == _table(summary) and len(_table(summary)) == 9  # a header and 8 workloads
    assert re.search(r"\n\d+ messages handled: \d+ sent by the demo, \d+ by promote itself .*\noutcomes: ", sample)


def _table(text: str) -> list[str]:
    """The summary's rows (the header and one per workload), release names without their time stamp."""
    rows = text[text.index("Summary\n") + 8 :].split("\n\n")[0].splitlines()
    return [re.sub(r"demo-\d{4}-\d{6}-", "demo-STAMP-", row) for row in rows]


def test_metrics_put_feeds_the_judge_and_status_shows_each_checks_last_value(promote, tmp_path, release_name):
    plan = write_plan(
        tmp_path,
        f"""
release: {release_name}
model: flight
flights: [{{percent: 50, bake: 0s}}, {{percent: 100, bake: 0s}}]
health:
  interval: 1s
  checks: [{{name: errors, provider: local, max: 1.0, min_samples: 10}}]
workloads:
  - name: shop
    assets: [vm-1]
""",
    )
    promote("apply", plan)
    bad = promote(
        "metrics",
        "put",
        "--release",
        release_name,
        "--workload",
        "shop",
        "--check",
        "latency",
        "--value",
        "1",
        "--samples",
        "5",
        expect=2,
    )
    assert "has no local check 'latency' (its local checks: errors)" in bad.stderr
    promote(
        "metrics",
        "put",
        "--release",
        release_name,
        "--workload",
        "shop",
        "--check",
        "errors",
        "--value",
        "nan",
        "--samples",
        "5",
        expect=2,
    )
    promote(
        "metrics",
        "put",
        "--release",
        release_name,
        "--workload",
        "ghost",
        "--check",
        "errors",
        "--value",
        "1",
        "--samples",
        "5",
        expect=2,
    )
    promote(
        "metrics",
        "put",
        "--release",
        release_name,
        "--workload",
        "shop",
        "--check",
        "errors",
        "--value",
        "0.5",
        "--samples",
        "3",
    )
    promote("send", "asset-replicated", "--release", release_name, "--workload", "shop", "--asset", "vm-1")
    promote("send", "tests-passed", "--release", release_name, "--workload", "shop")
    # the judge's first evaluation is due one interval after the flight's start rounded up to the interval (its
    # evaluations are anchored so a release's flights are read together): up to 2 s for a 1 s interval
    promote("run", "--until-idle", "--wait", "3")
    [shop] = status(promote, release_name)["workloads"]
    assert shop["state"] == "flighting" and shop["health"]["interval_seconds"] == 1
    [check] = shop["health"]["last"]["checks"]
    assert (check["name"], check["value"], check["samples"], check["outcome"]) == ("errors", 0.5, 3, "inconclusive")
    assert "shop: judge evaluation" in promote("status", "--release", release_name).stdout
    promote(
        "metrics",
        "put",
        "--release",
        release_name,
        "--workload",
        "shop",
        "--check",
        "errors",
        "--value",
        "0.5",
        "--samples",
        "30",
    )
    promote("run", "--until-idle", "--wait", "3")
    [shop] = status(promote, release_name)["workloads"]
    assert shop["state"] == "promoted"
    reasons = [e["reason"] for e in history(promote, release_name, "shop") if e["type"] == "flight-healthy"]
    assert len(reasons) == 2 and all("errors 0.5 passed (max 1, 30 samples)" in r for r in reasons)
