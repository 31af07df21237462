"""A host paces CPython's cyclic collector for large releases (shared/application/collector.py)."""

from __future__ import annotations

import gc

import pytest

from shared.application import collector
from shared.application.bootstrap import Stack


@pytest.fixture
def threshold():
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_a_stack_collects_young_objects_every_50000_allocations_not_700(threshold, settings):
    gc.set_threshold(700, 10, 10)
    Stack(settings)
    assert gc.get_threshold() == (collector.YOUNG, collector.OLDER, collector.OLDER) == (50_000, 100, 100)


def test_a_slower_pace_set_by_the_host_and_a_collector_turned_off_are_kept(threshold):
    gc.set_threshold(200_000, 500, 5)
    collector.pace()
    assert gc.get_threshold() == (200_000, 500, 100)
    gc.set_threshold(0, 10, 10)
    collector.pace()
    assert gc.get_threshold() == (0, 10, 10)
    gc.set_threshold(collector.YOUNG - 1, 10, 10)
    collector.pace()
    assert gc.get_threshold() == (collector.YOUNG, collector.OLDER, collector.OLDER)
