"""The `webhook` decommission provider: POST a CloudEvent `promote.decommission-requested`; 2xx is success.

The URL comes from the app setting named by `url_setting` (a secret stays out of the plan). The event id is
stable for one promotion of one workload, so a receiver that sees it twice (a retry) can do the work once.
The POST is the notifiers' (shared/adapters/http_post.py): a total deadline, so a receiver that trickles its
answer cannot hold the release's session, and no redirect followed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from shared.adapters.decommission import DecommissionError, DecommissionRequest
from shared.adapters.http_post import DEADLINE_SECONDS, PostError, post
from shared.domain.messages import CLOUDEVENTS_CONTENT_TYPE
from shared.domain.times import iso

EVENT_TYPE = "promote.decommission-requested"


def decommission_event(release: str, request: DecommissionRequest, now: datetime) -> dict:
    return {
        "specversion": "1.0",
        "id": f"decommission:{release}:{request.workload}:{request.attempt}",
        "source": f"promote/{release}",
        "type": EVENT_TYPE,
        "subject": f"{release}/{request.workload}",
        "time": iso(now),
        "datacontenttype": "application/json",
        "data": {
            "release": release,
            "workload": request.workload,
            "assets": list(request.assets),
            "approver": request.actor,
        },
    }


class WebhookDecommissioner:
    def __init__(self, environ: Mapping[str, str] | None = None, deadline_seconds: float = DEADLINE_SECONDS):
        self.environ = os.environ if environ is None else environ
        self.deadline = deadline_seconds

    def decommission(self, release: str, request: DecommissionRequest) -> list[str]:
        setting = request.target.url_setting
        if not setting:  # the plan requires it for webhook
            raise DecommissionError("webhook needs url_setting (the name of the app setting holding the URL)")
        url = (self.environ.get(setting) or "").strip()
        if not url.startswith(("https://", "http://")):
            raise DecommissionError(f"app setting {setting} must hold the webhook's URL (http or https)")
        event = decommission_event(release, request, datetime.now(UTC))
        try:
            status = post(
                url,
                json.dumps(event).encode(),
                {"Content-Type": CLOUDEVENTS_CONTENT_TYPE},
                deadline=self.deadline,
            )
        except PostError as exc:
            raise DecommissionError(f"webhook {setting}: the receiver {exc}") from None
        if not 200 <= status < 300:  # a 3xx too: a redirect is not followed
            raise DecommissionError(f"webhook {setting} answered {status}; a 2xx is needed")
        return [f"webhook {setting}: {EVENT_TYPE} {event['id']} accepted ({status})"]
