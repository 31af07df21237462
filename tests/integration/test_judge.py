"""The judge on a real Azurite: its own records (ETags), the local provider's record, rounds run by the local
host, verdicts through the queue, status showing each check's last value, and 2 requests per verdict."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from shared.adapters.judge_store import TableJudgeStore
from shared.application.bootstrap import Stack, use_stack
from shared.application.config import (
    JUDGE_TABLE,
    LOCAL_QUEUE,
    METRICS_TABLE,
    POISON_QUEUE,
    RELEASES_TABLE,
    ROUTING_TABLE,
)
from shared.application.views import status_json, status_text
from shared.domain.errors import ConflictError
from shared.domain.health import JudgeRecord, Streak
from shared.domain.plan import validate_plan
from shared.local.cli import local_host
from tests.fakes import FakeClock, event


class Requests:
    def __init__(self):
        self.urls: list[str] = []

    def __call__(self, request):
        self.urls.append(f"{request.http_request.method} {request.http_request.url}")


@pytest.fixture
def judged_stack(settings, release_name):
    requests = Requests()
    s = Stack(settings, clock=FakeClock(), request_hook=requests)
    for name in (LOCAL_QUEUE, POISON_QUEUE):
        s.queue(name).clear_messages()
    s.requests = requests  # type: ignore[attr-defined]
    use_stack(s)
    yield s
    # Later tests share this Azurite, and their local hosts judge every release in it: leave nothing flighting.
    s.service.handle(
        event(
            "override",
            release_name,
            None,
            f"cleanup-{release_name}",
            action="abort",
            actor="ops@contoso.com",
            reason="test over",
        )
    )
    use_stack(None)


def plan(name: str) -> dict:
    return {
        "release": name,
        "model": "flight",
        "operators": ["ops@contoso.com"],
        "flights": [{"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
        "health": {
            "interval": "5s",
            "failure_limit": 2,
            "inconclusive_limit": 3,
            "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 50}],
        },
        "workloads": [{"name": "shop", "assets": ["vm-1"]}, {"name": "cart", "assets": ["vm-2"]}],
    }


def settle(s):
    local_host(s, lock_seconds=2, retry_delay=lambda n: 0).run(until_idle=True, wait=0.3, poll=0.02)


def workload(s, release, name):
    return s.store.get_release(release).release.workloads[name]


def test_judge_records_are_guarded_by_etags(stack, release_name):
    store = TableJudgeStore(stack.table(JUDGE_TABLE))
    record = JudgeRecord("shop", 0, 1, 1_764_194_400_123, streaks={"errors": Streak(1, 2)})
    saved = store.save(release_name, record)
    with pytest.raises(ConflictError):
        store.save(release_name, record)  # a second judge creating the same record
    again = store.save(release_name, replace(saved, evaluation=1))
    with pytest.raises(ConflictError):
        store.save(release_name, replace(saved, evaluation=2))  # written from a stale read
    loaded = store.load(release_name)["shop"]
    assert (loaded.evaluation, loaded.started_ms, loaded.streaks, loaded.etag) == (
        1,
        1_764_194_400_123,
        {"errors": Streak(1, 2)},
        again.etag,
    )


def test_a_flight_judged_from_local_metrics_end_to_end(judged_stack, release_name):
    s, clock = judged_stack, judged_stack.clock
    s.service.apply(validate_plan(plan(release_name)))
    for name, asset in (("shop", "vm-1"), ("cart", "vm-2")):
        s.publisher.publish(json.loads(event("asset-replicated", release_name, name, f"r-{name}", asset=asset)))
        s.publisher.publish(json.loads(event("tests-passed", release_name, name, f"t-{name}")))
    settle(s)
    assert workload(s, release_name, "shop").traffic_percent == 50
    s.local_metrics.put(release_name, "shop", "errors", 0.3, 0, clock.now())  # no samples yet
    s.local_metrics.put(release_name, "cart", "errors", 6.0, 900, clock.now())
    clock.advance(5)
    settle(s)
    records = s.judge.records.load(release_name)
    assert records["shop"].results[0].outcome == "inconclusive" and records["cart"].results[0].outcome == "failed"
    doc = status_json(s.store.get_release(release_name).release, health=records)
    shop = next(w for w in doc["workloads"] if w["name"] == "shop")
    assert shop["state"] == "flighting" and shop["health"]["last"]["checks"][0]["samples"] == 0
    assert "shop: judge evaluation 1: errors no data (0 samples, needs 50)" in status_text(
        s.store.get_release(release_name).release, health=records
    )

    s.local_metrics.put(release_name, "shop", "errors", 0.3, 400, clock.now())
    clock.advance(5)
    settle(s)
    assert workload(s, release_name, "cart").state == "rolled-back"
    assert workload(s, release_name, "shop").flight == 2
    clock.advance(5)
    settle(s)
    assert workload(s, release_name, "shop").state == "promoted"
    reasons = [e.reason for e in s.store.list_history(release_name, "cart") if e.source == "promote/judge"]
    assert len(reasons) == 1 and reasons[0].startswith(
        "flight 1 unhealthy (judge evaluation 2: errors 6 FAILED (max 1, 900 samples), 2 in a row): "
        "rolled back to 0% (on_alert: rollback) -> rolled-back (0%)"
    )
    judged = [e for e in s.store.list_history(release_name, "shop") if e.source == "promote/judge"]
    assert [(e.type, e.outcome, e.flight) for e in judged] == [
        ("flight-healthy", "applied", 1),
        ("flight-healthy", "applied", 2),
    ]


def test_a_judge_verdict_costs_the_lifecycle_its_two_storage_requests(judged_stack, release_name):
    s, clock = judged_stack, judged_stack.clock
    s.service.apply(validate_plan(plan(release_name)))
    for name, asset in (("shop", "vm-1"), ("cart", "vm-2")):
        s.service.handle(event("asset-replicated", release_name, name, f"r-{name}", asset=asset))
        s.service.handle(event("tests-passed", release_name, name, f"t-{name}"))
    s.local_metrics.put(release_name, "shop", "errors", 0.1, 100, clock.now())
    published: list[dict] = []
    s.judge.publisher = type("Keep", (), {"publish": lambda self, e: published.append(e)})()
    clock.advance(5)
    s.judge.round()
    [verdict] = published
    s.requests.urls.clear()
    result = s.service.handle(json.dumps(verdict))
    assert result.outcome == "applied"
    store = [u for u in s.requests.urls if f"/{RELEASES_TABLE}(" in u or u.endswith("/$batch")]
    assert len(store) == 2, s.requests.urls  # one range query, one transaction
    others = [u for u in s.requests.urls if u not in store]
    assert all(f"/{ROUTING_TABLE}" in u for u in others), others  # the local router's own record, nothing else


def test_a_round_reads_a_releases_local_values_with_one_request(judged_stack, release_name):
    """Batched health (issue 23): the due evaluations of a release are read together, whatever their number."""
    s, clock = judged_stack, judged_stack.clock
    s.service.apply(validate_plan(plan(release_name)))
    for name, asset in (("shop", "vm-1"), ("cart", "vm-2")):
        s.service.handle(event("asset-replicated", release_name, name, f"r-{name}", asset=asset))
        s.service.handle(event("tests-passed", release_name, name, f"t-{name}"))
        s.local_metrics.put(release_name, name, "errors", 0.1, 100, clock.now())
    s.judge.publisher = type("Keep", (), {"publish": lambda self, e: None})()
    clock.advance(5)
    s.requests.urls.clear()
    run = s.judge.round()
    assert run.evaluated == 2
    reads = [u for u in s.requests.urls if f"/{METRICS_TABLE}(" in u or f"/{METRICS_TABLE}?" in u]
    assert len(reads) == 1, s.requests.urls
    assert {r.results[0].value for r in s.judge.records.load(release_name).values()} == {0.1}
