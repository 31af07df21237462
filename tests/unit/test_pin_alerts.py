"""Azure Monitor's common alert schema -> promote's `alert` event (shared/application/alerts.py), pinned whole:
every field of the event, every refusal's status and text (an action group's owner reads them)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from shared.application.alerts import AlertError, alert_event

NOW = datetime(2026, 12, 7, 9, 30, 15, 250000, tzinfo=UTC)


def _traceparent(release: str) -> str:
    """The root context of a release's trace, derived here from its definition (sha256 of the name)."""
    digest = hashlib.sha256(f"promote/release/{release}".encode()).digest()
    return f"00-{digest[:16].hex()}-{digest[16:24].hex()}-01"


def _event_id(alert_id: str, fired: str) -> str:
    return "azmon-" + hashlib.sha256(f"{alert_id}|{fired}".encode()).hexdigest()[:32]


def _body(essentials: dict | None = None, props: object = None, **data) -> bytes:
    doc = {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1",
                "alertRule": "cpu-high",
                "severity": "Sev2",
                "monitorCondition": "Fired",
                "firedDateTime": "2026-12-07T09:30:00.000Z",
                "description": "CPU above 90%",
                **(essentials or {}),
            },
            "customProperties": {"release": "r1", "workload": "web"} if props is None else props,
            **data,
        },
    }
    return json.dumps(doc).encode()


def _refusal(body: bytes) -> tuple[int, str]:
    with pytest.raises(AlertError) as caught:
        alert_event(body, now=NOW)
    return caught.value.status, str(caught.value)


def test_a_fired_alert_is_this_whole_event():
    alert_id = "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1"
    assert alert_event(_body(), now=NOW) == {
        "specversion": "1.0",
        "id": _event_id(alert_id, "2026-12-07T09:30:00.000Z"),
        "source": "azure-monitor",
        "type": "alert",
        "time": "2026-12-07T09:30:15.250000Z",
        "datacontenttype": "application/json",
        "traceparent": _traceparent("r1"),
        "data": {"release": "r1", "workload": "web", "severity": "Sev2", "description": "CPU above 90%"},
    }


def test_the_event_id_is_the_alert_and_its_firing_so_a_refiring_is_a_new_event():
    first = alert_event(_body(), now=NOW)
    again = alert_event(_body(), now=NOW + timedelta(minutes=5))
    refired = alert_event(_body({"firedDateTime": "2026-12-07T10:00:00.000Z"}), now=NOW)
    other = alert_event(_body({"alertId": "a2"}), now=NOW)
    assert first["id"] == again["id"]
    assert len({first["id"], refired["id"], other["id"]}) == 3
    assert other["id"] == _event_id("a2", "2026-12-07T09:30:00.000Z")


def test_the_alert_id_is_cut_at_1024_characters_and_the_firing_time_at_64():
    long_id, long_fired = "i" * 1024, "f" * 64
    cut = alert_event(_body({"alertId": long_id + "X", "firedDateTime": long_fired + "Y"}), now=NOW)
    assert cut["id"] == _event_id(long_id, long_fired)
    whole = alert_event(_body({"alertId": long_id[:-1] + "X", "firedDateTime": long_fired[:-1] + "Y"}), now=NOW)
    assert whole["id"] == _event_id(long_id[:-1] + "X", long_fired[:-1] + "Y")


def test_no_firing_time_hashes_an_empty_one():
    event = alert_event(_body({"firedDateTime": None}), now=NOW)
    assert event["id"] == _event_id("/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1", "")


def test_without_now_the_event_is_stamped_with_the_current_time():
    before = datetime.now(UTC)
    event = alert_event(_body())
    after = datetime.now(UTC)
    stamped = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    assert before <= stamped <= after


def test_the_description_falls_back_to_the_rule_name_and_loses_control_characters():
    event = alert_event(_body({"description": None}), now=NOW)
    assert event["data"]["description"] == "cpu-high"
    event = alert_event(_body({"description": "line one\nline\ttwo\x7f"}), now=NOW)
    assert event["data"]["description"] == "line onelinetwo\x7f"
    event = alert_event(_body({"description": "d" * 4097}), now=NOW)
    assert event["data"]["description"] == "d" * 4096


