"""What one commit writes, planned from a read and a decision (no I/O here):

- a decision on one shard of a large release: that shard's head, the rows it changed, its summary, its
  history entries (one transaction);
- a decision on the whole release that changes at most one shard: the same, with the release record;
- any other: the COMMIT POINT, the release record and the changed shards' heads in one transaction (from it
  on, every reader sees the decision, through the heads' `pending`), then each shard's catch-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.data.tables import UpdateMode

from shared.adapters.table_store.layout import Read
from shared.adapters.table_store.rows import (
    MAX_REASON,
    RELEASE_ROW,
    history_entity,
    marker_row,
    release_counters,
    workload_entity,
)
from shared.adapters.table_store.shards import (
    Head,
    caught_up_properties,
    head_properties,
    head_row,
    items_of,
    packed,
    pending_properties,
    scope_of,
    summary_properties,
    summary_row,
    unpacked,
)
from shared.domain.machine import Decision
from shared.domain.machine.scope import shard_facts
from shared.domain.model import HistoryEntry, Workload

MAX_OPERATIONS = 100  # entities in one Table Storage transaction (the marker and the outbox row included)
_SCOPE_FIELDS = ("seen", "processed", "archive", "archived")


def _guarded(entity: dict[str, Any], etag: str, mode: UpdateMode) -> tuple:
    return ("update", entity, {"mode": mode, "etag": etag, "match_condition": MatchConditions.IfNotModified})


def _summary(read: Read, entity: dict[str, Any]) -> tuple:
    """A shard's summary: derived from its workloads and written in the same transaction as their head. A read
    of the whole release has its ETag and guards it; a read of one shard does not (the range holds the head and
    the rows only), and there the head's ETag guards the transaction, summary included."""
    etag = read.etags.get(entity["RowKey"])
    return _guarded(entity, etag, UpdateMode.MERGE) if etag else ("upsert", entity, {"mode": UpdateMode.MERGE})


@dataclass
class CommitPlan:
    ops: list[tuple]
    catch_up: bool = False
    head_at: dict[int, int] = field(default_factory=dict)  # shard -> position of its head in `ops`

    def head_etags(self, results: list) -> dict[int, str]:
        return {shard: results[i]["etag"] for shard, i in self.head_at.items()}

    def operations(self, key: str | None, decision: Decision, now: datetime) -> tuple[list[tuple], int | None]:
        """The transaction, with the de-duplication marker (holding the message's outcome) last but the outbox."""
        ops = list(self.ops)
        if key is None:
            return ops, None
        entries = [*decision.entries, *decision.quiet]
        first = entries[0] if entries else None
        marker: dict[str, Any] = {"PartitionKey": decision.release.name, "RowKey": marker_row(key)}
        marker["event_id"] = (first.event_id if first else key)[:256]
        if first is not None:
            marker.update(
                at=first.at,
                type=first.type,
                outcome=decision.outcome.value,
                reason=decision.reason[:MAX_REASON],
                workload=first.workload or "",
            )
        ops.append(("create", marker))
        return ops, len(ops) - 1


def plan(read: Read, decision: Decision, now: datetime) -> CommitPlan:
    after = decision.release.workloads
    before = read.derived()
    changed = [n for n, w in after.items() if w is not before.get(n) and w != before.get(n)]  # `is`: cheap, most
    own = [e for e in decision.entries if e.workload in read.layout.index]
    rest = [e for e in decision.entries if e.workload not in read.layout.index]
    if read.shard is not None:
        assert not rest, "a decision on one shard has entries of its workloads only"
        ops, at = _shard_ops(read, decision, read.shard, changed, own, now, with_scope=True)
        return CommitPlan(ops, head_at=at)
    touched = {read.layout.index[n] for n in changed} | {read.layout.index[str(e.workload)] for e in own}
    scope = read.scope_shard()
    heads = touched | ({scope} if scope is not None else set())
    after_met_changed = decision.release.after_met != read.heads.get(0, _NO_HEAD).after_met
    single = len(heads) <= 1 and (read.layout.shards == 1 or not after_met_changed)
    if single:
        ops, head_at = [], {}
        ops.append(_record(read, decision, extra_seq=len(rest), scope_in_record=scope is None))
        if after_met_changed:  # a release of one shard: its head keeps the copy
            heads.add(0)
        copy = decision.release.after_met if after_met_changed else None
        for shard in sorted(heads):
            shard_ops, at = _shard_ops(
                read, decision, shard, changed, own, now, with_scope=shard == scope, after_met=copy
            )
            head_at.update({k: v + len(ops) for k, v in at.items()})
            ops += shard_ops
        ops += _release_entries(read, rest, read.record_seq)
        if len(ops) + 2 <= MAX_OPERATIONS:  # + the marker and the outbox row
            return CommitPlan(ops, head_at=head_at)
    return _commit_point(read, decision, touched, scope, own, rest, after_met_changed, now)


