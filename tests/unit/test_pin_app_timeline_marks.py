"""What a timeline mark says (board/timeline.py): a rollback an override made names who made it (someone,
when history names no one), one an alert made does not; a verdict without a flight shows `-`."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.application.board.timeline import _mark_kind, _mark_text
from shared.domain.model import HistoryEntry

AT = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


def e(type, reason, frm, to, actor=None, why=None, flight=None) -> HistoryEntry:
    return HistoryEntry(AT, "id", type, "applied", reason, "api", frm, to, 0, actor=actor, flight=flight,
                        actor_reason=why)  # fmt: skip


def mark(entry: HistoryEntry) -> str:
    kind = _mark_kind(entry)
    assert kind is not None
    return _mark_text(kind, entry)


def test_a_rollback_says_who_made_it_when_an_override_did():
    assert mark(e("override", "rolled back to 0%", "flighting", "rolled-back")) == (
        "override by someone: applied: rolled back to 0%"
    )
    assert mark(e("override", "rolled back to 0%", "flighting", "rolled-back", "ops", "bad build")) == (
        'override by ops ("bad build"): applied: rolled back to 0%'
    )
    assert mark(e("alert", "rolled back to 0% (on_alert: rollback)", "flighting", "rolled-back")) == (
        "alert, applied: rolled back to 0% (on_alert: rollback)"
    )


def test_a_verdict_names_its_flight_or_a_dash():
    assert mark(e("flight-healthy", "healthy", "flighting", "flighting", flight=2)) == (
        "flight-healthy (flight 2), applied: healthy"
    )
    assert (
        mark(e("flight-healthy", "healthy", "flighting", "flighting")) == "flight-healthy (flight -), applied: healthy"
    )
