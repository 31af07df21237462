"""Step: one message being decided. It accumulates the new workloads, the history entries and the effects,
and offers the moves every rule uses (route a share, start a flight, promote, send users back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shared.domain import messages as m
from shared.domain.actors import clip_actor_reason
from shared.domain.finishing import data_sync_hold
from shared.domain.gates import MOVE_GATES, Gate, describe, waiting_for
from shared.domain.machine.effects import Decision, Effect, Schedule, SetTraffic, digest
from shared.domain.model import (
    SEEN_WINDOW,
    HistoryEntry,
    Outcome,
    Release,
    Workload,
    WorkloadState,
    archive_add,
)
from shared.domain.shares import realisable_share
from shared.domain.times import ms


def unpaused(w: Workload) -> Workload:
    """`w` with its pause, and what was recorded only because of it, cleared."""
    return w.evolve(paused=False, paused_by=None, paused_at=None, paused_reason=None, alert_while_paused=None)


class Step:
    """One message being decided: accumulates the new workloads, history entries and effects."""

    def __init__(self, release: Release, message: Any, now: datetime):
        self.release, self.message, self.now = release, message, now
        self.before = release  # as read: what the time rules compare against
        self.workloads = dict(release.workloads)
        self.entries: list[HistoryEntry] = []
        self.effects: list[Effect] = []
        self.access_revoked = release.access_revoked
        data = message.data
        # who acted and why: an override's actor (the authenticated principal's name on Azure) and reason
        self.actor: str | None = getattr(data, "actor", None)
        self.actor_reason: str | None = clip_actor_reason(getattr(data, "reason", None))
        self.sync_holds: dict[str | None, str] = {}  # workload (None: the release) -> the gate that held a move
        self.quiet: list[HistoryEntry] = []  # outcomes recorded on the marker row only (quiet lag reports)
        self.forget_id = False  # a message that may come again with the same id and must then count
        # (the list indexed, how many of its entries, the last of them, workload -> position)
        self._entry_index: tuple[list[HistoryEntry] | None, int, HistoryEntry | None, dict[str | None, int]] = (
            None, 0, None, {},
        )  # fmt: skip

    def routing(self, name: str) -> Any:
        return self.release.plan.routing_of(name)

    def record(self, name: str | None, outcome: Outcome, reason: str, before: Workload | None = None) -> None:
        after = self.workloads.get(name) if name else None
        flight = getattr(self.message.data, "flight", None) or (after.flight if after else None)
        origin = before or after
        self.entries.append(
            HistoryEntry(
                at=self.now,
                event_id=self.message.id,
                type=self.message.type,
                outcome=outcome,
                reason=reason,
                workload=name,
                from_state=origin.state if origin else None,
                to_state=after.state if after else None,
                traffic_percent=after.traffic_percent if after else None,
                actor=self.actor,
                flight=flight or None,
                source=self.message.source,
                actor_reason=self.actor_reason,
            )
        )

    def note_on_entry(self, name: str, note: str, before: Workload) -> None:
        """Fold `note` (a move of the whole release) into the workload's entry for this message, or add one."""
        after = self.workloads[name]
        i = self._entry_of(name)
        if i is not None:
            entry = self.entries[i]
            self.entries[i] = replace(
                entry,
                outcome=Outcome.APPLIED,
                reason=f"{entry.reason}; {note}",
                to_state=after.state,
                traffic_percent=after.traffic_percent,
            )
            indexed, upto, _, at = self._entry_index
            if i == upto - 1:  # the index's last entry, rewritten here: the index still holds
                self._entry_index = (indexed, upto, self.entries[i], at)
            return
        self.record(name, Outcome.APPLIED, note, before)

    def _entry_of(self, name: str) -> int | None:
        """The position of the workload's first entry: a release-wide move notes 5,000 workloads, and a scan of
        the entries for each was 9 s of its decision. The index follows the list as rules append to it, and is
        built again when a rule put another list in its place, or emptied the list and filled it again (its last
        indexed entry is another then; rules rewrite an entry, never its workload)."""
        entries, (indexed, upto, last, at) = self.entries, self._entry_index
        if indexed is not entries or upto > len(entries) or (upto and entries[upto - 1] is not last):
            upto, at = 0, {}
        for i in range(upto, len(entries)):
            at.setdefault(entries[i].workload, i)
        self._entry_index = (entries, len(entries), entries[-1] if entries else None, at)
        return at.get(name)

    def schedule(self, type_: str, data: dict[str, Any], due: datetime, key: str, release: str | None = None) -> None:
        self.effects.append(Schedule(type_, data, due, key, release))

    def scheduled(self, type_: str) -> bool:
        return any(isinstance(e, Schedule) and e.type == type_ for e in self.effects)

    # routing moves --------------------------------------------------------------------------
    def set_traffic(self, w: Workload, percent: int, *, always: bool = False) -> Workload:
        """Route `percent` (as the provider can realise it); `always` asserts it even if the state has it."""
        share = realisable_share(self.routing(w.name), percent)
        assert share is not None, "plans whose shares cannot be realised are refused at apply"
        if share != w.traffic_percent or always:
            self.effects.append(SetTraffic(w.name, share, self.routing(w.name)))
        return w.evolve(traffic_percent=share, stuck=None)  # a routing change decided anew: what stuck is moot

    def start_flight(self, w: Workload, flight: int) -> Workload:
        spec = self.release.plan.flights[flight - 1]  # type: ignore[index]
        w = w.evolve(
            state=WorkloadState.FLIGHTING, flight=flight, flight_started_at=self.now, healthy_flight=0, unhealthy=False
        )
        w = self.set_traffic(w, spec.percent)
        if spec.bake > 0:
            self.schedule_bake(w, self.now + timedelta(seconds=spec.bake))
        return w

    def schedule_bake(self, w: Workload, due: datetime) -> None:
        started = ms(w.flight_began)
        data = {"workload": w.name, "flight": w.flight, "attempt": w.attempt, "started_ms": started}
        self.schedule(m.TIMER_TYPE, data, due, f"{w.attempt}:{w.flight}:{started}:{ms(self.now)}")

    def promote(self, w: Workload) -> Workload:
        return self.set_traffic(w.evolve(state=WorkloadState.PROMOTED), 100)

    def grow(self, w: Workload) -> Workload:
        if w.flight >= len(self.release.plan.flights or []):
            return w.evolve(state=WorkloadState.PROMOTED)
        return self.start_flight(w, w.flight + 1)

    def to_source(self, w: Workload, state: WorkloadState) -> Workload:
        # Always asserted, even when the state says 0%: a crash after a routing change and before its
        # commit may have left users on the migrated system that the state never recorded.
        w = unpaused(w).evolve(state=state, flight_started_at=None, healthy_flight=0, unhealthy=False)
        return self.set_traffic(w, 0, always=True)

    # what holds a workload -------------------------------------------------------------------
    def view(self, w: Workload | None = None) -> Release:
        """The release as this step has it so far (with `w` in it): what the gates are asked about. Built
        field by field rather than with dataclasses.replace: it is asked for on every step of every workload."""
        view = object.__new__(Release)
        view.__dict__.update(self.release.__dict__)
        view.__dict__["workloads"] = {**self.workloads, w.name: w} if w is not None else dict(self.workloads)
        return view

    def waiting_for(self, w: Workload) -> list[Gate]:
        """The gates that hold `w`'s next step, whatever that step is (the finish gates are the rows' own)."""
        return waiting_for(self.view(w), w, self.now, holding=True)

    def held(self, w: Workload) -> str:
        """What an applied message could not do because of the move gates (window, after): said in its entry."""
        plan = self.release.plan
        if plan.windows is None and not plan.after:  # no move gate can hold it: spare the gates
            return ""
        gates = self.waiting_for(w)
        if not gates or any(g.gate not in MOVE_GATES for g in gates):
            return ""
        return "; held: " + "; ".join(describe(g) for g in gates)

    def sync_hold(self, w: Workload) -> str | None:
        hold = data_sync_hold(self.release, w, self.now)
        return hold.reason if hold else None

    def sync_held(self, w: Workload) -> bool:
        """The data-sync gate (§8) holds this move onto the migrated system; the reason goes into history."""
        reason = self.sync_hold(w)
        if reason:
            self.sync_holds[w.name] = reason
        return reason is not None

    def held_note(self, name: str | None) -> str:
        notes = [self.sync_holds[k] for k in (name, None) if k in self.sync_holds]
        return "".join(f"; held by {note}" for note in notes)

    # the decision ----------------------------------------------------------------------------
    def finish(self, *, remember: bool = True) -> Decision:
        """The decision; `remember` records the message id for duplicate checks (not for invalid messages,
        whose id was never validated and gets no marker)."""
        release = self.release
        seq = release.seq + len(self.entries)
        if not remember:
            new = release.evolve(workloads=self.workloads, seq=seq)
            return Decision(release=new, entries=self.entries, effects=self.effects, remember=False)
        key = digest(m.dedup_key(self.message))
        seen, archive, archived = release.seen + (key,), release.archive, release.archived
        if len(seen) > SEEN_WINDOW:  # ids pushed out of the window go to the archive
            pushed, seen = seen[:-SEEN_WINDOW], seen[-SEEN_WINDOW:]
            archive, archived = archive_add(archive, pushed), archived + len(pushed)
        new = release.evolve(
            workloads=self.workloads,
            access_revoked=self.access_revoked,
            seq=seq,
            seen=seen,
            processed=release.processed + 1,
            archive=archive,
            archived=archived,
            revoke_error=None if self.access_revoked else release.revoke_error,
        )
        return Decision(release=new, entries=self.entries, effects=self.effects, quiet=self.quiet)


# What a rule answers for one workload: the outcome, the reason, and the workload as the rule leaves it.
Ruling = tuple[Outcome, str, Workload]
Rule = Callable[[Step, Workload], Ruling]
