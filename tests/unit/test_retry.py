"""The one read-decide-commit retry loop: bounded, jittered, and only for write conflicts."""

from __future__ import annotations

import pytest

from shared.application.config import CONFLICT_JITTER_SECONDS, MAX_CONFLICTS
from shared.application.retry import retry_on_conflict
from shared.domain.errors import ConflictError, ReleaseExists
from shared.domain.plan import validate_plan
from tests.fakes import MemoryStore, event, world


def test_attempts_until_one_commits_pausing_a_little_longer_each_time():
    attempts, pauses = [], []

    def attempt(n: int) -> str:
        attempts.append(n)
        if n < 3:
            raise ConflictError("another writer")
        return "committed"

    assert retry_on_conflict(attempt, what="release r1", pause=pauses.append) == "committed"
    assert attempts == [0, 1, 2, 3]
    assert len(pauses) == 3
    assert all(0 <= p <= CONFLICT_JITTER_SECONDS * (n + 1) for n, p in enumerate(pauses))


def test_gives_up_after_the_limit_without_a_last_useless_pause():
    attempts, pauses = [], []

    def attempt(n: int) -> None:
        attempts.append(n)
        raise ConflictError("another writer")

    with pytest.raises(ConflictError, match="release r1: gave up after 4 write conflicts"):
        retry_on_conflict(attempt, what="release r1", limit=4, pause=pauses.append)
    assert attempts == [0, 1, 2, 3] and len(pauses) == 3
    assert MAX_CONFLICTS == 10


def test_other_failures_are_not_retried():
    attempts = []

    def attempt(n: int) -> None:
        attempts.append(n)
        raise TimeoutError("storage unreachable")

    with pytest.raises(TimeoutError):
        retry_on_conflict(attempt, what="release r1", pause=lambda s: None)
    assert attempts == [0]


class RacingCreate(MemoryStore):
    """Another apply creates the release between our read and our create."""

    def create_release(self, release):
        super().create_release(release)
        raise ReleaseExists(release.name)


def test_an_apply_that_loses_the_race_to_create_reads_the_release_and_finds_it_unchanged():
    w = world()
    w.service.store = store = RacingCreate()
    plan = validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]})
    assert w.service.apply(plan).action == "unchanged"
    assert store.list_releases() == ["r1"]


def test_a_message_that_always_conflicts_gives_up_for_the_platform_to_redeliver_it():
    w = world()
    w.service.apply(
        validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a"]}]})
    )
    w.service.handle(event("asset-replicated", "r1", "w1", "rep", asset="a"))
    w.store.fail_next_commits = MAX_CONFLICTS
    with pytest.raises(ConflictError, match=f"gave up after {MAX_CONFLICTS} write conflicts"):
        w.service.handle(event("tests-passed", "r1", "w1", "t1"))
    assert w.store.get_release("r1").release.workloads["w1"].state == "testing"
    assert w.store.fail_next_commits == 0
    w.store.fail_next_commits = MAX_CONFLICTS - 1  # one attempt short of giving up: it commits
    assert w.service.handle(event("tests-passed", "r1", "w1", "t1")).outcome == "applied"
