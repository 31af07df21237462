"""What time and order cost in storage requests to the release table (issue 13), counted on the wire.

- releases with `windows` and `deadlines` but no `after`: requests per lifecycle event (must stay 2);
- a release that others name in `after`: requests of the event that promotes it, and per dependant the
  requests of the `dependency-promoted` message promote sends it (the service reads the dependency's state
  itself, then the usual read and transaction: 3);
- `apply` of a release with `after`: requests per named release.

Only the release table is counted: timers and notices go through the scheduler (Service Bus on Azure; the
local queue and its note table here), routing through the router, as for every other message.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any


class _TableCounter:
    """A raw_request_hook counting requests to one table, by kind."""

    def __init__(self, table: str):
        self.table, self.on = table, False
        self.by_kind: Counter[str] = Counter()

    def __call__(self, request: Any) -> None:
        from bench.meter import table_of
        from bench.metering import request_kind

        http = request.http_request
        if self.on and table_of(http) == self.table:
            self.by_kind[request_kind(http.method, http.url)] += 1

    def take(self) -> int:
        total = sum(self.by_kind.values())
        self.by_kind.clear()
        return total


class _Recorder:
    """A scheduler that keeps what is scheduled, so the notices can be delivered by hand and counted."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def schedule(self, event: dict, due: datetime) -> None:
        self.events.append(event)


def measure(connection_string: str, *, releases: int = 10, dependants: int = 5) -> dict[str, Any]:
    from shared.application.bootstrap import Stack
    from shared.application.config import RELEASES_TABLE, load_settings
    from shared.domain.plan import validate_plan

    counter = _TableCounter(RELEASES_TABLE)
    stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": connection_string}), request_hook=counter)
    service = stack.service
    recorder = _Recorder()
    service.scheduler = recorder
    stack.store  # noqa: B018 - the table exists, as in a warm function app
    past = datetime.now(UTC) - timedelta(days=1)
    timed = {
        "deadlines": {"replicating": "1d", "testing": "1d", "approval": "1d"},
        "windows": {
            "timezone": "Europe/Amsterdam",
            "deny": [
                {
                    "from": (past - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
                    "to": past.strftime("%Y-%m-%dT%H:%M"),
                    "reason": "over",
                }
            ],
        },
    }

    def plan(name: str, **extra: Any):
        return validate_plan(
            {
                "release": name,
                "model": "single-step",
                "approvers": ["ana@contoso.com"],
                "workloads": [{"name": f"w{i}", "assets": ["vm-1", "vm-2"]} for i in range(3)],
                **timed,
                **extra,
            }
        )

    def event(type_: str, release: str, workload: str | None, id_: str, **data: Any) -> str:
        return json.dumps(
            {
                "specversion": "1.0",
                "id": id_,
                "source": "bench",
                "type": type_,
                "data": {"release": release, **({"workload": workload} if workload else {}), **data},
            }
        )

    def lifecycle(release: str) -> list[str]:
        bodies = [
            event("asset-replicated", release, f"w{i}", f"{release}-{i}-{a}", asset=a)
            for i in range(3)
            for a in ("vm-1", "vm-2")
        ]
        return bodies + [event("tests-passed", release, f"w{i}", f"{release}-{i}-t") for i in range(3)]

    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    plain = [f"time-{stamp}-{i}" for i in range(releases)]
    for name in plain:
        service.apply(plan(name))
    counter.on = True
    events = requests = 0
    for name in plain:
        for body in lifecycle(name):
            service.handle(body)
            events, requests = events + 1, requests + counter.take()
    dependency = f"time-{stamp}-dep"
    service.apply(plan(dependency))
    counter.take()
    waiting = [f"time-{stamp}-after-{i}" for i in range(dependants)]
    apply_requests = 0
    for name in waiting:
        service.apply(plan(name, after=[dependency]))
        apply_requests += counter.take()
    promote_requests = 0
    for body in lifecycle(dependency):
        service.handle(body)
        promote_requests = counter.take()  # the last one is the event that promotes the release
    notices = [e for e in recorder.events if e["type"] == "dependency-promoted"]
    notice_requests = 0
    for notice in notices:
        assert service.handle(json.dumps(notice)).outcome == "applied"
        notice_requests += counter.take()
    return {
        "requests_per_event_with_windows_and_deadlines": round(requests / events, 3),
        "events": events,
        "requests_of_the_promoting_event_with_dependants": promote_requests,
        "dependants": dependants,
        "notices_sent": len(notices),
        "requests_per_dependency_notice": round(notice_requests / max(len(notices), 1), 3),
        "requests_per_apply_with_one_after": round(apply_requests / dependants, 3),
    }


def lines(figures: dict[str, Any]) -> list[str]:
    return [
        "Time and order (issue 13), requests to the release table:",
        f"  lifecycle event of a release with windows + deadlines, no `after` == 2: "
        f"{figures['requests_per_event_with_windows_and_deadlines']} ({figures['events']} events)",
        f"  the event that promotes a release {figures['dependants']} others wait for: "
        f"{figures['requests_of_the_promoting_event_with_dependants']} (+ {figures['notices_sent']} scheduled notices)",
        f"  per dependant, its dependency-promoted notice: {figures['requests_per_dependency_notice']} "
        "(the dependency's read, its own read, one transaction)",
        f"  apply of a release with one `after`: {figures['requests_per_apply_with_one_after']}",
    ]