class _NoHead:
    after_met: tuple[str, ...] = ()


_NO_HEAD: Any = _NoHead()


def _head_entity(read: Read, shard: int, **props: Any) -> dict[str, Any]:
    return {"PartitionKey": read.name, "RowKey": head_row(shard), **head_properties(**props)}


def _record(read: Read, decision: Decision, *, extra_seq: int, scope_in_record: bool, **more: Any) -> tuple:
    props = release_counters(decision.release)
    if not scope_in_record:  # the message's ids are its shard's: the release record's own window stays
        props = {k: v for k, v in props.items() if k.split("_", 1)[0] not in _SCOPE_FIELDS}
    props.update(seq=read.record_seq + extra_seq, state=decision.release.state.value, **more)
    return _guarded({"PartitionKey": read.name, "RowKey": RELEASE_ROW, **props}, read[RELEASE_ROW], UpdateMode.MERGE)


def _shard_ops(
    read: Read,
    decision: Decision,
    shard: int,
    changed: list[str],
    own: list[HistoryEntry],
    now: datetime,
    *,
    with_scope: bool,
    after_met: tuple[str, ...] | None = None,
) -> tuple[list[tuple], dict[int, int]]:
    """One shard's part: its head (the ids, its facts, what is left pending), the rows it writes, its summary,
    its workloads' history entries."""
    head = read.heads[shard]
    names = read.layout.names(shard)
    after = decision.release.workloads
    counts: dict[str, int] = {}
    for e in own:
        counts[str(e.workload)] = counts.get(str(e.workload), 0) + 1
    writes = [n for n in names if n in after and (n in changed or n in counts)]
    workloads = [after[n] for n in names]
    part = decision.release.evolve(workloads={w.name: w for w in workloads}, others=1)
    facts = shard_facts(part, now)
    props = head_properties(scope=scope_of(decision.release) if with_scope else None, facts=facts, after_met=after_met)
    if head.lagging():
        left = {n: w for n, w in head.pending.items() if n not in writes}
        props.update(pending_properties(head.pending_epoch, left) if left else caught_up_properties(head.pending_epoch))
    ops = [_guarded(_head_entity(read, shard) | props, read[head_row(shard)], UpdateMode.MERGE)]
    for n in writes:
        entity = workload_entity(read.name, after[n], shard, read.hseq.get(n, 0) + counts.get(n, 0))
        ops.append(_guarded(entity, read[entity["RowKey"]], UpdateMode.REPLACE))
    epoch = head.pending_epoch if head.lagging() and not (set(head.pending) - set(writes)) else head.epoch
    summary = {
        "PartitionKey": read.name,
        "RowKey": summary_row(shard),
        **summary_properties(epoch, facts, items_of(workloads)),
    }
    ops.append(_summary(read, summary))
    seqs = dict(read.hseq)
    for e in own:
        name = str(e.workload)
        if read.layout.index.get(name) == shard:
            ops.append(("create", history_entity(read.name, seqs.get(name, 0), e)))
            seqs[name] = seqs.get(name, 0) + 1
    return ops, {shard: 0}


def _release_entries(read: Read, entries: list[HistoryEntry], first: int) -> list[tuple]:
    return [("create", history_entity(read.name, first + i, e)) for i, e in enumerate(entries)]


