"""A release as read from its rows: its layout (which shard holds which workload) and a read of some or all of
its shards, with the ETags a commit is guarded by. A shard whose head holds a committed release-wide decision
its rows do not show yet is read as that decision left it: no reader sees a release half moved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.data.tables import TableClient

from shared.adapters.properties import quote
from shared.adapters.table_store import query
from shared.adapters.table_store.rows import RELEASE, RELEASE_ROW, plan_of, workload_of
from shared.adapters.table_store.shards import Head, Scope, Summary, head_row, summary_row, unpacked
from shared.domain.model import Release, Workload
from shared.domain.plan import Plan


@dataclass(frozen=True)
class Layout:
    """Which shard holds which workload: from the release record, fixed for the release's life (a plan's
    workloads never change while it exists)."""

    plan: Plan
    plan_hash: str
    shard_size: int
    shards: int
    index: dict[str, int]

    @staticmethod
    def of(record: Mapping[str, Any]) -> Layout:
        plan = plan_of(record)
        size = record.get("shard_size") or max(1, len(plan.workloads))
        index = {w.name: i // size for i, w in enumerate(plan.workloads)}
        return Layout(plan, record.get("plan_hash") or plan.fingerprint(), size, record.get("shards") or 1, index)

    def names(self, shard: int) -> list[str]:
        """The shard's workloads: the plan's, `shard_size` at a time, in order (as `index` numbers them)."""
        return [w.name for w in self.plan.workloads[shard * self.shard_size : (shard + 1) * self.shard_size]]


@dataclass
class Read:
    name: str
    layout: Layout
    record: dict[str, Any] | None  # the release record (a whole read)
    etags: dict[str, str]
    heads: dict[int, Head]
    rows: dict[str, Workload]  # as their rows store them
    hseq: dict[str, int]  # each workload's history entries so far
    shard: int | None = None  # a partial read: only this shard
    plan_hash: str | None = None  # the plan the heads were written for
    workload: str | None = None  # the message's workload (its shard keeps the message's id)
    summaries: dict[int, Summary] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.etags[key]

    @staticmethod
    def of_rows(
        name: str, layout: Layout, rows: list, *, shard: int | None = None, record: Mapping[str, Any] | None = None
    ) -> Read:
        heads: dict[int, Head] = {}
        workloads: dict[str, Workload] = {}
        hseq: dict[str, int] = {}
        etags: dict[str, str] = {}
        plan_hash = None
        summaries: dict[int, Summary] = {}
        for row in rows:
            key = row["RowKey"]
            etags[key] = row.metadata["etag"]
            if key.startswith("w."):
                parts = key.split(".", 2)
                if len(parts) == 2:
                    heads[int(parts[1])] = Head.of(row, int(parts[1]))
                    plan_hash = row.get("plan_hash") or plan_hash
                else:
                    w = workload_of(row)
                    workloads[w.name], hseq[w.name] = w, row.get("hseq", 0)
            elif key.startswith("s.f."):
                summaries[int(key[4:])] = Summary.of(row)
        return Read(
            name,
            layout,
            dict(record) if record else None,
            etags,
            heads,
            workloads,
            hseq,
            shard,
            plan_hash,
            summaries=summaries,
        )

    # -- what readers see ----------------------------------------------------------------------------------
    def derived(self) -> dict[str, Workload]:
        """Every workload read, as the latest committed decision left it (a lagging shard's pending applied)."""
        pending = {n: w for head in self.heads.values() if head.lagging() for n, w in head.pending.items()}
        return {n: pending.get(n, w) for n, w in self.rows.items()}

    def release(self, workload: str | None) -> Release:
        """The release as read; `workload`: the message's workload, whose shard keeps the message ids."""
        self.workload = workload
        plan, derived = self.layout.plan, self.derived()
        order = [w.name for w in plan.workloads if w.name in derived]
        workloads = {n: derived[n] for n in order}
        scope = self.scope()
        if self.shard is not None:
            head = self.heads[self.shard]
            return Release(
                plan=plan,
                workloads=workloads,
                after_met=head.after_met,
                others=len(plan.workloads) - len(order),
                seen=scope.seen,
                processed=scope.processed,
                archive=scope.archive,
                archived=scope.archived,
            )
        assert self.record is not None
        fields = RELEASE.read(self.record)
        fields.update(seen=scope.seen, processed=scope.processed, archive=scope.archive, archived=scope.archived)
        return Release(plan=plan, workloads=workloads, **fields)

    def scope_shard(self) -> int | None:
        """The shard whose head keeps this message's ids (None: the release record keeps them, as it keeps
        every id of a release of one shard)."""
        if self.workload is None or self.workload not in self.layout.index or self.layout.shards == 1:
            return None
        return self.layout.index[self.workload]

    def scope(self) -> Scope:
        shard = self.scope_shard()
        if shard is not None and shard in self.heads:
            return self.heads[shard].scope
        if self.record is None:
            return Scope()
        f = RELEASE.read(self.record)
        return Scope(f["seen"], f["processed"], f["archive"], f["archived"])

    @property
    def epoch(self) -> int:
        return (self.record or {}).get("epoch", 0)

    @property
    def record_seq(self) -> int:
        """Release-level history entries so far (the next one's number)."""
        return (self.record or {}).get("seq", 0)

    def lagging_shards(self) -> list[int]:
        return sorted(k for k, head in self.heads.items() if head.lagging())

    def lagging(self) -> bool:
        return bool(self.lagging_shards())

    @staticmethod
    def summaries_of(record: Mapping[str, Any], rows: list) -> dict[int, Summary]:
        """Each shard's summary as of the latest committed decision (the record holds those a release-wide
        decision changed until their shards catch up)."""
        summaries = {int(r["RowKey"][4:]): Summary.of(r) for r in rows if r["RowKey"].startswith("s.f.")}
        newer = unpacked(record, "pending_summaries") or {}
        for key, doc in newer.items():
            shard = int(key)
            if shard not in summaries or summaries[shard].epoch < doc["epoch"]:
                summaries[shard] = Summary.of({"RowKey": summary_row(shard), **doc})
        return summaries

    def reread_shard(self, table: TableClient, shard: int) -> Read:
        low, high = head_row(shard), f"{head_row(shard)}/"
        rows = query.entities(
            table, f"PartitionKey eq '{quote(self.name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
        )
        fresh = Read.of_rows(self.name, self.layout, rows, shard=shard)
        etags = {k: v for k, v in self.etags.items() if k != summary_row(shard)}  # its summary may have moved too
        merged = Read(
            self.name,
            self.layout,
            self.record,
            {**etags, **fresh.etags},
            {**self.heads, **fresh.heads},
            {**self.rows, **fresh.rows},
            {**self.hseq, **fresh.hseq},
            self.shard,
            self.plan_hash,
            self.workload,
            self.summaries,
        )
        return merged


__all__ = ["RELEASE_ROW", "Layout", "Read"]
