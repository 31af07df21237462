"""§8 on the real stack (Azurite): lag reports cost one read and one transaction, their outcome lands on the
marker, the new workload fields round-trip, and the local decommission record is written once."""

from __future__ import annotations

import json
from datetime import timedelta

from bench.metering import RequestCounter
from shared.adapters.decommission.local import LocalDecommissioner
from shared.adapters.table_store import marker_row
from shared.application.bootstrap import Stack
from shared.application.config import RELEASES_TABLE, ROUTING_TABLE
from shared.application.views import status_json, waiting_text
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event

APPROVER = "ana@contoso.com"


def plan(name: str, **extra):
    return validate_plan(
        {
            "release": name,
            "model": "single-step",
            "approvers": [APPROVER],
            **extra,
            "workloads": [{"name": "w0", "assets": ["vm-a"], "data_sync": {"max_lag": "5s", "max_age": "2m"}}],
        }
    )


def test_a_lag_report_that_changes_nothing_costs_one_read_and_one_transaction(settings, release_name):
    counter = RequestCounter()
    stack = Stack(settings, request_hook=counter)
    stack.service.apply(plan(release_name))
    _ = stack.store  # tables created up front, as in a warm function app
    stack.table(ROUTING_TABLE)
    stack.service.handle(event("replication-lag", release_name, "w0", "lag-0", lag_seconds=1))
    counter.reset()
    result = stack.service.handle(event("replication-lag", release_name, "w0", "lag-1", lag_seconds=2.5))
    assert (result.outcome, result.entries) == ("applied", [])
    assert dict(counter.by_kind) == {"query": 1, "transaction": 1}
    row = stack.table(RELEASES_TABLE).get_entity(release_name, marker_row("lag-1"))
    assert row["outcome"] == "applied" and "replication lag 2.5s" in row["reason"]
    w = stack.store.get_release(release_name).release.workloads["w0"]
    assert (w.lag_seconds, w.lag_reports) == (2.5, 2)
    assert len(stack.store.list_history(release_name, "w0")) == 1  # only the report that opened the gate


def test_finish_fields_round_trip_and_the_local_source_is_turned_off_once(settings, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    stack.service.apply(plan(release_name, hypercare="1h"))
    handle = stack.service.handle
    handle(event("asset-replicated", release_name, "w0", "e1", asset="vm-a"))
    handle(event("tests-passed", release_name, "w0", "e2"))
    assert stack.store.get_release(release_name).release.workloads["w0"].state == "ready"
    handle(event("replication-lag", release_name, "w0", "e3", lag_seconds=0))
    w = stack.store.get_release(release_name).release.workloads["w0"]
    assert (w.state, w.promoted_at, w.lag_seconds) == ("promoted", clock.now(), 0.0)
    doc = status_json(stack.store.get_release(release_name).release, clock.now())["workloads"][0]
    assert doc["hypercare_until"] == (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert [g["gate"] for g in doc["finish_waiting_for"]] == ["hypercare"]
    assert [g["gate"] for g in doc["waiting_for"]] == ["hypercare"]  # one list says all that holds it, once
    clock.advance(3600)
    whole = status_json(stack.store.get_release(release_name).release, clock.now())
    assert [g["gate"] for g in whole["workloads"][0]["waiting_for"]] == ["finalize"]
    assert waiting_text(whole).count("finalize") == 1
    finalize = dict(action="finalize", actor=APPROVER, reason="source no longer needed")
    scheduled: list[dict] = []
    stack.service.scheduler = type("Recorder", (), {"schedule": lambda self, e, due: scheduled.append(e)})()
    assert handle(event("override", release_name, "w0", "e4", **finalize)).outcome == "applied"
    assert not LocalDecommissioner(stack.table(ROUTING_TABLE)).is_off(release_name, "w0")  # the request, first
    [decommission] = scheduled
    assert handle(json.dumps(decommission)).outcome == "applied"
    release = stack.store.get_release(release_name).release
    w = release.workloads["w0"]
    assert (release.state, w.state, w.finalized_by, w.finalized_at) == ("finalized", "finalized", APPROVER, clock.now())
    assert LocalDecommissioner(stack.table(ROUTING_TABLE)).is_off(release_name, "w0")
    entry = stack.store.list_history(release_name, "w0")[-1]
    assert "source: local source record" in entry.reason and "power on -> off" in entry.reason
    r = handle(event("override", release_name, "w0", "e5", action="rollback", actor=APPROVER, reason="x"))
    assert r.outcome == "rejected" and f"finalized by {APPROVER}" in r.reason


def test_the_local_host_knows_every_timer_promote_schedules_so_until_idle_does_not_wait_on_them():
    """A hypercare or decommission-retry timer delivered must clear its note, or `run --until-idle` (and the
    demo) waits two minutes for a timer that already came."""
    import json as _json

    from shared.domain import messages as m
    from shared.local.localhost import _is_timer
    from tests.fakes import T0

    for kind in (*m.INTERNAL_TYPES, *m.TIME_TYPES):
        body = _json.dumps(
            m.new_event(kind, {"release": "r", "workload": "w"}, id="t", source="promote/timer", time=T0)
        ).encode()
        assert _is_timer(body), kind
    lag_report = m.new_event(
        m.LAG_TYPE, {"release": "r", "workload": "w", "lag_seconds": 1}, id="x", source="s", time=T0
    )
    assert not _is_timer(_json.dumps(lag_report).encode())
