"""Every field of a workload, a release and a history entry survives a commit and a read through Azurite.

The samples are built from the dataclasses' own fields, each with a value that differs from its default, so a
field added later that the table store forgets to write (or to read back) fails here, not in production."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Op, Outcome, Release, Workload, WorkloadState, archive_add, new_release
from shared.domain.plan import validate_plan
from tests.model_strategies import workloads

AT = datetime(2026, 11, 27, 9, 13, 23, 123456, tzinfo=UTC)  # microseconds: stored to the microsecond

# A non-default value for each annotation the model uses (a new kind of field needs a sample here).
SAMPLES: dict[str, Any] = {
    "bool": True,
    "int": 7,
    "int | None": 3,
    "str": "sample",
    "str | None": "sample text",
    "datetime | None": AT + timedelta(seconds=5),
    "datetime": AT,
    "WorkloadState": WorkloadState.FLIGHTING,
    "Outcome": Outcome.REJECTED,
    "dict[str, bool]": {"vm-a": True, "vm-b": False},
    "tuple[str, ...]": ("wave-a", "wave-b"),
    "float | None": 2.5,
    "list[dict]": [{"by": "ana@contoso.com", "at": "2026-11-27T09:13:23Z"}],
    "list[str]": ["ops@contoso.com"],
    "Op | None": Op.SUCCEEDED,  # v3 §16: an Azure Migrate operation's state
}


def _sample(cls: type, fixed: dict[str, Any], unstored: tuple[str, ...] = ()) -> Any:
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in fixed or f.name in unstored:
            if f.name in fixed:
                values[f.name] = fixed[f.name]
            continue
        assert str(f.type) in SAMPLES, f"{cls.__name__}.{f.name}: add a sample for {f.type} to SAMPLES"
        values[f.name] = SAMPLES[str(f.type)]
    sample = cls(**values)
    for f in dataclasses.fields(cls):  # every field differs from its default, so losing it shows
        if f.name in unstored:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        assert getattr(sample, f.name) != default, f"{cls.__name__}.{f.name} sample equals its default"
    return sample


def _plan(name: str):
    return validate_plan(
        {
            "release": name,
            "model": "flight",
            "approvers": ["ana@contoso.com"],
            "workloads": [{"name": "web", "assets": ["vm-a", "vm-b"]}, {"name": "db", "assets": ["vm-c"]}],
            "flights": [{"percent": 10, "bake": "1m"}, {"percent": 50, "bake": "1m"}, {"percent": 100, "bake": "0s"}],
        }
    )


def test_every_workload_release_and_history_field_round_trips(stack, release_name):
    store = stack.store
    store.create_release(new_release(_plan(release_name)))
    snapshot = store.get_release(release_name)
    web = _sample(Workload, {"name": "web"})
    seen = tuple(f"{i:016x}" for i in range(3))
    archive = archive_add(b"", ["00000000000000aa", "00000000000000bb"])
    release = _sample(
        Release,
        {
            "plan": snapshot.release.plan,
            "workloads": {**snapshot.release.workloads, "web": web},
            "seen": seen,
            "archive": archive,
            "processed": 9,
            "archived": 6,
        },
        # not fields a commit writes: `seq` counts the release's own history entries (the store numbers them),
        # `others` the workloads a read of one shard leaves out
        unstored=("seq", "others"),
    )
    entry = _sample(HistoryEntry, {"workload": "web", "event_id": "e-1", "type": "override"})
    store.commit(snapshot, Decision(release=release, entries=[entry]), "e-1")
    # `dependants` has a writer of its own (apply of a release naming this one in `after`), not the commit
    for dependant in release.dependants:
        store.add_dependant(store.get_release(release_name), dependant)

    back = store.get_release(release_name).release
    assert back.workloads["web"] == web
    assert isinstance(back.workloads["web"].state, WorkloadState)
    assert back.workloads["db"] == snapshot.release.workloads["db"]
    for f in dataclasses.fields(Release):
        if f.name not in ("plan", "seq", "others"):
            assert getattr(back, f.name) == getattr(release, f.name), f.name
    assert back.plan == release.plan
    [history] = store.list_history(release_name, "web")
    assert history == entry and isinstance(history.outcome, Outcome)
    assert store.seen_before(release_name, "e-1")


def test_a_field_that_becomes_empty_is_removed_not_kept(stack, release_name):
    """Workload rows are replaced whole: a flight that ended leaves no start time behind, a resume no pause."""
    store = stack.store
    store.create_release(new_release(_plan(release_name)))
    snapshot = store.get_release(release_name)
    flying = _sample(Workload, {"name": "web"})
    store.commit(
        snapshot,
        Decision(release=snapshot.release.evolve(workloads={**snapshot.release.workloads, "web": flying}), entries=[]),
        None,
    )
    snapshot = store.get_release(release_name)
    landed = Workload(name="web", state=WorkloadState.ROLLED_BACK, assets=dict(flying.assets))
    store.commit(
        snapshot,
        Decision(release=snapshot.release.evolve(workloads={**snapshot.release.workloads, "web": landed}), entries=[]),
        None,
    )
    assert store.get_release(release_name).release.workloads["web"] == landed


def test_a_history_entry_with_every_optional_field_empty_round_trips(stack, release_name):
    store = stack.store
    store.create_release(new_release(_plan(release_name)))
    snapshot = store.get_release(release_name)
    entry = HistoryEntry(
        at=AT,
        event_id="invalid:1",
        type="invalid",
        outcome=Outcome.REJECTED,
        reason="bad",
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
    )
    store.commit(snapshot, Decision(release=snapshot.release.evolve(seq=1), entries=[entry]), None)
    assert store.list_history(release_name) == [entry]


def test_list_releases_names_every_release_applied_in_order(stack, release_name):
    names = [f"{release_name}-b", f"{release_name}-a"]
    for name in names:
        stack.store.create_release(new_release(_plan(name)))
    listed = stack.store.list_releases()
    assert [n for n in listed if n.startswith(release_name)] == sorted(names)
    assert listed == sorted(listed)


_examples = itertools.count()
BIG = Workload(name="web", assets={f"vm-{i:05d}-{'x' * 40}": True for i in range(700)})  # assets over 2 properties


@settings(
    max_examples=max(2, settings.default.max_examples // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workloads(name=st.just("web")))
@example(BIG)
def test_any_workload_survives_a_commit_and_a_read_through_azurite(stack, release_name, w):
    """The codec's round trip through a real table: what the SDK sends and Azurite answers, for drawn workloads."""
    name = f"{release_name}-{next(_examples)}"
    store = stack.store
    store.create_release(new_release(_plan(name)))
    snapshot = store.get_release(name)
    store.commit(
        snapshot,
        Decision(release=snapshot.release.evolve(workloads={**snapshot.release.workloads, "web": w}), entries=[]),
        None,
    )
    back = store.get_release(name).release.workloads["web"]
    assert back == w
    for f in dataclasses.fields(Workload):  # the same types too: a bool stays a bool, a time a UTC datetime
        value = getattr(back, f.name)
        assert type(value) is (float if f.name == "lag_seconds" and value is not None else type(getattr(w, f.name)))
        assert not isinstance(value, datetime) or value.tzinfo is UTC, f.name


def test_a_lag_report_dated_year_1_leaves_the_release_readable(stack, release_name):
    """A replication-lag message may carry any RFC 3339 time; on_lag kept year 1 as the workload's lag_at. The
    SDK writes it as '1-01-01T...' (strftime drops the century's zeros), Azurite took it, and every read of the
    release failed after (ValueError parsing it): every later message of the release failed with it. (Azure
    refuses any time before 1601: there the report failed every delivery.)"""
    from tests.fakes import event

    stack.service.apply(_plan(release_name))
    long_ago = datetime(1, 1, 1, tzinfo=UTC)
    report = event("replication-lag", release_name, "web", "lag-1", time=long_ago, lag_seconds=1.0)
    result = stack.service.handle(report)
    assert result.outcome == "rejected", result.reason
    web = stack.store.get_release(release_name).release.workloads["web"]
    assert web.lag_at is None
