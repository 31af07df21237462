"""Stop the line and releases as things you manage (contract v3 §19), as a user runs them on a real Azurite:
`promote halt` / `unhalt` across 20 active releases, `promote releases` from records and summaries only,
`promote archive` of a finished release.

The halt of everything acts on every release in storage: these tests run on an Azurite of their own, so that
"every active release" is exactly the releases they applied.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from bench.metering import RequestCounter
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE, load_settings
from shared.domain.plan import validate_plan
from shared.local.azurite import start
from tests.e2e.test_cli import promote  # noqa: F401 - the fixture
from tests.fakes import event
from tests.promote_command import run_promote
from tests.support.names import unique_name

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
RELEASES, WORKLOADS = 20, 5
HALT_WITHIN_SECONDS = 5.0


@pytest.fixture
def own(tmp_path):
    """An Azurite, a stack on it and the `promote` command against it, to these tests alone."""
    azurite = start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOTE_")}
    env.update(PROMOTE_STORAGE_CONNECTION_STRING=azurite.connection_string, PROMOTE_HOME=str(tmp_path / ".promote"))
    stack = Stack(load_settings(env))

    def cli(*args: str, expect: int = 0, extra: dict | None = None) -> subprocess.CompletedProcess:
        done = run_promote(list(args), env={**env, **(extra or {})}, cwd=tmp_path)
        assert done.returncode == expect, f"promote {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    try:
        yield stack, cli, tmp_path
    finally:
        azurite.stop()


def apply(cli, tmp_path, name: str, workloads: int = WORKLOADS, *, stack=None, **extra) -> None:
    """`promote apply` of a plan; with `stack`, the same apply in this process (setup, faster)."""
    doc = {
        "release": name,
        "model": "single-step",
        "approval": "manual",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": f"w{i}", "assets": [f"vm-{i}"]} for i in range(workloads)],
        **extra,
    }
    if stack is not None:
        stack.service.apply(validate_plan(doc))
        return
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc))
    cli("apply", str(path))


def paused(stack, name: str) -> list[bool]:
    return [w.paused for w in stack.store.get_release(name).release.workloads.values()]


def test_halt_pauses_every_active_release_within_5s_and_unhalt_lifts_it(own):
    stack, cli, tmp_path = own
    names = [unique_name(f"halt-{i:02d}") for i in range(RELEASES)]
    for name in names:
        apply(cli, tmp_path, name, stack=stack)
    started = time.monotonic()
    out = cli("halt", "--actor", OPERATOR, "--reason", "datacenter incident").stdout
    took = time.monotonic() - started
    # the halt's own span, from reading which releases are active to the last pause committed; the command's
    # wall time adds the process's start (about 1 s on a quiet machine, far more on a loaded one)
    span = float(re.search(rf"halt: {RELEASES} of {RELEASES} release\(s\) in ([0-9.]+)s", out).group(1))
    print(f"\nhalt of {RELEASES} releases of {WORKLOADS} workloads: {span:.2f}s deciding, {took:.2f}s the command")
    assert span < HALT_WITHIN_SECONDS
    assert all(all(paused(stack, n)) for n in names)
    for name in names:  # what was halted, release by release
        assert f"{name}: applied: {WORKLOADS} workload(s) paused" in out
    assert f"halt: {RELEASES} of {RELEASES} release(s) in" in out
    assert "new releases start halted until `promote unhalt`" in out
    doc = json.loads(cli("status", "--release", names[0], "--json").stdout)
    assert doc["halted"]["by"] == OPERATOR and doc["halted"]["reason"] == "datacenter incident"
    # one audited entry per release: one decision (one event id), with the actor and the reason
    entries = json.loads(cli("history", "--release", names[0], "--json").stdout)
    halts = [e for e in entries if e["type"] == "override"]
    assert len({e["event_id"] for e in halts}) == 1 and len(halts) == WORKLOADS
    assert {(e["actor"], e["actor_reason"]) for e in halts} == {(OPERATOR, "datacenter incident")}
    # while everything is halted, a new release starts halted
    late = unique_name("late")
    apply(cli, tmp_path, late)
    assert all(paused(stack, late))
    # unhalt is an approver's: an operator is refused, and the refusal recorded
    refused = cli("unhalt", "--release", names[0], "--actor", OPERATOR, "--reason", "over", expect=1).stdout
    assert f"{names[0]}: rejected:" in refused
    assert json.loads(cli("history", "--release", names[0], "--json").stdout)[-1]["outcome"] == "rejected"
    out = cli("unhalt", "--actor", APPROVER, "--reason", "incident over").stdout
    assert f"unhalt: {RELEASES + 1} of {RELEASES + 1} release(s)" in out
    assert "new releases no longer start halted" in out
    assert not any(any(paused(stack, n)) for n in [*names, late])
    fresh = unique_name("fresh")
    apply(cli, tmp_path, fresh)
    assert not any(paused(stack, fresh))


def test_a_halt_by_someone_not_an_operator_is_refused_and_recorded_and_halts_nothing(own):
    stack, cli, tmp_path = own
    name = unique_name("guarded")
    apply(cli, tmp_path, name)
    out = cli("halt", "--actor", "mallory@contoso.com", "--reason", "why not", expect=1).stdout
    assert f"{name}: rejected: mallory@contoso.com may not halt" in out
    assert "new releases start halted" not in out and stack.store.get_halt() is None
    assert not any(paused(stack, name))
    [entry] = json.loads(cli("history", "--release", name, "--json").stdout)
    assert (entry["outcome"], entry["actor"]) == ("rejected", "mallory@contoso.com")
    unknown = cli("halt", "--release", "never-applied", "--actor", OPERATOR, "--reason", "x", expect=2).stderr
    assert "never-applied" in unknown


def test_releases_lists_from_records_and_summaries_and_archive_hides_a_finished_one(own):
    stack, cli, tmp_path = own
    big, small, done = unique_name("big"), unique_name("small"), unique_name("done")
    apply(cli, tmp_path, big, workloads=300, wave="night-1", deadlines={"replicating": "1s"}, stack=stack)
    apply(cli, tmp_path, small, workloads=3, wave="night-1", deadlines={"replicating": "1s"})
    apply(cli, tmp_path, done, workloads=2, wave="night-2")
    abort = event("override", done, None, "abort-1", action="abort", actor=OPERATOR, reason="moved to next wave")
    assert stack.service.handle(abort).outcome == "applied"  # setup: as a host would decide it
    time.sleep(1.1)  # past the replicating deadline of `big` and `small`
    rows = {r["release"]: r for r in json.loads(cli("releases", "--json").stdout)}
    assert set(rows) == {big, small, done}
    assert rows[small]["counts"] == {"replicating": 3} and rows[small]["overdue"] == 3
    assert rows[big]["counts"] == {"replicating": 300} and rows[big]["total"] == 300
    assert rows[big]["overdue"] is None  # kept in several shards: summaries keep no deadlines
    assert rows[done]["state"] == "aborted" and rows[done]["wave"] == "night-2" and rows[done]["last_change"]
    wave = json.loads(cli("releases", "--wave", "night-1", "--json").stdout)
    assert [r["release"] for r in wave] == sorted([big, small])
    assert [r["release"] for r in json.loads(cli("releases", "--state", "aborted", "--json").stdout)] == [done]
    text = cli("releases").stdout
    assert text.splitlines()[0].split() == ["RELEASE", "MODEL", "STATE", "WAVE", "WORKLOADS", "OVERDUE", "ATTENTION",
                                            "LAST", "CHANGE"]  # fmt: skip
    assert "--state" in cli("releases", "--state", "bogus", expect=2).stderr
    # the list reads records and summaries: one scan for every release, and one query of the small one's rows
    counter = RequestCounter()
    counted = Stack(stack.settings, request_hook=counter)
    table = counted.table(RELEASES_TABLE)
    from shared.adapters.table_store.catalog import overviews
    from shared.adapters.table_store.pages import PageReads
    from shared.application.release_list import release_rows

    counter.reset()
    release_rows(overviews(table), PageReads(table), counted.clock.now())
    assert dict(counter.by_kind) == {"scan": 1, "query": 1}
    # archive: a running release is refused; a finished one is hidden, kept, audited
    refused = cli("archive", "--release", small, "--actor", OPERATOR, "--reason", "tidy", expect=2).stderr
    assert "only a finalized or aborted release may be archived" in refused
    assert (
        "not an operator or approver"
        in cli("archive", "--release", done, "--actor", "mallory@contoso.com", "--reason", "tidy", expect=2).stderr
    )
    assert "archived" in cli("archive", "--release", done, "--actor", OPERATOR, "--reason", "wave closed").stdout
    assert done not in {r["release"] for r in json.loads(cli("releases", "--json").stdout)}
    assert done not in {r.name for r, _ in stack.board().reads.list_release_summaries()}
    assert json.loads(cli("status", "--release", done, "--json").stdout)["state"] == "aborted"  # still there
    last = json.loads(cli("history", "--release", done, "--json").stdout)[-1]
    assert (last["type"], last["actor"], last["actor_reason"]) == ("archive", OPERATOR, "wave closed")
    assert "archived already" in cli("archive", "--release", done, "--actor", OPERATOR, "--reason", "x").stdout


def test_apply_amends_a_running_release_and_refuses_other_changes_naming_them(promote, tmp_path, release_name):  # noqa: F811
    doc = {
        "release": release_name,
        "model": "single-step",
        "operators": [OPERATOR],
        "deadlines": {"replicating": "2h"},
        "workloads": [{"name": "w0", "assets": ["vm-0"]}],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    promote("apply", str(path))
    path.write_text(json.dumps({**doc, "deadlines": {"replicating": "4h"}, "approvers": [APPROVER]}))
    assert "amended (the change is in its history)" in promote("apply", str(path)).stdout
    [entry] = json.loads(promote("history", "--release", release_name, "--json").stdout)
    assert (
        entry["type"] == "plan-amended" and '"replicating":14400' in entry["reason"] and "approvers" in entry["reason"]
    )
    path.write_text(json.dumps({**doc, "model": "flight", "flights": [{"percent": 100, "bake": "0s"}]}))
    refused = promote("apply", str(path), expect=2).stderr
    assert "(this plan changes flights, model)" in refused
