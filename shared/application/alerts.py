"""Azure Monitor's common alert schema -> a CloudEvents `alert` for the release and workload it names."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from shared.domain.messages import MAX_BODY_BYTES, new_event
from shared.domain.names import is_name

SCHEMA_ID = "azureMonitorCommonAlertSchema"


class AlertError(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def alert_event(body: bytes, *, now: datetime | None = None) -> dict | None:
    """The `alert` event for a fired alert; None for a resolved one. AlertError (400/413) for bad input."""
    if len(body) > MAX_BODY_BYTES:
        raise AlertError(413, f"alert body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AlertError(400, f"alert body is not JSON: {exc}") from None
    except RecursionError:  # a few KB of '[': json.loads gives up at Python's recursion limit
        raise AlertError(400, "alert body is not JSON: nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("schemaId") != SCHEMA_ID:
        raise AlertError(
            400,
            f"expected the Azure Monitor common alert schema (schemaId {SCHEMA_ID!r}); enable it on the action group",
        )
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("essentials"), dict):
        raise AlertError(400, "data.essentials is missing")
    essentials = data["essentials"]
    props = data.get("customProperties") or {}
    if not isinstance(props, dict):
        raise AlertError(400, "data.customProperties must be an object")
    release, workload = props.get("release"), props.get("workload")
    problems = [
        f"customProperties.{key} {'is missing' if value is None else 'is not a valid name'}"
        for key, value in (("release", release), ("workload", workload))
        if not is_name(value)
    ]
    if problems:
        raise AlertError(400, "; ".join(problems) + " (set them as custom properties on the alert rule's action)")
    if str(essentials.get("monitorCondition", "Fired")).lower() == "resolved":
        return None
    alert_id = str(essentials.get("alertId") or "")[:1024]
    fired = str(essentials.get("firedDateTime") or "")[:64]
    if not alert_id:
        raise AlertError(400, "data.essentials.alertId is missing")
    description = essentials.get("description") or essentials.get("alertRule") or ""
    event_id = "azmon-" + hashlib.sha256(f"{alert_id}|{fired}".encode()).hexdigest()[:32]
    return new_event(
        "alert",
        {
            "release": release,
            "workload": workload,
            "severity": str(essentials.get("severity") or "")[:256] or None,
            "description": "".join(c for c in str(description) if c >= " ")[:4096] or None,
        },
        id=event_id,
        source="azure-monitor",
        time=now or datetime.now(UTC),
    )
