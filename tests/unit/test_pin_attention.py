"""The `attention` list (contract §3, shared/domain/attention.py) pinned whole for each reason a workload is
not where its release's state suggests, one release state on each side of every condition."""

from __future__ import annotations

from dataclasses import replace

from shared.domain.attention import attention
from shared.domain.model import Release, WorkloadState
from tests.unit.test_pin_status import flight_release, staged_release

S = WorkloadState


def only(release: Release, **workloads) -> Release:
    """The release with just these workloads, each the release's first one at 0% with these fields."""
    first = next(iter(release.workloads.values()))
    return release.evolve(
        workloads={n: replace(first, name=n, **{"traffic_percent": 0, **fields}) for n, fields in workloads.items()}
    )


def test_a_rolled_back_workload_in_a_release_still_under_way():
    release = only(
        flight_release(),
        api=dict(state=S.ROLLED_BACK, traffic_percent=0),
        web=dict(state=S.FLIGHTING, traffic_percent=50, flight=1),
    )
    assert release.state == "in-progress"
    assert attention(release) == [
        {"workload": "api", "state": "rolled-back", "traffic_percent": 0,
         "why": "rolled back to 0% while the release is in-progress; override retry brings it back to testing"}
    ]  # fmt: skip


def test_users_left_on_the_migrated_system_of_a_rolled_back_or_aborted_release():
    rolled = only(flight_release(), api=dict(state=S.ROLLED_BACK, traffic_percent=10), web=dict(state=S.ROLLED_BACK))
    assert rolled.state == "rolled-back"
    assert attention(rolled) == [
        {"workload": "api", "state": "rolled-back", "traffic_percent": 10,
         "why": "10% of its users are on the migrated system (rolled-back) while the release is rolled-back"}
    ]  # fmt: skip
    aborted = only(flight_release(), api=dict(state=S.ABORTED, traffic_percent=1), web=dict(state=S.ABORTED))
    assert aborted.state == "aborted"
    assert attention(aborted) == [
        {"workload": "api", "state": "aborted", "traffic_percent": 1,
         "why": "1% of its users are on the migrated system (aborted) while the release is aborted"}
    ]  # fmt: skip


def test_an_aborted_workload_of_a_promoted_or_finalized_release_and_a_bare_pause():
    promoted = only(
        flight_release(),
        api=dict(state=S.PROMOTED, traffic_percent=100),
        web=dict(state=S.ABORTED, paused=True),
    )
    assert promoted.state == "promoted"
    assert attention(promoted) == [
        {"workload": "web", "state": "aborted", "traffic_percent": 0,
         "why": "aborted: left out of the release, its users stay on the source system; paused; nothing advances "
                "and routing does not change until resume"}
    ]  # fmt: skip
    finalized = only(flight_release(), api=dict(state=S.FINALIZED, traffic_percent=100), web=dict(state=S.ABORTED))
    assert finalized.state == "finalized"
    assert [a["why"] for a in attention(finalized)] == [
        "aborted: left out of the release, its users stay on the source system"
    ]


def test_a_staged_releases_promoted_workloads_while_it_waits_for_approval_but_not_once_promoted():
    staged = staged_release()
    ready = dict(state=S.READY, approved=False, approvals=[], assets={"vm-a": True, "vm-b": True})
    waiting = only(staged, a=ready, b=dict(state=S.FINALIZED, traffic_percent=100)).evolve(
        after_met=("wave-5", "wave-6")
    )
    assert waiting.state == "awaiting-approval"
    assert attention(waiting) == [
        {"workload": "b", "state": "finalized", "traffic_percent": 100,
         "why": "promoted (100%) while the staged release is awaiting-approval"}
    ]  # fmt: skip
    done = only(staged, a=dict(state=S.PROMOTED, traffic_percent=100), b=dict(state=S.FINALIZED, traffic_percent=100))
    assert done.state == "promoted" and attention(done) == []
    flight = only(flight_release(), a=dict(state=S.PROMOTED, traffic_percent=100), b=dict(state=S.REPLICATING))
    assert flight.state == "in-progress" and attention(flight) == []  # only a staged release moves all at once
