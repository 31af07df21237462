"""`promote report` on the local stack: the figures of a release read from its history in Table Storage."""

from __future__ import annotations

import json

from shared.domain.plan import validate_plan
from shared.domain.times import iso
from shared.local.cli import main
from tests.fakes import event


def test_promote_report_writes_a_release_s_figures_to_a_file(stack, release_name, tmp_path, capsys):
    stack.service.apply(
        validate_plan(
            {"release": release_name, "model": "single-step", "workloads": [{"name": "web", "assets": ["a"]}]}
        )
    )
    for i, (kind, data) in enumerate([("asset-replicated", {"asset": "a"}), ("tests-passed", {})]):
        assert stack.service.handle(event(kind, release_name, "web", f"e{i}", **data)).outcome == "applied"
    out = tmp_path / "report.json"
    assert main(["report", "--release", release_name, "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert (doc["release"], doc["state"], doc["changes"], doc["rollbacks"]) == (release_name, "promoted", 1, [])
    assert [(m["from"], m["to"], m["state"]) for m in doc["traffic"]] == [(0, 100, "promoted")]
    assert main(["report", "--release", release_name]) == 0
    assert f"Release {release_name} (single-step): promoted" in capsys.readouterr().out


def test_promote_report_refuses_what_it_cannot_report(stack, capsys):
    assert main(["report", "--release", "never-applied"]) == 2
    assert "never-applied" in capsys.readouterr().err
    assert main(["report", "--wave", "no-such-wave"]) == 2
    assert "no release names wave 'no-such-wave' in its plan" in capsys.readouterr().err


def test_promote_report_of_a_wave_sums_the_releases_whose_plans_name_it(stack, release_name, capsys):
    wave = f"{release_name[:50]}-w"  # a wave of this test's own: the Azurite may hold other tests' releases
    for suffix in ("a", "b"):
        plan = {"release": f"{release_name[:55]}-{suffix}", "model": "single-step", "wave": wave}
        stack.service.apply(validate_plan({**plan, "workloads": [{"name": "web", "assets": ["a"]}]}))
        stack.service.handle(event("asset-replicated", plan["release"], "web", f"{suffix}-a", asset="a"))
        stack.service.handle(event("tests-passed", plan["release"], "web", f"{suffix}-t"))
    assert main(["report", "--wave", wave, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(r["release"] for r in doc["releases"]) == [f"{release_name[:55]}-a", f"{release_name[:55]}-b"]
    assert all(r["changes"] == 1 for r in doc["releases"])


def test_durations_on_azurite_start_where_the_stored_workload_says(stack, release_name, capsys):
    """The workload row keeps when it left its initial state (`started_at`, through the store's codec): the
    live metric counts from there, and the report, reading only history, finds the same moment."""
    operator = "ops@contoso.com"
    workloads = [{"name": "web", "assets": ["a"]}, {"name": "db", "assets": ["b"]}]
    plan = {"release": release_name, "model": "single-step", "operators": [operator], "workloads": workloads}
    stack.service.apply(validate_plan(plan))
    stack.service.handle(event("asset-replicated", release_name, "web", "r1", asset="a"))  # web: testing
    stored = stack.store.get_release(release_name).release
    assert stored.workloads["web"].started_at is not None and stored.workloads["db"].started_at is None
    abort = {"action": "abort", "actor": operator, "reason": "out of scope"}
    for i, name in enumerate(("web", "db")):
        assert stack.service.handle(event("override", release_name, name, f"x{i}", **abort)).outcome == "applied"
    assert main(["report", "--release", release_name, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    web_row = stack.store.get_release(release_name).release.workloads["web"]
    web, db = doc["workloads"]
    assert web["started"] == iso(web_row.started_at) and web["state"] == "aborted" and web["seconds"] > 0
    assert (db["state"], db["seconds"]) == ("aborted", None)  # aborted before it ever moved: no duration
    assert [e["state"] for e in doc["ends"]] == ["aborted"] and doc["started"] == web["started"]
    assert doc["seconds"] == doc["ends"][0]["seconds"] and doc["done"] == doc["ends"][0]["at"]
