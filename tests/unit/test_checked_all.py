"""A release-level move checks every workload before anything moves (batch_routing.checked_all): the checks that
read Azure run several at once, those that read nothing run in place, and the answers keep the moves' order."""

from __future__ import annotations

import threading

from shared.application.batch_routing import checked_all


def test_checks_that_read_run_in_the_pool_the_others_in_place_and_answers_keep_their_order():
    ran: dict[int, str] = {}

    def check(move: int) -> list[str]:
        ran[move] = threading.current_thread().name
        return [f"refused {move}"] if move % 3 == 0 else []

    moves = list(range(10))
    found = checked_all(moves, check, lambda move: move % 2 == 1)
    assert found == [[f"refused {m}"] if m % 3 == 0 else [] for m in moves]
    here = threading.current_thread().name
    assert {m for m, name in ran.items() if name == here} == {0, 2, 4, 6, 8}
    assert all(ran[m].startswith("routing-check") for m in (1, 3, 5, 7, 9))


def test_by_default_every_check_reads_and_one_lone_reading_check_runs_in_place():
    names: list[str] = []

    def check(move: int) -> list[str]:
        names.append(threading.current_thread().name)
        return [str(move)]

    assert checked_all([1, 2, 3], check) == [["1"], ["2"], ["3"]]
    assert all(n.startswith("routing-check") for n in names)
    names.clear()
    assert checked_all([1, 2], check, lambda move: move == 2) == [["1"], ["2"]]
    assert names == [threading.current_thread().name] * 2
    assert checked_all([], check) == []
