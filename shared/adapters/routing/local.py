"""The `local` provider: a routing record in Table Storage, the embedded default (a real record, not a mock).

A release's partition holds a record per workload routed on its own (a flight's share) and, once the release
has moved as a whole, its SHARES record: every share the release-level moves set, in one entity, so that a
staged promotion of 5,000 workloads is one write, not 50 transactions of 100. Which one holds a workload's
share is decided by generation: each release-level move writes the next generation (If-Match, so two never
interleave), and a workload's own record is written with the generation it read; the later one holds, the
workload's own on a tie (it was written after the move it read)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceResponseError,
)
from azure.data.tables import TableClient, UpdateMode

from shared.adapters.properties import quote
from shared.adapters.table_store import query
from shared.domain.errors import ConflictError, RoutingError
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change

ACCESS_ROW = "~access"  # not a workload name: names never start with '~'
SHARES_ROW = "~shares"  # the release-level moves' shares, one record
CHUNK = 60_000  # bytes a binary property holds (Table Storage: 64 KiB), an entity 1 MiB: ~16 chunks
ATTEMPTS = 5  # release-level moves of one release at once: each reads again and writes the next generation


@dataclass(frozen=True)
class Shares:
    """The SHARES record: its generation, each workload's share with the generation that set it, its ETag."""

    generation: int = 0
    entries: dict[str, tuple[int, int]] = field(default_factory=dict)
    etag: str | None = None

    @staticmethod
    def of(entity: Mapping[str, Any] | None) -> Shares:
        if entity is None:
            return Shares()
        packed = b"".join(bytes(entity[f"shares{i}"]) for i in range(int(entity.get("chunks", 0))))
        entries = {w: (int(p), int(g)) for w, (p, g) in json.loads(zlib.decompress(packed)).items()} if packed else {}
        etag = entity.metadata["etag"] if hasattr(entity, "metadata") else None
        return Shares(int(entity["generation"]), entries, etag)

    def entity(self, release: str) -> dict[str, Any]:
        packed = zlib.compress(json.dumps(self.entries, separators=(",", ":")).encode(), 6)
        chunks = [packed[i : i + CHUNK] for i in range(0, len(packed), CHUNK)]
        record: dict[str, Any] = {
            "PartitionKey": release,
            "RowKey": SHARES_ROW,
            "generation": self.generation,
            "workloads": len(self.entries),
            "chunks": len(chunks),
            "changed_at": datetime.now(UTC),
        }
        record.update({f"shares{i}": chunk for i, chunk in enumerate(chunks)})
        return record


def _share(row: Mapping[str, Any] | None, shares: Shares, workload: str) -> tuple[int, str]:
    """A workload's share and where it comes from ("row", "shares" or "none": never routed, at 0)."""
    entry = shares.entries.get(workload)
    if row is not None and (entry is None or int(row.get("generation") or 0) >= entry[1]):
        return int(row["traffic_percent"]), "row"
    if entry is not None:
        return entry[0], "shares"
    return 0, "none"  # never routed: every user is on the source system


class LocalRouter:
    def __init__(self, table: TableClient, release: str, workload: str):
        self.table, self.release, self.workload = table, release, workload

    def _get(self, row_key: str) -> Any:
        try:
            return self.table.get_entity(self.release, row_key)
        except ResourceNotFoundError:
            return None

    def _read(self) -> tuple[int, Shares, Any]:
        # Two point reads (an OR of row keys is a partition scan on Azure: the table design guide says avoid it),
        # the shares record first: a row written between the two then carries that generation or a later one,
        # so the pair is one the partition held at the second read, never a share that did not hold
        shares = Shares.of(self._get(SHARES_ROW))
        row = self._get(self.workload)
        return _share(row, shares, self.workload)[0], shares, row

    def read(self) -> int:
        return self._read()[0]

    def diff(self, percent: int) -> list[Change]:
        live = self.read()
        return [] if live == percent else [Change(self.describe(), "traffic_percent", str(live), str(percent))]

    def problems(self, percents: list[int]) -> list[str]:
        return []  # the local record realises any share

    def apply(self, percent: int) -> list[Change]:
        """Write the workload's own record, guarded by the one read (If-Match, or a create): two moves of one
        workload at once never write a generation older than the record's. A release-level move that named it
        and landed between the read and the write would hold over the write: the write is the later one, so
        it is written again with that move's generation."""
        live, shares, row = self._read()
        if live == percent:  # already in place: write nothing
            return []
        before = live
        for _ in range(ATTEMPTS):
            entity: dict[str, Any] = {
                "PartitionKey": self.release,
                "RowKey": self.workload,
                "traffic_percent": percent,
                "changed_at": datetime.now(UTC),
            }
            if shares.generation:  # written after that release-level move: it holds over the move's share
                entity["generation"] = shares.generation
            try:
                if row is None:
                    self.table.create_entity(entity)
                else:
                    self.table.update_entity(
                        entity, etag=row.metadata["etag"], match_condition=MatchConditions.IfNotModified
                    )
            except (ResourceExistsError, ResourceModifiedError, ServiceResponseError):
                pass  # another move of it wrote first, or the answer was lost: read again
            else:
                landed = Shares.of(self._get(SHARES_ROW))
                entry = landed.entries.get(self.workload)
                if entry is None or entry[1] <= shares.generation:
                    return [Change(self.describe(), "traffic_percent", str(before), str(percent))]
            live, shares, row = self._read()
            if live == percent:  # in place now (a lost answer that landed, or another move to the same share)
                return [Change(self.describe(), "traffic_percent", str(before), str(percent))]
        # a routing failure, retried as one (the message's retry.max, then stuck), not a state conflict
        raise RoutingError(f"{self.describe()}: moved under {ATTEMPTS} other moves at once")

    def describe(self) -> str:
        return self.describe_of(self.release, self.workload)

    @staticmethod
    def describe_of(release: str, workload: str) -> str:
        return f"local routing record {release}/{workload}"


