"""A single-step release cut over by `private-dns`, through the `promote` command only, against the local
Resource Manager (PROMOTE_ARM_ENDPOINT, its certificate trusted as in the other routing CLI tests) and the
session's Azurite: the TTL lowered at apply, the switch waiting out the old TTL (seconds here), the switch,
and the original TTL back at finalize."""

from __future__ import annotations

import json
import time
from dataclasses import fields

import pytest

from shared.local.cli import main
from tests.conftest import LOCAL_QUEUE, POISON_QUEUE, SCHEDULE_TABLE
from tests.routing import arm_resources as R
from tests.routing.conftest import ArmSettings, Naps

OLD_TTL = 10  # seconds: the record's TTL before promote lowers it (long enough for four commands on a busy machine)
RECORD = f"{R.PRIVATE_ZONE}/A/payroll"


@pytest.fixture
def real_time_stack(arm, credential, azurite, tmp_path):
    """The stack the command uses: settings read from the environment's names (PROMOTE_ARM_ENDPOINT included),
    the fake credential, and the system clock (the TTL wait is real time)."""
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import Settings, load_settings

    base = load_settings(
        {
            "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string,
            "PROMOTE_HOME": str(tmp_path / ".promote"),
            "PROMOTE_ARM_ENDPOINT": arm.url,
        }
    )
    assert base.arm_endpoint == arm.url
    values = {f.name: getattr(base, f.name) for f in fields(Settings)}
    stack = Stack(ArmSettings(**values, arm_credential=credential, arm_sleep=Naps()))
    for name in (LOCAL_QUEUE, POISON_QUEUE):
        stack.queue(name).clear_messages()
    for row in stack.table(SCHEDULE_TABLE).list_entities():
        stack.table(SCHEDULE_TABLE).delete_entity(row["PartitionKey"], row["RowKey"])
    use_stack(stack)
    yield stack
    use_stack(None)


def promote(capsys, *argv: str, expect: int = 0) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == expect, f"promote {' '.join(argv)} -> {code}\n{out}\n{err}"
    return out


def test_a_private_dns_cutover_lowers_waits_switches_and_restores_the_ttl(
    arm, real_time_stack, release_name, tmp_path, capsys
):
    arm.seed(R.dns_zone(R.PRIVATE_ZONE))
    arm.seed(R.record_set(R.PRIVATE_ZONE, "A", "payroll", ["10.1.0.4"], ttl=OLD_TTL))
    plan = {
        "release": release_name,
        "model": "single-step",
        "approvers": ["ana@contoso.com"],
        "hypercare": "1s",
        "workloads": [
            {"name": "payroll", "assets": ["vm-payroll-01"], "routing": {**R.routing("private-dns"), "lower_ttl_to": 1}}
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))

    # the plan names the choreography before anything happens
    shown = promote(capsys, "plan", "--file", str(path))
    assert "at apply: TTL lowered to 1s" in shown and "at finalize: TTL back to its original" in shown

    applied = time.monotonic()
    assert "registered" in promote(capsys, "apply", str(path))
    record = arm.get(RECORD)["properties"]
    assert (record["ttl"], record["aRecords"]) == (1, [{"ipv4Address": "10.1.0.4"}])  # lowered, not switched
    assert record["metadata"]["promoteOriginalTtl"] == str(OLD_TTL)

    who = ["--release", release_name, "--workload", "payroll"]
    promote(capsys, "send", "asset-replicated", *who, "--asset", "vm-payroll-01")
    promote(capsys, "send", "tests-passed", *who)
    promote(capsys, "run", "--until-idle", "--wait", "0", "--quiet")
    status = json.loads(promote(capsys, "status", "--release", release_name, "--json"))
    [w] = status["workloads"]
    assert (w["state"], w["traffic_percent"]) == ("ready", 0)
    [gate] = w["waiting_for"]
    assert (gate["gate"], gate["lower_ttl_to"]) == ("ttl", 1) and 0 < gate["seconds_left"] <= OLD_TTL
    assert arm.get(RECORD)["properties"]["aRecords"] == [{"ipv4Address": "10.1.0.4"}]  # waited: not switched

    promote(capsys, "run", "--until-idle", "--wait", str(OLD_TTL + 2), "--quiet")  # ttl-elapsed wakes it
    assert time.monotonic() - applied >= OLD_TTL
    status = json.loads(promote(capsys, "status", "--release", release_name, "--json"))
    [w] = status["workloads"]
    assert (w["state"], w["traffic_percent"]) == ("promoted", 100)
    record = arm.get(RECORD)["properties"]
    assert (record["aRecords"], record["ttl"]) == ([{"ipv4Address": "10.20.0.4"}], 1)  # switched, TTL still low
    assert promote(capsys, "routing", "verify", "--release", release_name).rstrip().endswith("no drift")

    time.sleep(1.1)  # hypercare is over
    promote(capsys, "override", "finalize", *who, "--actor", "ana@contoso.com", "--reason", "cutover done")
    promote(capsys, "run", "--until-idle", "--wait", "2", "--quiet")
    status = json.loads(promote(capsys, "status", "--release", release_name, "--json"))
    assert status["workloads"][0]["state"] == "finalized"
    record = arm.get(RECORD)["properties"]
    assert (record["ttl"], record["aRecords"], record["metadata"]) == (
        OLD_TTL,
        [{"ipv4Address": "10.20.0.4"}],
        {"owner": "dns-team"},
    )
    history = json.loads(promote(capsys, "history", *who, "--json"))
    reasons = [e["reason"] for e in history]
    assert any("old TTL has run out" in r and e["to"] == "promoted" for r, e in zip(reasons, history, strict=True))
    assert any("A/payroll: records 10.1.0.4 -> 10.20.0.4" in r for r in reasons)
    assert any(
        f"A/payroll: TTL 1s -> {OLD_TTL}s" in r and "finalize requested" in r  # restored with the request
        for r in reasons
    )
