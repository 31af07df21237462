"""ReleaseStore on Azure Table Storage (or Azurite): one partition per release, kept in shards (shards.py).

A message about one workload of a large release reads its shard (ONE query) and commits ONE transaction in
it; every other message reads the whole release and commits one transaction when it changes at most one
shard, else commits the release record and the changed shards' heads at once (the commit point) and lets
each shard catch up in one transaction of its own. Every row a commit writes is guarded by its ETag; a
shard's summary row is derived from its workloads and written in the same transaction as their head.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters import concurrently
from shared.adapters.outbox import outbox_entity, outbox_key
from shared.adapters.properties import quote
from shared.adapters.table_store import commit, query
from shared.adapters.table_store import history as hist
from shared.adapters.table_store.catalog import ARCHIVED_AT, is_archived
from shared.adapters.table_store.layout import Layout, Read
from shared.adapters.table_store.rows import (
    MAX_REASON,
    RELEASE_ROW,
    history_entity,
    marker_row,
    plan_properties,
    release_counters,
    workload_entity,
)
from shared.adapters.table_store.shards import (
    LAYOUT,
    SHARD_SIZE,
    Summary,
    head_properties,
    head_row,
    items_of,
    summary_properties,
    summary_row,
)
from shared.application.ports import Snapshot
from shared.domain.errors import ConflictError, ReleaseExists, SeenElsewhere, UnknownRelease
from shared.domain.machine import Decision, digest
from shared.domain.machine.scope import ShardFacts, shard_facts
from shared.domain.model import HistoryEntry, Release, ReleaseState
from shared.domain.plan import Plan

_CONFLICT_CODES = {"UpdateConditionNotSatisfied", "EntityAlreadyExists", "ConditionNotMet"}
CATCH_UP_ATTEMPTS = 10
# Sends of a shard's catch-up whose answer was lost: one more after a read; a second loss is the storage
# failing, not a lost race, and fails the message as it is (not as a write conflict, which starts it over).
LOST_ANSWERS = 2
# Shards caught up at once: their transactions overlap the service's answers. A release's rows share one
# partition, which Azure serves at about 2,000 entities a second before answering 503 (ServerBusy):
# concurrently.each also starts at most 20 transactions of 100 a second.
CATCH_UP_CONCURRENCY = 4
HALT_PARTITION, HALT_ROW = "~promote", "halt"  # "~" is no release name's first character
WHOLE_READ_ATTEMPTS = 5  # reads of a release a release-wide decision cut in two before one is whole


def _guarded(entity: dict[str, Any], etag: str, mode: UpdateMode) -> tuple:
    return ("update", entity, {"mode": mode, "etag": etag, "match_condition": MatchConditions.IfNotModified})


def _at(decision: Decision) -> datetime:
    entries = [*decision.entries, *decision.quiet]
    return entries[0].at if entries else datetime.now(UTC)


class TableReleaseStore:
    def __init__(self, table: TableClient, shard_size: int = SHARD_SIZE):
        self.table = table
        self.shard_size = shard_size  # for releases this store creates; a release keeps the size it was made with
        self._layouts: dict[str, Layout] = {}  # release -> its plan and shards (a plan's hash says when it changed)

    # reads ----------------------------------------------------------------------------------
    def get_release(self, name: str, workload: str | None = None, *, whole: bool = True) -> Snapshot:
        """The release; `workload`: the messages of this workload are de-duplicated in its shard's scope.
        `whole=False`: only the workload's shard (ONE query), as a partial release, when it has several."""
        layout = self._layouts.get(name)  # unknown: the whole read learns it (one query for a small release)
        if not whole and workload is not None and layout is not None:
            if layout.shards > 1 and workload in layout.index:
                snapshot = self._shard(name, layout, workload)
                if snapshot is not None:
                    return snapshot
        return self._whole(name, workload)

    def known_size(self, name: str) -> int:
        """The workloads of `name` as this process last read its layout; 0 if it has not (no I/O)."""
        layout = self._layouts.get(name)
        return len(layout.index) if layout is not None else 0

    def _layout(self, name: str) -> Layout:
        try:
            record = self.table.get_entity(name, RELEASE_ROW)
        except ResourceNotFoundError:
            raise UnknownRelease(name) from None
        layout = self._layouts[name] = Layout.of(record)
        return layout

    def _shard(self, name: str, layout: Layout, workload: str) -> Snapshot | None:
        shard = layout.index[workload]
        low, high = f"w.{shard:04d}", f"w.{shard:04d}/"
        rows = query.entities(
            self.table, f"PartitionKey eq '{quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
        )
        read = Read.of_rows(name, layout, rows, shard=shard)
        if read.plan_hash != layout.plan_hash:  # the plan changed since it was cached: read it again
            return self._shard(name, self._layout(name), workload) if read.plan_hash else None
        if read.lagging():  # a release-wide decision whose catch-up a crash cut short: read (and finish) it whole
            return None
        return Snapshot(release=read.release(workload), version=read, one_scope=False)

    def _whole(self, name: str, workload: str | None) -> Snapshot:
        # A large release's rows come in several pages, each a request of its own (at most 1,000 entities a
        # page, fewer after 5 s): a release-wide decision committed between two of them shows in the heads read
        # after it and not in the release record, read first. Such a read is taken again.
        for _ in range(WHOLE_READ_ATTEMPTS):
            rows = query.entities(self.table, f"PartitionKey eq '{quote(name)}' and RowKey ge 's' and RowKey lt 'x'")
            record = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
            if record is None:
                raise UnknownRelease(name)
            if record.get("layout") != LAYOUT:
                raise ConflictError(
                    f"release {name} was written by an earlier promote (layout 1): apply it under a new name"
                )
            layout = self._layouts[name] = Layout.of(record)
            read = Read.of_rows(name, layout, rows, record=record)
            if all(max(h.epoch, h.pending_epoch) <= read.epoch for h in read.heads.values()):
                return Snapshot(release=read.release(workload), version=read, one_scope=layout.shards == 1)
        raise ConflictError(f"release {name} moved during each of {WHOLE_READ_ATTEMPTS} reads")

    def look(self, snapshot: Snapshot) -> tuple[ReleaseState | None, list[ShardFacts]]:
        """The release state the release record knows, and every other shard's facts: ONE query (summaries)."""
        name = snapshot.release.name
        rows = query.entities(self.table, f"PartitionKey eq '{quote(name)}' and RowKey ge 's' and RowKey lt 's/'")
        record = next(r for r in rows if r["RowKey"] == RELEASE_ROW)
        summaries = Read.summaries_of(record, rows)
        state = record.get("state")
        own = snapshot.version.shard
        return (ReleaseState(state) if state else None), [s.facts for k, s in summaries.items() if k != own]

    def summaries(self, name: str) -> tuple[dict[str, Any], dict[int, Summary]]:
        """The release record and every shard's summary, as readers of a release's counts see them: ONE query."""
        rows = query.entities(self.table, f"PartitionKey eq '{quote(name)}' and RowKey ge 's' and RowKey lt 's/'")
        record = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if record is None:
            raise UnknownRelease(name)
        return record, Read.summaries_of(record, rows)

    def seen_before(self, name: str, event_id: str) -> bool:
        try:
            self.table.get_entity(name, marker_row(event_id), select=["RowKey"])
        except ResourceNotFoundError:
            return False
        return True

    def outcome_of(self, name: str, key: str) -> HistoryEntry | None:
        """The recorded outcome of a message (its de-duplication key), or None if it has none yet."""
        try:
            marker = self.table.get_entity(name, marker_row(key))
        except ResourceNotFoundError:
            return None
        return hist.marker_outcome(marker)

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        """Oldest first; a release-wide decision's entry counts as each workload's entry of it."""
        return hist.list_history(self.table, name, workload)

    def get_halt(self) -> dict | None:
        try:
            row = self.table.get_entity(HALT_PARTITION, HALT_ROW)
        except ResourceNotFoundError:
            return None
        return {"by": row["by"], "reason": row["reason"], "at": row["at"]} if row.get("by") else None

    def set_halt(self, halt: dict | None) -> None:
        """One row, apart from every release's partition (its key is no release's)."""
        self.table.upsert_entity({"PartitionKey": HALT_PARTITION, "RowKey": HALT_ROW, **(halt or {"by": ""})},
                                 mode=UpdateMode.REPLACE)  # fmt: skip

    def list_releases(self) -> list[str]:
        rows = self.table.query_entities(f"RowKey eq '{RELEASE_ROW}'", select=["PartitionKey"])
        return sorted(r["PartitionKey"] for r in rows)

    # writes ---------------------------------------------------------------------------------
    def create_release(self, release: Release) -> None:
        """Every shard first (idempotent: nothing reads a shard before its release record exists), then the
        release record, which makes the release exist: one transaction per shard, then one."""
        name, size = release.name, self.shard_size
        names = [w.name for w in release.plan.workloads]
        shards = max(1, -(-len(names) // size))
        now = datetime.now(UTC)
        for k in range(shards):
            workloads = [release.workloads[n] for n in names[k * size : (k + 1) * size]]
            part = release.evolve(workloads={w.name: w for w in workloads}, others=len(names) - len(workloads))
            facts = shard_facts(part, now)
            head = {
                "PartitionKey": name,
                "RowKey": head_row(k),
                **head_properties(facts=facts, after_met=release.after_met),
            }
            head.update(plan_hash=release.plan.fingerprint(), epoch=0, pending_epoch=0)
            summary = {
                "PartitionKey": name,
                "RowKey": summary_row(k),
                **summary_properties(0, facts, items_of(workloads)),
            }
            ops = [("upsert", head, {"mode": UpdateMode.REPLACE}), ("upsert", summary, {"mode": UpdateMode.REPLACE})]
            ops += [("upsert", workload_entity(name, w, k), {"mode": UpdateMode.REPLACE}) for w in workloads]
            self.table.submit_transaction(ops)
        record = {
            "PartitionKey": name,
            "RowKey": RELEASE_ROW,
            **plan_properties(release.plan),
            "model": release.model,
            "created_at": now,
            "layout": LAYOUT,
            "shard_size": size,
            "shards": shards,
            "epoch": 0,
            "state": release.state.value,
            **release_counters(release),
        }
        try:
            self.table.create_entity(record)
        except ResourceExistsError:
            raise ReleaseExists(name) from None

    def update_plan(self, snapshot: Snapshot, plan: Plan, entry: HistoryEntry | None = None) -> None:
        """The plan in the release record and its hash in every head, at once; `entry`: what changed, as a
        release-level history entry of the same transaction."""
        read: Read = snapshot.version
        name = snapshot.release.name
        record = {"PartitionKey": name, "RowKey": RELEASE_ROW, **plan_properties(plan)}
        ops = [_guarded(record, read[RELEASE_ROW], UpdateMode.MERGE)]
        if entry is not None:
            record["seq"] = read.record_seq + 1
            ops.append(("create", history_entity(name, read.record_seq, entry)))
        ops += [
            _guarded(
                {"PartitionKey": name, "RowKey": head_row(k), "plan_hash": plan.fingerprint()},
                read[head_row(k)],
                UpdateMode.MERGE,
            )
            for k in range(read.layout.shards)
        ]
        self._submit(name, ops)

    def archive_release(self, snapshot: Snapshot, entry: HistoryEntry) -> bool:
        """Hide a finished release from lists and the board (v3 §19): who, why and when on its record (kept in
        storage) and a release-level history entry, in one transaction guarded by the record's ETag. False:
        it was archived already (nothing written)."""
        read: Read = snapshot.version
        name = snapshot.release.name
        if is_archived(read.record or {}):
            return False
        record = {"PartitionKey": name, "RowKey": RELEASE_ROW, "seq": read.record_seq + 1}
        record.update({ARCHIVED_AT: entry.at, "archived_by": entry.actor, "archived_reason": entry.actor_reason})
        self._submit(
            name,
            [
                _guarded(record, read[RELEASE_ROW], UpdateMode.MERGE),
                ("create", history_entity(name, read.record_seq, entry)),
            ],
        )
        return True

    def add_dependant(self, snapshot: Snapshot, dependant: str) -> None:
        """Merge the release row's `dependants` (names are [a-z0-9-], so a space separates them)."""
        release = snapshot.release
        entity = {
            "PartitionKey": release.name,
            "RowKey": RELEASE_ROW,
            "dependants": " ".join(dict.fromkeys(release.dependants + (dependant,))),
        }
        try:
            self.table.update_entity(
                entity,
                mode=UpdateMode.MERGE,
                etag=snapshot.version[RELEASE_ROW],
                match_condition=MatchConditions.IfNotModified,
            )
        except (HttpResponseError, ResourceExistsError) as exc:
            if getattr(exc, "status_code", None) in (409, 412):
                raise ConflictError(str(exc)) from None
            raise

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str | None, now: datetime | None = None) -> None:
        """State, history, the marker (for a de-duplication key, not None) and notices; ConflictError if anything
        read has changed, SeenElsewhere if the key was recorded in another scope of the release."""
        read: Read = snapshot.version
        now = now or _at(decision)
        plan = commit.plan(read, decision, now)
        ops, marker_at = plan.operations(event_id, decision, now)
        if decision.notices:  # the outbox row: no extra request, committed or lost with the state change
            targets = [t.model_dump(mode="json") for t in decision.release.plan.notify or []]
            key = outbox_key(now, digest(event_id or decision.entries[0].event_id))
            ops.append(("create", outbox_entity(read.name, key, decision.notices, targets, decision.notices[0].at)))
        results = self._submit(read.name, ops, marker_at=marker_at)
        if plan.catch_up:
            self._catch_up(read, plan.head_etags(results))

    def catch_up(self, snapshot: Snapshot) -> bool:
        """Bring every shard whose rows lag a committed release-wide decision up to it (after a crash)."""
        read: Read = snapshot.version
        if not read.lagging():
            return False
        self._catch_up(read, {})
        return True

    def _catch_up(self, read: Read, head_etags: dict[int, str]) -> None:
        """Every lagging shard brought up, CATCH_UP_CONCURRENCY at a time: each is its own transaction, guarded by
        its head's ETag, so their order does not matter; what one leaves undone, a redelivery's read finds."""
        concurrently.each(
            lambda shard: self._catch_up_shard(read, shard, head_etags.get(shard)),
            read.lagging_shards(),
            at_once=CATCH_UP_CONCURRENCY,
            name="catch-up",
        )

    def _catch_up_shard(self, read: Read, shard: int, etag: str | None) -> None:
        lost = 0
        for _ in range(CATCH_UP_ATTEMPTS):
            ops = commit.catch_up_operations(read, shard, etag)
            if not ops:
                return
            try:
                self._submit(read.name, ops)
                return
            except (ConflictError, ServiceResponseError) as exc:
                # a conflict: a message of one of its workloads folded some in meanwhile; a lost answer (a kept-alive
                # connection closed under it; the SDK retries no POST): either way read again, which shows what holds
                if isinstance(exc, ServiceResponseError):
                    lost += 1
                    if lost >= LOST_ANSWERS:
                        raise
                read = read.reread_shard(self.table, shard)
                etag = None
        raise ConflictError(f"release {read.name}: shard {shard} did not catch up")

    def _submit(self, name: str, ops: list[tuple], *, marker_at: int | None = None) -> list:
        try:
            return self.table.submit_transaction(ops)
        except TableTransactionError as exc:
            code = getattr(exc, "error_code", None)  # set by the SDK when the service names one
            if marker_at is not None and exc.index == marker_at and code == "EntityAlreadyExists":
                raise SeenElsewhere(f"release {name}: its de-duplication marker exists") from None
            if exc.status_code in (409, 412) or code in _CONFLICT_CODES:
                raise ConflictError(f"release {name}: {code or exc.status_code}") from None
            raise


__all__ = ["MAX_REASON", "TableReleaseStore"]
