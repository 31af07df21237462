"""`after` at apply time (shared/application/timing.py): the exact refusals, the cycle check's path and its
bound of 200 releases, and the dependency notice a promoted release sends (with the retry loop's pauses)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from shared.application.config import CONFLICT_JITTER_SECONDS
from shared.application.effects import Ports
from shared.application.retry import retry_on_conflict
from shared.application.timing import check_after, register_dependant
from shared.domain.errors import ConflictError, PlanError
from shared.domain.model import ReleaseState, WorkloadState, new_release
from shared.domain.plan import validate_plan
from tests.fakes import T0, FakeClock, FakeScheduler, MemoryStore


def plan(name: str, after: list[str] = ()):  # type: ignore[assignment]
    return validate_plan(
        {
            "release": name,
            "model": "single-step",
            "approvers": ["ana@contoso.com"],
            "after": list(after),
            "workloads": [{"name": "web", "assets": ["vm-1"]}],
        }
    )


def store_of(*releases: tuple[str, list[str]], promoted: tuple[str, ...] = ()) -> MemoryStore:
    store = MemoryStore()
    for name, after in releases:
        release = new_release(plan(name, after))
        if name in promoted:
            release = replace(
                release, workloads={n: replace(w, state=WorkloadState.PROMOTED) for n, w in release.workloads.items()}
            )
            assert release.state == ReleaseState.PROMOTED
        store.create_release(release)
    return store


def problems(store: MemoryStore, name: str, after: list[str]) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as error:
        check_after(store, plan(name, after))
    return error.value.problems


def test_after_names_released_known_and_returns_those_promoted_now():
    store = store_of(("b", []), ("c", []), promoted=("c",))
    assert check_after(store, plan("a", ["b", "c"])) == ("c",)
    assert check_after(store, plan("a")) == ()


def test_an_unknown_release_and_a_cycle_are_each_refused_by_their_index():
    store = store_of(("b", ["a"]), ("c", []))
    assert problems(store, "a", ["c", "nope", "b"]) == [
        ("after[1]", "release 'nope' was never applied (apply it first)"),
        ("after[2]", "a cycle: a -> b -> a"),
    ]


def test_a_cycle_is_found_down_the_chain_past_releases_seen_and_releases_gone():
    # d is reached twice (from b and from e): the second time it is skipped, and the search goes on with the
    # next name; an `after` naming a release that is gone is skipped too
    store = store_of(("b", ["d", "e"]), ("d", []), ("e", ["d", "f"]), ("f", ["gone", "a"]))
    assert problems(store, "a", ["b"]) == [("after[0]", "a cycle: a -> b -> e -> f -> a")]


def chain(length: int) -> MemoryStore:
    """r0 after r1 after ... after r{length-1} after a."""
    return store_of(*[(f"r{i}", [f"r{i + 1}"] if i + 1 < length else ["a"]) for i in range(length)])


def test_the_cycle_check_follows_a_chain_of_200_releases_and_no_further():
    [(where, reason)] = problems(chain(200), "a", ["r0"])
    assert where == "after[0]" and reason == "a cycle: " + " -> ".join(["a", *[f"r{i}" for i in range(200)], "a"])
    assert check_after(chain(201), plan("a", ["r0"])) == ()  # past the bound: not looked at


def ports(store: MemoryStore) -> tuple[Ports, FakeScheduler]:
    scheduler = FakeScheduler()
    return Ports(routers=None, scheduler=scheduler, revoker=None, decommissioner=None, clock=FakeClock(T0)), scheduler  # type: ignore[arg-type]


def test_a_dependant_is_noted_once_on_each_release_it_waits_for_that_is_not_promoted():
    store = store_of(("b", []), ("c", []), ("d", []), promoted=("d",))
    own, scheduler = ports(store)
    release = replace(new_release(plan("a", ["b", "c", "d"])), after_met=("c",))  # c was promoted at apply
    register_dependant(store, own, release, T0)
    register_dependant(store, own, release, T0)  # again: nothing written twice
    assert [store.get_release(n).release.dependants for n in ("b", "c", "d")] == [("a",), (), ()]
    # d, promoted meanwhile, is told to a at once, by a notice naming d and its history sequence
    [(event, due)] = scheduler.scheduled[:1]
    assert due == T0
    assert {k: v for k, v in event.items() if k != "traceparent"} == {
        "specversion": "1.0",
        "id": "dependency-promoted:a:~:d:0",
        "source": "promote/apply",
        "type": "dependency-promoted",
        "time": "2026-11-26T22:00:00Z",
        "datacontenttype": "application/json",
        "data": {"release": "a", "dependency": "d"},
    }


def test_conflict_pauses_are_drawn_up_to_n_times_the_jitter():
    state = random.getstate()
    try:
        random.seed(21)
        pauses: list[float] = []

        def attempt(n: int) -> None:
            raise ConflictError("another writer")

        with pytest.raises(ConflictError) as error:
            retry_on_conflict(attempt, what="release r1", pause=pauses.append)
        assert str(error.value) == "release r1: gave up after 10 write conflicts"
        drawn = random.Random(21)
        assert pauses == [drawn.uniform(0, CONFLICT_JITTER_SECONDS * n) for n in range(1, 10)]
    finally:
        random.setstate(state)
