"""The `webhook` decommission provider: POST a CloudEvent `promote.decommission-requested`; 2xx is success.

The URL comes from the app setting named by `url_setting` (a secret stays out of the plan). The event id is
stable for one promotion of one workload, so a receiver that sees it twice (a retry) can do the work once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from shared.adapters.decommission import DecommissionError, DecommissionRequest
from shared.domain.messages import CLOUDEVENTS_CONTENT_TYPE

EVENT_TYPE = "promote.decommission-requested"
TIMEOUT_SECONDS = 10


def decommission_event(release: str, request: DecommissionRequest, now: datetime) -> dict:
    return {
        "specversion": "1.0",
        "id": f"decommission:{release}:{request.workload}:{request.attempt}",
        "source": f"promote/{release}",
        "type": EVENT_TYPE,
        "subject": f"{release}/{request.workload}",
        "time": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {
            "release": release,
            "workload": request.workload,
            "assets": list(request.assets),
            "approver": request.actor,
        },
    }


class WebhookDecommissioner:
    def __init__(self, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ

    def decommission(self, release: str, request: DecommissionRequest) -> list[str]:
        import requests  # azure-core's HTTP stack; imported when a plan uses the webhook

        setting = request.target.url_setting
        if not setting:  # the plan requires it for webhook
            raise DecommissionError("webhook needs url_setting (the name of the app setting holding the URL)")
        url = (self.environ.get(setting) or "").strip()
        if not url.startswith(("https://", "http://")):
            raise DecommissionError(f"app setting {setting} must hold the webhook's URL (http or https)")
        event = decommission_event(release, request, datetime.now(UTC))
        try:
            response = requests.post(
                url,
                data=json.dumps(event),
                timeout=TIMEOUT_SECONDS,
                headers={"Content-Type": CLOUDEVENTS_CONTENT_TYPE},
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise DecommissionError(f"webhook {setting}: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DecommissionError(f"webhook {setting} answered {response.status_code}; a 2xx is needed")
        return [f"webhook {setting}: {EVENT_TYPE} {event['id']} accepted ({response.status_code})"]
