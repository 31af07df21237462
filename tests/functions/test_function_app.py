"""The registered functions, called with real azure.functions objects; their bindings checked."""

from __future__ import annotations

import json
import subprocess
import sys

import azure.functions as func
import pytest

from shared.application import config
from shared.application.views import status_json
from shared.domain.plan import validate_plan
from shared.local.localhost import registered_functions, service_bus_message
from tests.fakes import event


def _bindings_by_name() -> dict[str, list[dict]]:
    import function_app

    if not hasattr(function_app, "_indexed"):
        registered_functions()
        function_app._indexed = {
            fb._function.get_function_name(): [b.get_dict_repr() for b in fb._function.get_bindings()]
            for fb in function_app.app._function_builders
        }
    return function_app._indexed


def test_the_app_registers_exactly_its_functions():
    assert sorted(registered_functions()) == [
        "alerts",
        "board",
        "drift",
        "events",
        "judge",
        "migrate",
        "notifications",
        "overrides",
        "replication",
        "status",
    ]


def test_judge_is_a_timer_every_ten_seconds():
    [trigger] = _bindings_by_name()["judge"]
    assert trigger["type"] == "timerTrigger" and trigger["schedule"] == "*/10 * * * * *"
    assert trigger.get("runOnStartup") in (False, None)


def test_events_is_a_session_enabled_topic_trigger_with_an_app_setting_connection():
    [trigger] = _bindings_by_name()["events"]
    assert trigger["type"] == "serviceBusTrigger"
    assert trigger["topicName"] == config.TOPIC == "promotion-events"
    assert trigger["subscriptionName"] == config.SUBSCRIPTION
    assert trigger["isSessionsEnabled"] is True
    # a connection *name*: resolved from app settings (ServiceBusConnection__fullyQualifiedNamespace for identity)
    assert trigger["connection"] == "ServiceBusConnection"


def test_http_bindings():
    alerts = _bindings_by_name()["alerts"][0]
    status = _bindings_by_name()["status"][0]
    assert (alerts["type"], alerts["route"], [str(m.value) for m in alerts["methods"]], alerts["authLevel"].value) == (
        "httpTrigger",
        "alerts",
        ["POST"],
        "function",
    )
    assert (status["route"], [str(m.value) for m in status["methods"]], status["authLevel"].value) == (
        "releases/{release}",
        ["GET"],
        "function",
    )
    # anonymous at the Functions level: App Service authentication (Entra ID) sits in front of it
    overrides = _bindings_by_name()["overrides"][0]
    assert (overrides["route"], [str(m.value) for m in overrides["methods"]], overrides["authLevel"].value) == (
        "overrides",
        ["POST"],
        "anonymous",
    )


def test_importing_the_app_loads_no_sdk_client_and_does_no_io():
    code = (
        "import sys, function_app; heavy = [m for m in sys.modules if m.startswith(("
        "'azure.mgmt', 'azure.servicebus', 'azure.data', 'azure.storage', 'azure.identity', 'pydantic', 'yaml'))];"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PROMOTE_STORAGE_CONNECTION_STRING": "broken"},
    )
    assert out.stdout.strip() == "[]"


