"""The board's read cost (issue 14): storage requests and time of a release page with 10 and with 10,000
history entries, of an older history page, and of the index; and the request cost of a message whose state
change writes notifications (the outbox row rides in the same transaction).

    .venv/bin/python bench/board.py           # part of `make bench`

Prints a table and, last, one JSON line; exits 1 if a page's request count grows with the history, or a
message with notifications costs more than 2 storage requests.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.history import add_history  # noqa: E402

WORKLOADS = ["payroll", "crm", "billing"]
RUNS = 5


def measure(settings, path: str, query: dict) -> tuple[int, float, int]:
    """(requests, median ms, bytes) of rendering one page, counting its storage requests on the wire."""
    from shared.application.bootstrap import Stack
    from shared.application.config import RELEASES_TABLE

    counts, times, size = [], [], 0
    requests: list[str] = []
    stack = Stack(settings, request_hook=lambda r: requests.append(r.http_request.url))
    stack.table(RELEASES_TABLE)
    board = stack.board("/")
    board.handle(path, query)  # warm: templates compiled once per process, as a long-running server does
    for _ in range(RUNS):
        requests.clear()
        t0 = time.perf_counter()
        page = board.handle(path, query)
        times.append((time.perf_counter() - t0) * 1000)
        assert page.status == 200, page.body[:300]
        counts.append(len(requests))
        size = len(page.body)
    assert len(set(counts)) == 1, counts
    return counts[0], statistics.median(times), size


def main() -> int:
    from shared.application.bootstrap import Stack
    from shared.application.config import RELEASES_TABLE, load_settings
    from shared.domain.messages import new_event
    from shared.domain.plan import validate_plan
    from shared.local.azurite import start

    azurite = start()
    try:
        settings = load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string})
        stack = Stack(settings)
        table = stack.table(RELEASES_TABLE)
        rows = []
        for name, entries in (("bench-short", 10), ("bench-long", 10_000)):
            stack.service.apply(
                validate_plan(
                    {
                        "release": name,
                        "model": "single-step",
                        "workloads": [{"name": w, "assets": ["vm"]} for w in WORKLOADS],
                    }
                )
            )
            seq = add_history(table, name, WORKLOADS, entries, 0)
            requests, ms, size = measure(settings, f"releases/{name}", {})
            rows.append((f"release page, {entries:,} history entries", requests, ms, size))
            if entries > 1000:
                requests, ms, size = measure(settings, f"releases/{name}", {"before": [str(seq // 2)]})
                rows.append((f"older history page (middle of {entries:,})", requests, ms, size))
                requests, ms, size = measure(
                    settings, f"releases/{name}", {"workload": ["crm"], "outcome": ["applied"]}
                )
                rows.append((f"filtered history (crm, applied), {entries:,} entries", requests, ms, size))
        requests, ms, size = measure(settings, "", {})
        rows.append(("index (every release)", requests, ms, size))

        # a message that notifies: still one range read and one transaction
        stack.service.apply(
            validate_plan(
                {
                    "release": "bench-notify",
                    "model": "flight",
                    "flights": [{"percent": 100}],
                    "notify": [{"kind": "webhook", "url_setting": "BENCH_HOOK"}],
                    "workloads": [{"name": "web", "assets": ["vm"]}],
                }
            )
        )
        wire: list[str] = []
        counted = Stack(settings, request_hook=lambda r: wire.append(r.http_request.url))
        counted.table(RELEASES_TABLE)
        counted.service.handle(
            json.dumps(
                new_event(
                    "asset-replicated",
                    {"release": "bench-notify", "workload": "web", "asset": "vm"},
                    id="bn-1",
                    source="bench",
                    time=counted.clock.now(),
                )
            )
        )
        wire.clear()
        counted.service.handle(
            json.dumps(
                new_event(
                    "tests-passed",
                    {"release": "bench-notify", "workload": "web"},
                    id="bn-2",
                    source="bench",
                    time=counted.clock.now(),
                )
            )
        )
        notify_requests = len([u for u in wire if "/promotereleases" in u or "$batch" in u])  # routing is apart
        outbox = counted.outbox.list_release("bench-notify")
    finally:
        azurite.stop()

    width = max(len(r[0]) for r in rows)
    print(f"| {'page'.ljust(width)} | storage requests | median ms | bytes |")
    print(f"|{'-' * (width + 2)}|------------------|-----------|-------|")
    for label, requests, ms, size in rows:
        print(f"| {label.ljust(width)} | {requests} | {ms:.0f} | {size:,} |")
    print(f"| {'message that writes a notification (flight-started)'.ljust(width)} | {notify_requests} | - | - |")
    short, long_ = rows[0][1], rows[1][1]
    problems = []
    if long_ != short or any(r[1] != short for r in rows[1:4]):
        problems.append(f"release page requests grow with history: {[r[1] for r in rows]}")
    if notify_requests != 2 or len(outbox) != 1:
        problems.append(f"a notifying message cost {notify_requests} requests ({len(outbox)} outbox rows)")
    for problem in problems:
        print("PROBLEM:", problem)
    print(
        json.dumps(
            {
                "release_page_requests_10": short,
                "release_page_requests_10000": long_,
                "release_page_ms_10000": round(rows[1][2], 1),
                "index_requests": rows[-1][1],
                "notifying_message_requests": notify_requests,
            }
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