def test_no_description_nor_rule_nor_severity_leaves_them_out_of_the_data():
    event = alert_event(_body({"description": "", "alertRule": None, "severity": ""}), now=NOW)
    assert event["data"] == {"release": "r1", "workload": "web"}
    event = alert_event(_body({"description": "\n\t", "severity": None}), now=NOW)
    assert event["data"] == {"release": "r1", "workload": "web"}


def test_the_severity_is_cut_at_256_characters():
    event = alert_event(_body({"severity": "s" * 257}), now=NOW)
    assert event["data"]["severity"] == "s" * 256


@pytest.mark.parametrize("condition", ["Resolved", "resolved", "RESOLVED"])
def test_a_resolved_alert_is_no_event(condition):
    assert alert_event(_body({"monitorCondition": condition}), now=NOW) is None


def test_an_alert_without_a_monitor_condition_is_fired():
    body = json.loads(_body())
    del body["data"]["essentials"]["monitorCondition"]
    assert alert_event(json.dumps(body).encode(), now=NOW)["type"] == "alert"


def test_a_resolved_alert_still_needs_its_release_and_workload():
    assert _refusal(_body({"monitorCondition": "Resolved"}, props={"release": "r1"})) == (
        400,
        "customProperties.workload is missing (set them as custom properties on the alert rule's action)",
    )


def test_body_size_limit_both_sides():
    limit = 256 * 1024
    body = _body()
    at_limit = body + b" " * (limit - len(body))
    assert len(at_limit) == limit
    assert alert_event(at_limit, now=NOW)["type"] == "alert"
    assert _refusal(at_limit + b" ") == (413, f"alert body is {limit + 1} bytes; the limit is {limit}")


def test_refusals_of_bodies_that_are_not_the_schema():
    assert _refusal(b"{") == (
        400,
        "alert body is not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )
    assert _refusal(b"\x80")[0] == 400
    assert _refusal(b"\x80")[1].startswith("alert body is not JSON: ")
    schema = (
        400,
        "expected the Azure Monitor common alert schema (schemaId 'azureMonitorCommonAlertSchema'); "
        "enable it on the action group",
    )
    assert _refusal(b"[]") == schema
    assert _refusal(json.dumps({"schemaId": "other", "data": {}}).encode()) == schema
    assert _refusal(json.dumps({"data": {"essentials": {}}}).encode()) == schema
    missing = (400, "data.essentials is missing")
    assert _refusal(json.dumps({"schemaId": "azureMonitorCommonAlertSchema"}).encode()) == missing
    assert _refusal(json.dumps({"schemaId": "azureMonitorCommonAlertSchema", "data": []}).encode()) == missing
    assert _refusal(json.dumps({"schemaId": "azureMonitorCommonAlertSchema", "data": {}}).encode()) == missing
    assert (
        _refusal(json.dumps({"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": []}}).encode())
        == missing
    )


def test_custom_properties_must_be_an_object_naming_a_valid_release_and_workload():
    assert _refusal(_body(props=["r1", "web"])) == (400, "data.customProperties must be an object")
    both = (
        400,
        "customProperties.release is missing; customProperties.workload is missing "
        "(set them as custom properties on the alert rule's action)",
    )
    assert _refusal(_body(props={})) == both
    assert _refusal(_body(props=[])) == both  # an empty list is no properties, not a wrong type
    assert _refusal(_body(props={"release": "R1", "workload": "web"})) == (
        400,
        "customProperties.release is not a valid name (set them as custom properties on the alert rule's action)",
    )
    assert _refusal(_body(props={"release": "r1", "workload": 7})) == (
        400,
        "customProperties.workload is not a valid name (set them as custom properties on the alert rule's action)",
    )


def test_a_fired_alert_needs_an_alert_id():
    assert _refusal(_body({"alertId": ""})) == (400, "data.essentials.alertId is missing")
    assert _refusal(_body({"alertId": None})) == (400, "data.essentials.alertId is missing")


def test_without_now_the_event_time_is_utc_whatever_the_host_s_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        before = datetime.now(UTC)
        event = alert_event(_body())
        after = datetime.now(UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert event["time"].endswith("Z")
    assert before <= datetime.fromisoformat(event["time"].replace("Z", "+00:00")) <= after
