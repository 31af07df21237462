"""The release remembers exactly the last 512 message ids of a scope (docs/performance.md): a redelivery of
any of them is a duplicate known without another read. The 513th-oldest has fallen to the archive: still
a duplicate, at the cost of one marker read. A window one id shorter (or longer) shows here."""

from __future__ import annotations

import pytest

from shared.domain.plan import validate_plan
from tests.fakes import event, world

WINDOW = 512  # the documented size of the window, not the constant: a change of it must show


def _release_with(count: int):
    w = world()
    w.service.apply(
        validate_plan({"release": "r1", "model": "single-step", "workloads": [{"name": "w1", "assets": ["a", "b"]}]})
    )
    for i in range(1, count + 1):  # each recorded (rejected: no such asset) and remembered
        result = w.service.handle(event("asset-replicated", "r1", "w1", f"id-{i}", asset="nope"))
        assert result.outcome == "rejected"
    return w


def _again(w, i: int) -> tuple[str, bool]:
    """Redeliver message `i`: its outcome, and whether telling it apart cost a marker read. Asked once per
    release: a redelivery is remembered too, and moves the window on."""
    w.store.marker_reads.clear()
    result = w.service.handle(event("asset-replicated", "r1", "w1", f"id-{i}", asset="nope"))
    return result.outcome, f"id-{i}" in w.store.marker_reads


@pytest.mark.parametrize(
    "recorded, again, marker_read",
    [
        (WINDOW, 1, False),  # the oldest of 512 is still in the window
        (WINDOW + 1, 2, False),  # the 512th-oldest of 513: known from the row alone
        (WINDOW + 1, 1, True),  # the 513th-oldest: fallen to the archive, found through its marker
        (WINDOW + 1, WINDOW + 1, False),  # the newest
    ],
)
def test_the_window_holds_exactly_the_last_512_ids(recorded, again, marker_read):
    assert _again(_release_with(recorded), again) == ("duplicate", marker_read)


def test_a_new_id_past_the_window_is_known_new_without_a_marker_read():
    w = _release_with(WINDOW + 1)
    w.store.marker_reads.clear()
    result = w.service.handle(event("asset-replicated", "r1", "w1", "brand-new", asset="a"))
    assert result.outcome == "applied" and w.store.marker_reads == []
