"""shared/adapters/metrics/platform.py fold(): a point that carries no `count` at all counts as one sample."""

from __future__ import annotations

from types import SimpleNamespace

from shared.adapters.metrics.platform import fold
from shared.domain.health import Reading


def test_points_without_a_count_attribute_are_one_sample_each():
    points = [SimpleNamespace(average=2.0), SimpleNamespace(average=5.0), SimpleNamespace(average=None)]
    assert fold(points, "Average") == Reading(value=3.5, samples=2)
