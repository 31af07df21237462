"""Step.note_on_entry: a note of a release-wide move folds into the workload's first entry of the message, found
through an index that follows the entry list as rules append to it or put another list in its place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from shared.domain.machine.step import Step
from shared.domain.messages import parse_message
from shared.domain.model import Outcome, new_release
from shared.domain.plan import validate_plan
from tests.fakes import event

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def step() -> Step:
    plan = validate_plan(
        {
            "release": "wave",
            "model": "staged",
            "approval": "auto",
            "approvers": ["ana@contoso.com"],
            "operators": ["ops@contoso.com"],
            "workloads": [{"name": n, "assets": ["a"]} for n in ("w1", "w2", "w3")],
        }
    )
    release = new_release(plan, NOW)
    message = parse_message(event("tests-passed", "wave", "w1", "t-1").encode())
    return Step(release, message, NOW)


def reasons(s: Step) -> list[tuple[str | None, str, Outcome]]:
    return [(e.workload, e.reason, e.outcome) for e in s.entries]


def test_a_note_folds_into_the_first_entry_of_its_workload_or_adds_one():
    s = step()
    before = s.workloads["w2"]
    s.record("w1", Outcome.IGNORED, "w1 first")
    s.record("w2", Outcome.IGNORED, "w2 first")
    s.record("w2", Outcome.IGNORED, "w2 second")
    s.note_on_entry("w2", "moved", before)
    s.note_on_entry("w3", "moved", before)  # no entry yet: one is added
    s.note_on_entry("w3", "again", before)  # the one just added, found through the index's new tail
    assert reasons(s) == [
        ("w1", "w1 first", Outcome.IGNORED),
        ("w2", "w2 first; moved", Outcome.APPLIED),
        ("w2", "w2 second", Outcome.IGNORED),
        ("w3", "moved; again", Outcome.APPLIED),
    ]


def test_the_index_follows_a_list_put_in_the_place_of_the_entries():
    s = step()
    before = s.workloads["w1"]
    s.record("w1", Outcome.APPLIED, "a")
    s.record("w2", Outcome.APPLIED, "b")
    s.note_on_entry("w2", "one", before)  # indexes the list
    s.entries = [replace(e, reason=e.reason + "!") for e in reversed(s.entries)]  # another list, another order
    s.note_on_entry("w1", "two", before)
    assert reasons(s) == [("w2", "b; one!", Outcome.APPLIED), ("w1", "a!; two", Outcome.APPLIED)]
    s.entries = []  # a rule that keeps its outcome off the history (finish.py's quiet lag report)
    s.note_on_entry("w2", "three", before)
    assert reasons(s) == [("w2", "three", Outcome.APPLIED)]


def test_a_shorter_list_in_place_is_indexed_again():
    s = step()
    before = s.workloads["w1"]
    for name in ("w1", "w2", "w3"):
        s.record(name, Outcome.APPLIED, name)
    s.note_on_entry("w3", "x", before)
    s.entries.clear()  # the same list object, now shorter than what the index covered
    s.record("w3", Outcome.APPLIED, "new")
    s.note_on_entry("w3", "y", before)
    assert reasons(s) == [("w3", "new; y", Outcome.APPLIED)]


def test_a_list_cleared_in_place_and_filled_again_to_its_old_length_is_indexed_again():
    """The index keeps positions of the list it covered; a list emptied in place and filled again to as many
    entries holds other workloads at those positions (review-cc: the length check alone does not see it)."""
    s = step()
    before = s.workloads["w1"]
    for name in ("w1", "w2", "w3"):
        s.record(name, Outcome.APPLIED, name)
    s.note_on_entry("w3", "x", before)  # indexes w1 -> 0, w2 -> 1, w3 -> 2
    s.entries.clear()
    for name in ("w3", "w2", "w1"):
        s.record(name, Outcome.APPLIED, f"new {name}")
    s.note_on_entry("w3", "y", before)
    assert reasons(s) == [
        ("w3", "new w3; y", Outcome.APPLIED),
        ("w2", "new w2", Outcome.APPLIED),
        ("w1", "new w1", Outcome.APPLIED),
    ]
