"""The demo's wave: a staged release of 200 workloads (three shards) that moves at once when it is approved,
with the move's figures: workloads moved, storage transactions and requests, and the time until every reader
sees it. Its 400 lifecycle events go to the service directly (as a host would hand them over), so that the
demo shows what they cost rather than 400 lines of output."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from shared.application.config import ROUTING_TABLE
from shared.domain.messages import new_event
from shared.local.demo_plans import APPROVER, OPERATOR

WAVE_SIZE = 200


def wave_plan(stamp: str, n: int = WAVE_SIZE) -> dict:
    return {
        "release": f"demo-{stamp}-wave-200",
        "wave": f"demo-{stamp}",  # `promote releases --wave` and `promote report --wave` group by it
        "model": "staged",
        "approvers": [APPROVER],
        "operators": [OPERATOR],
        "workloads": [{"name": f"app-{i:03d}", "assets": [f"vm-app-{i:03d}"]} for i in range(1, n + 1)],
    }


class Meter:
    """Counts the storage requests a stack sends: a transaction is a POST to $batch."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    def __call__(self, request) -> None:
        http = request.http_request
        path = http.url.split("?", 1)[0]
        # a transaction names its table only in its body's parts (the URL is the account's $batch)
        body = http.body if path.endswith("$batch") and isinstance(http.body, bytes) else b""
        if ROUTING_TABLE in path or f"/{ROUTING_TABLE}(".encode() in body:
            self.kinds["routing"] += 1
        elif path.endswith("$batch"):
            self.kinds["transaction"] += 1
        else:
            self.kinds["read" if http.method == "GET" else "write"] += 1


def event(type_: str, release: str, workload: str | None, source: str, **data) -> str:
    import json

    doc = new_event(
        type_, {"release": release, "workload": workload, **data}, id=str(uuid.uuid4()), source=source,
        time=datetime.now(UTC),
    )  # fmt: skip
    return json.dumps(doc)


def _replicate_and_test(settings, release: str, workloads: list[str]) -> Counter[str]:
    """One host's share: every workload of one shard replicated and tested; the requests it sent."""
    from shared.application.bootstrap import Stack

    meter = Meter()
    host = Stack(settings, request_hook=meter)
    for w in workloads:
        host.service.handle(event("asset-replicated", release, w, "azure-migrate", asset=f"vm-{w}"))
        host.service.handle(event("tests-passed", release, w, "test-pipeline", suite="smoke", run="7"))
    return meter.kinds


def _lifecycle(settings, release: str, shards: list[list[str]]) -> Counter[str]:
    """The shards' events side by side, a host a shard (each a stack of its own), as several hosts would."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(shards)) as pool:
        counts = list(pool.map(lambda names: _replicate_and_test(settings, release, names), shards))
    return sum(counts, Counter())


def run_wave(stack, stamp: str, out=print) -> bool:
    """Apply the wave, replicate and test every workload, approve: the release moves at once. True if every
    workload ended promoted."""
    from shared.adapters.table_store.pages import PageReads
    from shared.application.bootstrap import Stack
    from shared.application.config import RELEASES_TABLE
    from shared.domain.plan import validate_plan

    meter = Meter()
    wave = Stack(stack.settings, clock=stack.clock, request_hook=meter)  # its own service: no line per event
    plan = wave_plan(stamp)
    name = plan["release"]
    size = wave.settings.shard_size
    out(f"\n== wave: release {name} (staged, {WAVE_SIZE} workloads in {-(-WAVE_SIZE // size)} shards)")
    wave.service.apply(validate_plan(plan))
    names = [w["name"] for w in plan["workloads"]]
    started = time.monotonic()
    kinds = _lifecycle(stack.settings, name, [names[k : k + size] for k in range(0, len(names), size)])
    events, spent = 2 * WAVE_SIZE, time.monotonic() - started
    requests = kinds["read"] + kinds["transaction"]
    out(
        f"  {events} lifecycle events (replicated, tested; a host a shard) in {spent:.1f}s: "
        f"{requests / events:.1f} storage requests each; the release waits for approval"
    )
    reads = PageReads(wave.table(RELEASES_TABLE))
    meter.kinds = Counter()
    started = time.monotonic()
    result = wave.service.handle(
        event("override", name, None, "operator", action="approve", actor=APPROVER, reason="CAB-2077: wave 7")
    )
    moved = time.monotonic() - started
    counts = reads.overview(name).tally
    promoted = dict(counts.states).get("promoted", 0)  # type: ignore[call-overload]
    out(
        f"  {APPROVER} approves: {len(result.entries)} workloads promoted at once in {moved:.2f}s: "
        f"{meter.kinds['transaction']} transactions (1 commit point + a catch-up per shard), "
        f"{meter.kinds['read']} reads, {meter.kinds['routing']} requests to the local router's records"
    )
    out(f"  every reader sees it at once: {promoted}/{WAVE_SIZE} promoted  (promote status --release {name})")
    out(f"  the wave's report: promote report --wave {plan['wave']}")
    return promoted == WAVE_SIZE