class LocalBatch:
    """A release-level move of promote's own routing records: the release's partition read once and the shares
    that differ written as the next generation of its SHARES record, one write whatever the number of workloads.
    Idempotent: what is in place is not written again; a lost answer is read back."""

    def __init__(self, table: TableClient, release: str):
        self.table, self.release = table, release

    def _read(self) -> tuple[dict[str, Any], Shares]:
        # the shares record first, then the records (a query of several pages reads it last, '~' sorting after
        # every name): a record written meanwhile carries that generation or a later one, as in LocalRouter
        try:
            shares = Shares.of(self.table.get_entity(self.release, SHARES_ROW))
        except ResourceNotFoundError:
            shares = Shares()
        rows = {}
        for r in query.entities(self.table, f"PartitionKey eq '{quote(self.release)}'"):
            if r["RowKey"] != SHARES_ROW and r.get("traffic_percent") is not None:  # access, decommission: none
                rows[r["RowKey"]] = r
        return rows, shares

    @staticmethod
    def _live(rows: Mapping[str, Any], shares: Shares, names: Iterable[str] = ()) -> dict[str, tuple[int, str]]:
        return {w: _share(rows.get(w), shares, w) for w in dict.fromkeys([*rows, *shares.entries, *names])}

    def live(self) -> dict[str, int]:
        """Every routed workload's share (a workload never routed is not listed: it is at 0)."""
        rows, shares = self._read()
        return {w: p for w, (p, source) in self._live(rows, shares).items() if source != "none"}

    def apply(self, percents: dict[str, int]) -> dict[str, list[Change]]:
        made: dict[str, list[Change]] | None = None
        for _ in range(ATTEMPTS):
            rows, shares = self._read()
            live = self._live(rows, shares, percents)
            moving = {w: p for w, p in percents.items() if live[w][0] != p}
            if made is None:  # what this move changes, as first read (a retry finds some of it in place)
                made = {w: [] for w in percents}
                for w, p in moving.items():
                    made[w] = [
                        Change(LocalRouter.describe_of(self.release, w), "traffic_percent", str(live[w][0]), str(p))
                    ]
            if not moving:
                return made
            generation = shares.generation + 1
            # the entries still holding (a workload's own later record drops its entry), and the new shares
            entries = {w: e for w, e in shares.entries.items() if live[w][1] == "shares" and w not in moving}
            entries.update({w: (p, generation) for w, p in moving.items()})
            try:
                self._write(Shares(generation, entries, shares.etag))
                return made
            except (ResourceExistsError, ResourceModifiedError, ServiceResponseError):
                continue  # another move wrote first, or the answer was lost: read again
            except HttpResponseError as exc:
                if exc.status_code not in (409, 412):
                    raise
        raise ConflictError(f"release {self.release}: its routing moved under {ATTEMPTS} release-level moves")

    def _write(self, shares: Shares) -> None:
        entity = shares.entity(self.release)
        if shares.etag is None:  # the first release-level move: create, so two first moves do not both write
            self.table.create_entity(entity)
        else:
            self.table.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=shares.etag, match_condition=MatchConditions.IfNotModified
            )


class LocalAccessRevoker:
    def __init__(self, table: TableClient):
        self.table = table

    def revoke(self, release: str, config: RevokeAccess) -> list[Change]:
        if self.revoked(release):
            return []
        self.table.upsert_entity(
            {
                "PartitionKey": release,
                "RowKey": ACCESS_ROW,
                "revoked": True,
                "rule": config.rule,
                "source_prefixes": ",".join(config.source_prefixes),
            }
        )
        return [
            Change(
                f"local access record {release}", config.rule, "allowed", f"denied {','.join(config.source_prefixes)}"
            )
        ]

    def problems(self, release: str, config: RevokeAccess) -> list[str]:
        return []

    def revoked(self, release: str) -> bool:
        try:
            return bool(self.table.get_entity(release, ACCESS_ROW).get("revoked"))
        except ResourceNotFoundError:
            return False
