"""The worker run's own host (tools/worker_host.py): what it holds Azure's bindings to, how it routes, and the
Service Bus metadata it hands the worker. The run itself is `make worker` (CI runs it)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from azure.functions.meta import Datum
from azure.functions.servicebus import ServiceBusMessageInConverter

from shared.application import config
from tools.worker_host import (
    ROOT,
    app_requirements,
    binding_problems,
    expected_functions,
    match_route,
    servicebus_trigger_metadata,
)

HTTP_OUT = {"type": "http", "direction": "OUT", "name": "$return"}


def expected() -> dict[str, dict]:
    return expected_functions(config.TOPIC, config.SUBSCRIPTION, config.SERVICEBUS_CONNECTION, config.OVERRIDES_ROUTE)


def indexed() -> dict[str, list[dict]]:
    """Raw bindings as azure-functions-runtime reports promote's functions (from a worker run)."""

    def http(route, methods, level):
        trigger = {"type": "httpTrigger", "direction": "IN", "name": "req", "route": route, "methods": methods}
        return [{**trigger, "authLevel": level}, HTTP_OUT]

    def timer(schedule):
        return [
            {"type": "timerTrigger", "direction": "IN", "name": "timer", "schedule": schedule, "runOnStartup": False}
        ]

    events = {"type": "serviceBusTrigger", "direction": "IN", "name": "msg", "topicName": "promotion-events"}
    events |= {"subscriptionName": "orchestrator", "connection": "ServiceBusConnection", "isSessionsEnabled": True}
    return {
        "events": [events],
        "alerts": http("alerts", ["POST"], "FUNCTION"),
        "status": http("releases/{release}", ["GET"], "FUNCTION"),
        "overrides": http("overrides", ["POST"], "ANONYMOUS"),
        "board": http("board/{*path}", ["get", "post"], "Anonymous"),  # post: its actions (v3 §19)
        "drift": timer("0 */5 * * * *"),
        "notifications": timer("*/20 * * * * *"),
        "judge": timer("*/10 * * * * *"),
        "replication": timer("0 */5 * * * *"),
        "migrate": timer("0 * * * * *"),
    }


def test_promotes_functions_as_indexed_are_as_azure_must_bind_them():
    assert binding_problems(indexed(), expected()) == []


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda f: f["events"][0].update(isSessionsEnabled=False), "events: isSessionsEnabled is False"),
        (lambda f: f["events"][0].update(topicName="promotion"), "events: topicName is 'promotion'"),
        (lambda f: f["overrides"][0].update(authLevel="FUNCTION"), "overrides: authLevel is 'FUNCTION'"),
        (lambda f: f["status"][0].update(methods=["GET", "POST"]), "status: methods is ['GET', 'POST']"),
        (lambda f: f["board"][0].update(route="board"), "board: route is 'board'"),
        (lambda f: f["judge"][0].update(runOnStartup=True), "judge: runOnStartup is True"),
        (lambda f: f["drift"][0].update(schedule="*/5 * * * *"), "not a six-field NCRONTAB"),
        (lambda f: f["alerts"].remove(HTTP_OUT), "alerts: an HTTP trigger without an http output binding"),
        (lambda f: f.pop("replication"), "replication: not indexed"),
        (lambda f: f.update(extra=f["drift"]), "extra: indexed, but not expected"),
        (lambda f: f["events"].append(f["drift"][0]), "events: 2 trigger bindings"),
    ],
)
def test_each_difference_is_found(change, problem):
    functions = copy.deepcopy(indexed())
    change(functions)
    assert any(problem in p for p in binding_problems(functions, expected())), binding_problems(functions, expected())


def test_routes_match_as_the_functions_host_matches_them():
    routes = {
        "status": ("releases/{release}", ["GET"]),
        "board": ("board/{*path}", ["GET"]),
        "overrides": ("overrides", ["POST"]),
    }
    assert match_route(routes, "GET", "/api/releases/r1") == ("status", {"release": "r1"})
    assert match_route(routes, "GET", "/api/releases/r1/extra") is None
    assert match_route(routes, "GET", "/api/board") == ("board", {"path": ""})
    assert match_route(routes, "GET", "/api/board/") == ("board", {"path": ""})
    assert match_route(routes, "GET", "/api/board/releases/r1/report") == ("board", {"path": "releases/r1/report"})
    assert match_route(routes, "post", "/api/overrides") == ("overrides", {})
    assert match_route(routes, "GET", "/api/overrides") is None  # the method is part of the match
    assert match_route(routes, "GET", "/releases/r1") is None  # routePrefix "api"


def test_the_service_bus_metadata_is_what_azure_functions_decodes_as_one_message():
    body = json.dumps({"specversion": "1.0", "id": "e1", "data": {"release": "r1"}})
    metadata = servicebus_trigger_metadata(
        message_id="e1",
        session_id="r1",
        content_type="application/cloudevents+json",
        subject="override",
        application_properties={"cloudEvents:type": "override"},
        delivery_count=2,
        sequence_number=7,
        enqueued="2026-12-07T10:00:00.0000000Z",
    )
    message = ServiceBusMessageInConverter.decode(
        data=Datum(body, "string"), trigger_metadata={k: Datum(v, kind) for k, (kind, v) in metadata.items()}
    )
    assert (message.get_body(), message.message_id, message.session_id) == (body.encode(), "e1", "r1")
    assert (message.delivery_count, message.sequence_number, message.content_type) == (
        2,
        7,
        "application/cloudevents+json",
    )
    assert message.application_properties == {"cloudEvents:type": "override"}
    assert message.enqueued_time_utc is not None and message.enqueued_time_utc.year == 2026
    with pytest.raises(NotImplementedError):  # without UserProperties azure-functions takes it for a batch
        ServiceBusMessageInConverter.decode(
            data=Datum(body, "string"),
            trigger_metadata={k: Datum(v, kind) for k, (kind, v) in metadata.items() if k != "UserProperties"},
        )


def test_the_worker_environment_takes_the_apps_locked_packages_less_azure_functions_1():
    text = (ROOT / "requirements.txt").read_text()
    assert "\nazure-functions==1." in text
    kept = app_requirements(text, ["azure-functions"])
    assert "azure-functions==" not in kept and "azure-core==" in kept and "--hash=sha256:" in kept
    assert kept.count("\n") < text.count("\n")


def test_the_worker_environments_pins_all_carry_hashes():
    for name in ("worker-requirements.txt", "worker-protos.txt"):
        lines = Path(ROOT / "tools" / name).read_text().splitlines()
        pins = [line for line in lines if "==" in line and not line.startswith("#")]
        assert pins and all(line.endswith("\\") for line in pins), name  # each pin continues with its hashes