def test_events_handles_a_service_bus_message(stack, release_name):
    stack.service.apply(
        validate_plan(
            {"release": release_name, "model": "single-step", "workloads": [{"name": "web", "assets": ["vm-1"]}]}
        )
    )
    events = registered_functions()["events"]
    for i, (type_, data) in enumerate([("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {})]):
        body = event(type_, release_name, "web", f"e{i}", **data).encode()
        msg = service_bus_message(body, message_id=f"e{i}", delivery_count=1, enqueued=None)
        assert isinstance(msg, func.ServiceBusMessage) and msg.session_id == release_name
        assert events(msg) is None
    release = stack.store.get_release(release_name).release
    assert release.state == "promoted"


def test_events_raises_on_storage_failure_so_the_platform_redelivers(tmp_path, release_name):
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import azurite_connection_string, load_settings

    dead = azurite_connection_string(queue_port=1, table_port=1, blob_port=1)  # nothing listens on port 1
    s = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": dead}))
    use_stack(s)
    try:
        from azure.core.exceptions import ServiceRequestError

        body = event("tests-passed", release_name, "web", "e1").encode()
        with pytest.raises(ServiceRequestError):
            registered_functions()["events"](
                service_bus_message(body, message_id="e1", delivery_count=1, enqueued=None)
            )
    finally:
        use_stack(None)


def alert_body(release: str, workload: str = "web", condition: str = "Fired", **extra) -> bytes:
    return json.dumps(
        {
            "schemaId": "azureMonitorCommonAlertSchema",
            "data": {
                "essentials": {
                    "alertId": "/subscriptions/x/providers/Microsoft.AlertsManagement/alerts/abc",
                    "alertRule": "p95 latency",
                    "severity": "Sev1",
                    "monitorCondition": condition,
                    "firedDateTime": "2026-11-26T22:00:00Z",
                    "description": "p95 above 2s",
                },
                "alertContext": {},
                "customProperties": {"release": release, "workload": workload},
                **extra,
            },
        }
    ).encode()


def post(body: bytes) -> func.HttpResponse:
    req = func.HttpRequest("POST", "/api/alerts", body=body, headers={"content-type": "application/json"})
    return registered_functions()["alerts"](req)


def test_alerts_turns_the_common_alert_schema_into_an_alert_message(stack, release_name):
    response = post(alert_body(release_name))
    assert response.status_code == 202
    event_id = json.loads(response.get_body())["id"]
    [queued] = stack.queue(config.LOCAL_QUEUE).peek_messages()
    doc = json.loads(queued.content)
    assert doc["type"] == "alert" and doc["id"] == event_id and doc["source"] == "azure-monitor"
    assert doc["data"] == {
        "release": release_name,
        "workload": "web",
        "severity": "Sev1",
        "description": "p95 above 2s",
    }
    assert post(alert_body(release_name)).status_code == 202
    assert json.loads(post(alert_body(release_name)).get_body())["id"] == event_id  # same alert, same id


@pytest.mark.parametrize(
    "body,status,words",
    [
        (b"{", 400, "not JSON"),
        (json.dumps({"schemaId": "Microsoft.Insights/activityLogs"}).encode(), 400, "common alert schema"),
        (json.dumps({"schemaId": "azureMonitorCommonAlertSchema", "data": {}}).encode(), 400, "essentials"),
        (alert_body("Bad/Name"), 400, "customProperties.release"),
        (b"x" * (300 * 1024), 413, "limit"),
    ],
)
def test_alerts_refuses_bad_input_clearly(stack, body, status, words):
    response = post(body)
    assert response.status_code == status and words in json.loads(response.get_body())["error"]
    assert stack.queue(config.LOCAL_QUEUE).peek_messages() == []


def test_resolved_alerts_are_not_acted_on(stack, release_name):
    response = post(alert_body(release_name, condition="Resolved"))
    assert response.status_code == 200 and json.loads(response.get_body())["accepted"] is False
    assert stack.queue(config.LOCAL_QUEUE).peek_messages() == []


def get_status(name: str) -> func.HttpResponse:
    req = func.HttpRequest("GET", f"/api/releases/{name}", body=b"", route_params={"release": name})
    return registered_functions()["status"](req)


def test_status_endpoint(stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "staged",
                "approvers": ["a@b.c"],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )
    response = get_status(release_name)
    assert response.status_code == 200
    assert json.loads(response.get_body()) == status_json(stack.store.get_release(release_name).release, health={}) | {
        "routing_progress": None  # no release-level move recorded (v3 §15)
    }  # as `promote status`
    assert get_status("never-applied").status_code == 404
    assert get_status("Bad'Name").status_code == 400


def test_status_of_a_flight_release_shows_the_judges_last_evaluation_as_promote_status_does(stack, release_name):
    from shared.adapters.judge_store import TableJudgeStore
    from shared.application.config import JUDGE_TABLE
    from shared.application.views import release_status
    from shared.domain.health import JudgeRecord
    from shared.domain.times import ms

    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "flight",
                "flights": [{"percent": 50, "bake": "1h"}, {"percent": 100, "bake": "0s"}],
                "health": {"interval": "5s", "checks": [{"name": "errors", "provider": "local", "max": 1.0}]},
                "workloads": [{"name": "shop", "assets": ["vm-1"]}],
            }
        )
    )
    stack.service.handle(event("asset-replicated", release_name, "shop", "r1", asset="vm-1"))
    stack.service.handle(event("tests-passed", release_name, "shop", "t1"))
    shop = stack.store.get_release(release_name).release.workloads["shop"]
    assert shop.state == "flighting" and shop.flight_started_at is not None
    at = shop.flight_started_at
    record = JudgeRecord("shop", shop.attempt, shop.flight, ms(at), evaluation=1, at=at)
    TableJudgeStore(stack.table(JUDGE_TABLE)).save(release_name, record)

    doc = json.loads(get_status(release_name).get_body())
    [w] = doc["workloads"]
    assert w["health"]["interval_seconds"] == 5 and w["health"]["last"] == record.to_json()
    expected = release_status(stack.store, stack.judge_records, release_name, stack.clock.now(), stack.routing_progress)
    for key in ("waiting_for", "deadline"):  # what moves with the clock, between the two reads
        expected["workloads"][0].pop(key), w.pop(key)
    assert doc == expected


def test_status_of_a_release_without_flights_never_builds_the_judge(stack, release_name):
    stack.service.apply(
        validate_plan(
            {"release": release_name, "model": "single-step", "workloads": [{"name": "web", "assets": ["vm-1"]}]}
        )
    )
    assert get_status(release_name).status_code == 200
    assert "judge" not in vars(stack)  # the judge (and its table) is built only for a flight release
