"""The release row remembers exactly the last 512 message ids (docs/performance.md): a redelivery of any of them
is a duplicate known without another read. The 513th-oldest has fallen to the archive: still a duplicate,
at the cost of one marker read. A window one id shorter (or longer) shows here."""

from __future__ import annotations

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
    w.store.marker_reads.clear()
    return w


def _again(w, i: int) -> tuple[str, bool]:
    """Redeliver message `i`: its outcome, and whether telling it apart cost a marker read."""
    w.store.marker_reads.clear()
    result = w.service.handle(event("asset-replicated", "r1", "w1", f"id-{i}", asset="nope"))
    return result.outcome, f"id-{i}" in w.store.marker_reads


def test_the_window_holds_exactly_512_ids():
    w = _release_with(WINDOW)
    release = w.store.get_release("r1").release
    assert (len(release.seen), release.archived, release.processed) == (WINDOW, 0, WINDOW)
    assert _again(w, 1) == ("duplicate", False)  # the oldest of 512 is still in the window


def test_the_513th_oldest_id_falls_to_the_archive_and_the_512th_is_still_in_the_window():
    w = _release_with(WINDOW + 1)
    release = w.store.get_release("r1").release
    assert (len(release.seen), release.archived, release.processed) == (WINDOW, 1, WINDOW + 1)
    assert _again(w, 2) == ("duplicate", False)  # the 512th-oldest: known from the row alone
    assert _again(w, 1) == ("duplicate", True)  # the 513th-oldest: found through its marker
    assert _again(w, WINDOW + 1) == ("duplicate", False)  # the newest


def test_a_new_id_past_the_window_is_known_new_without_a_marker_read():
    w = _release_with(WINDOW + 1)
    w.store.marker_reads.clear()
    result = w.service.handle(event("asset-replicated", "r1", "w1", "brand-new", asset="a"))
    assert result.outcome == "applied" and w.store.marker_reads == []
