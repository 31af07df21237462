"""The name pattern, defined once (shared/domain/names.py), applied the same everywhere a name comes in."""

from __future__ import annotations

import json

import pytest

from shared.application.alerts import AlertError, alert_event
from shared.domain.errors import MessageError, PlanError
from shared.domain.messages import parse_message
from shared.domain.names import NAME_PATTERN, is_name
from shared.domain.plan import validate_plan

GOOD = ["a", "wave-1", "0", "a" * 63]
BAD = ["", "-a", "A", "wave_1", "a" * 64, "wave-1\n", "wave-1 ", "\nwave-1", "wavé", None, 7]


@pytest.mark.parametrize("name", GOOD)
def test_valid_names(name):
    assert is_name(name)


@pytest.mark.parametrize("name", BAD)
def test_invalid_names_including_a_trailing_newline_that_python_s_dollar_would_accept(name):
    assert not is_name(name)


@pytest.mark.parametrize("name", [n for n in BAD if isinstance(n, str)])
def test_plans_and_messages_refuse_the_same_names(name):
    with pytest.raises(PlanError):
        validate_plan({"release": name, "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}]})
    with pytest.raises(PlanError):
        validate_plan({"release": "r", "model": "single-step", "workloads": [{"name": name, "assets": ["a"]}]})
    doc = {
        "specversion": "1.0",
        "id": "x",
        "source": "s",
        "type": "tests-passed",
        "data": {"release": "r", "workload": name},
    }
    with pytest.raises(MessageError):
        parse_message(json.dumps(doc).encode())


def test_the_contract_pattern_is_the_one_the_errors_name():
    with pytest.raises(
        PlanError, match=NAME_PATTERN.replace("{", r"\{").replace("[", r"\[").replace("^", r"\^").replace("$", r"\$")
    ):
        validate_plan({"release": "Wave", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"]}]})


def test_an_asset_or_a_text_with_a_trailing_newline_is_refused():
    with pytest.raises(PlanError, match="assets"):
        validate_plan({"release": "r", "model": "single-step", "workloads": [{"name": "w", "assets": ["vm-1\n"]}]})


def _alert(release: str) -> bytes:
    return json.dumps(
        {
            "schemaId": "azureMonitorCommonAlertSchema",
            "data": {
                "essentials": {"alertId": "/alerts/1", "monitorCondition": "Fired"},
                "customProperties": {"release": release, "workload": "web"},
            },
        }
    ).encode()


def test_alerts_name_their_release_with_the_same_pattern():
    assert alert_event(_alert("wave-1"))["data"]["release"] == "wave-1"
    with pytest.raises(AlertError, match="customProperties.release is not a valid name"):
        alert_event(_alert("wave-1\n"))
