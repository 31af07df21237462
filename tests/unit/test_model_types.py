"""States and outcomes are enums (StrEnum): the contract's names, kept as enum members, refused when unknown."""

from __future__ import annotations

import json

import pytest

from shared.domain.model import HistoryEntry, Outcome, ReleaseState, Workload, WorkloadState
from tests.fakes import T0


def test_the_enums_hold_exactly_the_contracts_names():
    assert [s.value for s in WorkloadState] == [
        "replicating",
        "testing",
        "ready",
        "flighting",
        "promoted",
        "rolled-back",
        "aborted",
        "finalized",
    ]
    assert [s.value for s in ReleaseState] == [
        "in-progress",
        "awaiting-approval",
        "promoted",
        "rolled-back",
        "aborted",
        "finalized",
    ]
    assert [o.value for o in Outcome] == ["applied", "duplicate", "ignored", "rejected"]


def test_a_state_given_as_text_is_kept_as_the_enum_member_and_an_unknown_one_is_refused():
    w = Workload(name="web").evolve(state="rolled-back")
    assert w.state is WorkloadState.ROLLED_BACK and w.state == "rolled-back"
    with pytest.raises(ValueError, match="rolled_back"):
        Workload(name="web", state="rolled_back")


def test_an_outcome_is_an_enum_member_and_serialises_as_its_name():
    entry = HistoryEntry(
        at=T0,
        event_id="e1",
        type="alert",
        outcome="ignored",
        reason="r",
        workload="web",
        from_state="testing",
        to_state="testing",
        traffic_percent=0,
    )
    assert entry.outcome is Outcome.IGNORED
    assert json.loads(json.dumps(entry.to_json()))["outcome"] == "ignored"
    with pytest.raises(ValueError):
        HistoryEntry(
            at=T0,
            event_id="e1",
            type="alert",
            outcome="skipped",
            reason="r",
            workload=None,
            from_state=None,
            to_state=None,
            traffic_percent=None,
        )


def test_flight_began_is_asked_only_of_a_workload_in_a_flight():
    assert Workload(name="web", state="flighting", flight=1, flight_started_at=T0).flight_began == T0
    with pytest.raises(ValueError, match="not in a flight"):
        _ = Workload(name="web").flight_began
