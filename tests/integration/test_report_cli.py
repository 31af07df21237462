"""`promote report` on the local stack: the figures of a release read from its history in Table Storage."""

from __future__ import annotations

import json

from shared.domain.plan import validate_plan
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
