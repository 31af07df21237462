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
    assert main(["report", "--wave", "wave-a"]) == 2
    assert "--wave needs the plan field `wave: NAME`" in capsys.readouterr().err
