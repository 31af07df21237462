"""Views of releases of thousands of workloads: the gates of every workload in one pass equal the domain's own,
and a status document of 5,000 workloads takes well under a second (it took minutes: every workload asked the
release's state, and a staged release's `release` gate asked every other workload's gates)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.application.gates_view import Counted, gates_of
from shared.application.views import status_json
from shared.domain.gates import waiting_for
from shared.domain.model import Release, WorkloadState, new_release
from shared.domain.plan import validate_plan

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
S = WorkloadState


def release_of(n: int, model: str, approval: str, **extra) -> Release:
    doc = {
        "release": "wave",
        "model": model,
        "approval": approval,
        "approvers": ["ana@contoso.com"],
        "operators": ["ops@contoso.com"],
        "workloads": [
            {
                "name": f"w{i:04d}",
                "assets": ["a", "b"],
                **({"data_sync": {"max_lag": "10s", "max_age": "5m"}} if i % 5 == 2 else {}),
            }
            for i in range(n)
        ],
        **extra,
    }
    if model == "flight":
        doc["flights"] = [{"percent": 50, "bake": "1m"}, {"percent": 100}]
    return new_release(validate_plan(doc), NOW - timedelta(hours=1))


@st.composite
def releases(draw) -> Release:
    model = draw(st.sampled_from(["single-step", "staged", "flight"]))
    release = release_of(draw(st.integers(1, 30)), model, draw(st.sampled_from(["auto", "manual"])))
    states = [S.REPLICATING, S.TESTING, S.READY, S.FLIGHTING, S.PROMOTED, S.ROLLED_BACK, S.ABORTED, S.FINALIZED]
    workloads = {}
    for name, w in release.workloads.items():
        state = draw(st.sampled_from(states if model == "flight" else [s for s in states if s != S.FLIGHTING]))
        workloads[name] = replace(
            w,
            state=state,
            assets={a: draw(st.booleans()) or state != S.REPLICATING for a in w.assets},
            tests_passed=draw(st.booleans()),
            approved=draw(st.booleans()),
            paused=draw(st.booleans()),
            lag_seconds=draw(st.sampled_from([None, 1.0, 60.0])),
            lag_at=NOW - timedelta(seconds=30),
            flight=1 if state == S.FLIGHTING else 0,
            flight_started_at=NOW - timedelta(seconds=draw(st.integers(0, 120))) if state == S.FLIGHTING else None,
            state_since=NOW - timedelta(minutes=5),
        )
    return release.evolve(workloads=workloads)


@settings(max_examples=150, deadline=None)
@given(releases())
def test_the_gates_of_every_workload_in_one_pass_are_the_domains_own(release):
    expected = {w.name: waiting_for(release, w, NOW) for w in release.workloads.values()}
    assert gates_of(Counted.of(release), NOW) == expected
    assert Counted.of(release).state == release.state


def test_a_release_gate_naming_more_than_twenty_is_the_domains_own():
    release = everyone(release_of(30, "staged", "manual"), S.READY, tests_passed=True)  # all held by approval
    release.workloads["w0029"] = replace(release.workloads["w0029"], approved=True)
    expected = {w.name: waiting_for(release, w, NOW) for w in release.workloads.values()}
    assert gates_of(Counted.of(release), NOW) == expected
    assert expected["w0000"][1].details["workload_count"] == 28


def everyone(release: Release, state: WorkloadState, **fields) -> Release:
    return release.evolve(
        workloads={
            n: replace(w, state=state, assets=dict.fromkeys(w.assets, True), **fields)
            for n, w in release.workloads.items()
        }
    )


def test_the_status_of_5000_staged_workloads_counts_them_and_names_what_holds_the_release():
    # its cost grows linearly (tests/unit/test_large_release_costs.py counts it); seconds: bench/domain_scale.py
    release = everyone(release_of(5_000, "staged", "manual"), S.READY, tests_passed=True)
    release.workloads["w0003"] = replace(release.workloads["w0003"], state=S.TESTING)
    doc = status_json(release, NOW)
    assert doc["counts"] == {"testing": 1, "ready": 4_999}
    held = doc["workloads"][0]["waiting_for"]
    assert [g["gate"] for g in held] == ["approval", "release"]
    assert held[1]["workload_count"] == 4_999 and held[1]["workloads"][:3] == ["w0001", "w0002", "w0003"]


def test_the_status_of_5000_flighting_workloads_holds_every_one():
    release = everyone(release_of(5_000, "flight", "auto"), S.FLIGHTING, flight=1, flight_started_at=NOW)
    doc = status_json(release, NOW)
    assert doc["counts"] == {"flighting": 5_000} and len(doc["workloads"]) == 5_000