def _commit_point(
    read: Read,
    decision: Decision,
    touched: set[int],
    scope: int | None,
    own: list[HistoryEntry],
    rest: list[HistoryEntry],
    after_met_changed: bool,
    now: datetime,
) -> CommitPlan:
    epoch = read.epoch + 1
    after = decision.release.workloads
    pending_summaries = dict(unpacked(read.record or {}, "pending_summaries") or {})
    heads: dict[int, dict[str, Any]] = {}
    for shard in sorted(touched):
        names = read.layout.names(shard)
        pending = {n: after[n] for n in names if after[n] != read.rows[n]}
        workloads = [after[n] for n in names]
        part = decision.release.evolve(workloads={w.name: w for w in workloads}, others=1)
        facts = shard_facts(part, now)
        heads[shard] = {**pending_properties(epoch, pending), **head_properties(facts=facts)}
        pending_summaries[str(shard)] = {"epoch": epoch, **summary_properties(epoch, facts, items_of(workloads))}
        read.heads[shard] = Head(
            shard, read.heads[shard].scope, read.heads[shard].epoch, epoch, pending, facts, read.heads[shard].after_met
        )
    if scope is not None:
        heads.setdefault(scope, {}).update(head_properties(scope=scope_of(decision.release)))
    if after_met_changed:
        for shard in range(read.layout.shards):
            heads.setdefault(shard, {}).update(head_properties(after_met=decision.release.after_met))
    ops = [
        _record(
            read,
            decision,
            extra_seq=1 + len(rest),
            scope_in_record=scope is None,
            epoch=epoch,
            **packed("pending_summaries", pending_summaries),
        )
    ]
    head_at = {}
    for shard, props in sorted(heads.items()):
        head_at[shard] = len(ops)
        ops.append(_guarded(_head_entity(read, shard) | props, read[head_row(shard)], UpdateMode.MERGE))
    ops.append(("create", _move_entry(read, decision, own)))
    ops += _release_entries(read, rest, read.record_seq + 1)
    return CommitPlan(ops, catch_up=bool(touched), head_at=head_at)


def _move_entry(read: Read, decision: Decision, own: list[HistoryEntry]) -> dict[str, Any]:
    """The release-wide decision's history entry: what it was, and each workload's entry of it (deflated)."""
    first = own[0] if own else decision.entries[0]
    moved = sum(1 for e in own if e.from_state != e.to_state or e.traffic_percent is not None)
    summary = HistoryEntry(
        at=first.at,
        event_id=first.event_id,
        type=first.type,
        outcome=decision.outcome,
        reason=f"{len(own)} workload(s): {decision.reason}"[:MAX_REASON],
        workload=None,
        from_state=None,
        to_state=None,
        traffic_percent=None,
        actor=first.actor,
        source=first.source,
        actor_reason=first.actor_reason,
    )
    entity = history_entity(read.name, read.record_seq, summary)
    entity.update(packed("moves", [e.to_json() for e in own]), moved=moved)
    return entity


def catch_up_operations(read: Read, shard: int, head_etag: str | None) -> list[tuple]:
    """One shard brought up to the release-wide decision its head holds: its head, its rows, its summary."""
    head = read.heads[shard]
    if not head.lagging():
        return []
    names = read.layout.names(shard)
    workloads: list[Workload] = [head.pending.get(n, read.rows[n]) for n in names]
    facts = head.facts
    assert facts is not None, "a commit point writes the facts of every shard it leaves pending"
    ops = [
        _guarded(
            _head_entity(read, shard) | caught_up_properties(head.pending_epoch),
            head_etag or read[head_row(shard)],
            UpdateMode.MERGE,
        )
    ]
    for n, w in head.pending.items():
        entity = workload_entity(read.name, w, shard, read.hseq.get(n, 0))
        ops.append(_guarded(entity, read[entity["RowKey"]], UpdateMode.REPLACE))
    summary = summary_properties(head.pending_epoch, facts, items_of(workloads))
    ops.append(_summary(read, {"PartitionKey": read.name, "RowKey": summary_row(shard), **summary}))
    return ops
