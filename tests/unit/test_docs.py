"""The documents stay in the repository and in step with the code: every link resolves inside the repository,
and docs/contract.md names every command, option, plan field, message type, state and JSON key the code has."""

from __future__ import annotations

import argparse
import re
import typing
from datetime import UTC
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = (ROOT / "docs" / "contract.md").read_text()
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_no_document_points_out_of_the_repository():
    for document in DOCUMENTS:
        text = document.read_text()
        # a parent-directory path ("../shared/spec"), not Azure's elided resource ids ("/subscriptions/.../vaults")
        assert not re.search(r"(?<!\.)\.\./", text), f"{document.name} refers to something outside the repository"
        for target in _LINK.findall(text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor in the same document
            path = (document.parent / target.split("#", 1)[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{document.name}: broken link {target}"


def test_the_readme_links_the_contract_in_the_repository():
    assert "](docs/contract.md)" in (ROOT / "README.md").read_text()


def _commands_and_options() -> tuple[set[str], set[str]]:
    from shared.local.cli import _parser

    commands, options = set(), set()

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            options.update(o for o in action.option_strings if o.startswith("--") and o != "--help")
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    commands.add(f"{path} {name}")
                    walk(child, f"{path} {name}")

    walk(_parser(), "promote")
    return commands, options


def test_the_contract_names_every_command_and_option():
    commands, options = _commands_and_options()
    assert {c for c in commands if f"`{c}" not in CONTRACT} == set()
    assert {o for o in options if o not in CONTRACT} == set()


def _field_names(model: type[BaseModel]) -> set[str]:
    names = {field.alias or name for name, field in model.model_fields.items()}  # what a plan file spells
    for field in model.model_fields.values():
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            for inner in typing.get_args(arg) or (arg,):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    names |= _field_names(inner)
    return names


def test_the_contract_names_every_plan_field():
    from shared.domain import plan

    # every model of the plan module: a provider or section added later is checked without editing this list
    models = [
        m
        for m in vars(plan).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__.startswith(plan.__name__)
    ]
    fields = set().union(*(_field_names(m) for m in models))
    assert {f for f in fields if not re.search(rf"\b{f}\b", CONTRACT)} == set()
    assert {p for p in plan.PROVIDERS if f"| {p} |" not in CONTRACT} == set()


def test_the_contract_names_every_message_type_state_and_outcome():
    from shared.domain import messages, model

    names = set(messages.EVENT_TYPES) | set(messages.OVERRIDE_ACTIONS)
    for states in (model.WorkloadState, model.ReleaseState, model.Outcome):
        names |= {member.value for member in states}
    assert {
        n for n in names if f"`{n}`" not in CONTRACT and f"| {n} |" not in CONTRACT and f" {n} " not in CONTRACT
    } == set()


def test_the_contract_names_every_json_key_and_setting():
    from datetime import datetime

    from shared.application import config
    from shared.application.views import status_json
    from shared.domain.model import HistoryEntry, new_release
    from shared.domain.plan import validate_plan

    plan = validate_plan(
        {
            "release": "r",
            "model": "flight",
            "workloads": [{"name": "w", "assets": ["a"]}],
            "flights": [{"percent": 10}, {"percent": 100}],
        }
    )
    doc = status_json(new_release(plan))
    keys = set(doc) | set(doc["workloads"][0]) | set(doc["flights"][0])
    entry = HistoryEntry(
        at=datetime.now(UTC),
        event_id="e",
        type="alert",
        outcome="applied",
        reason="r",
        workload="w",
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
    keys |= set(entry.to_json())
    assert {k for k in keys if f"`{k}`" not in CONTRACT and f'"{k}"' not in CONTRACT} == set()
    assert {s for s in config.APP_SETTINGS if f"`{s}`" not in CONTRACT} == set()


def test_the_readme_tells_what_a_newcomer_needs():
    readme = (ROOT / "README.md").read_text()
    from shared.application.config import DEV_PORTS

    assert all(str(port) in readme for port in DEV_PORTS.values()), "the README names the local stack's ports"
    assert "/api/releases/{release}" in readme and "/api/alerts" in readme and "on_drift" in readme
    tiers = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").exists()}
    assert {t for t in tiers if f"| `{t}` |" not in readme} == set(), "a test tier the README does not describe"
