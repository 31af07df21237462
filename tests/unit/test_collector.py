"""A large release's move holds CPython's collector back, and only while it lasts (shared/application/collector.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from shared.application import collector


@pytest.fixture
def pace():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_the_pace_is_held_while_a_holder_holds_it_and_restored_after_the_last(pace):
    with collector.held_collector():
        assert gc.get_threshold() == (50_000, 100, 100)
        with collector.held_collector():  # another message, on another thread, at once
            assert gc.get_threshold() == (50_000, 100, 100)
        assert gc.get_threshold() == (50_000, 100, 100), "the first holder still holds it"
    assert gc.get_threshold() == (700, 10, 10)


def test_a_holder_that_fails_restores_the_pace_and_threads_share_one_hold(pace):
    with pytest.raises(RuntimeError):
        with collector.held_collector():
            raise RuntimeError("the move failed")
    assert gc.get_threshold() == (700, 10, 10)
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector.held_collector():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with collector.held_collector():
        pass
    assert gc.get_threshold() == (50_000, 100, 100), "the other thread's move holds it still"
    release.set()
    thread.join(5)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_slower_pace_is_kept_and_a_collector_turned_off_stays_off(pace):
    gc.set_threshold(200_000, 500, 5)
    with collector.held_collector():
        assert gc.get_threshold() == (200_000, 500, 100)
    assert gc.get_threshold() == (200_000, 500, 5)
    gc.set_threshold(0, 10, 10)
    with collector.held_collector():
        assert gc.get_threshold() == (0, 10, 10)


class Sized:
    def __init__(self, size: int):
        self.size = size

    def known_size(self, release: str) -> int:
        return self.size


def test_an_attempt_on_a_release_known_large_holds_the_collector_until_the_attempt_ends(pace):
    seen = []

    def attempt(held) -> str:
        collector.hold_if_large(held, Sized(collector.LARGE - 1), "small")
        seen.append(gc.get_threshold())
        collector.hold_if_large(held, object(), "a store that does not know sizes")
        seen.append(gc.get_threshold())
        collector.hold_if_large(held, Sized(collector.LARGE), "wave")
        seen.append(gc.get_threshold())
        return "done"

    assert collector.holding(attempt)(1) == "done"
    assert seen == [(700, 10, 10), (700, 10, 10), (50_000, 100, 100)]
    assert gc.get_threshold() == (700, 10, 10), "released with the attempt"

    def failing(held) -> None:
        collector.hold_if_large(held, Sized(5000), "wave")
        raise RuntimeError("conflict")

    with pytest.raises(RuntimeError):
        collector.holding(failing)(2)
    assert gc.get_threshold() == (700, 10, 10)
