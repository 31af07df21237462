"""The floor: the storage work a state change cannot avoid, done raw with the same TableClient.

Per event: one entity read of the release row (get_entity) and one submit_transaction of the same size as
TableReleaseStore.commit writes for a typical event (release row merge + one workload row replace, both
ETag-guarded, + one history entity + one de-duplication marker), on a partition laid out like a release.
The entities are copies of what a real life cycle wrote (the release row with its plan, the workload rows,
the history entries in the same order), so property sizes match; were the store to keep its workloads in
the release row instead, the floor follows (it merges what the release row holds, and has no row to replace).

Variant "state+routing" also does, before the transaction and for the same events as the life cycle, the
local routing provider's contracted I/O (read the routing record; write it when the share changes): the
like-for-like floor for a run whose plan routes through `provider: local`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from bench.lifecycle import RunStats, Shape, Workers
from bench.meter import BenchCounter

RELEASE_ROW = "s"
SHARES_ROW = "~shares"  # the local routing provider's release-level record (shared/adapters/routing/local.py)
DIGEST = 16  # characters a message adds to the release row's window of recent ids
WINDOW = 512


@dataclass
class Templates:
    head: dict
    workloads: dict[str, dict]  # workload name -> its final row
    history: list[dict]  # in write order

    @classmethod
    def from_release(cls, table, release: str) -> Templates:
        rows = {r["RowKey"]: dict(r) for r in table.query_entities(f"PartitionKey eq '{release}'")}
        head = rows[RELEASE_ROW]
        # a workload's row is w.<shard>.<name> (the shard's head is w.<shard>, its summary s.f.<shard>)
        workloads = {k.split(".", 2)[2]: v for k, v in rows.items() if k.startswith("w.") and k.count(".") >= 2}
        history = sorted((v for k, v in rows.items() if k.startswith("h.")), key=lambda r: r["seq"])
        return cls(head, workloads, history)

    def head_update(self) -> dict:
        """What a message merges into the release row: everything but the plan (which apply writes)."""
        return {
            k: v
            for k, v in self.head.items()
            if k not in _KEYS and not k.startswith("plan") and k not in ("model", "created_at")
        }


_KEYS = ("PartitionKey", "RowKey")


class Floor:
    def __init__(self, state_table, routing_table, counter: BenchCounter, shape: Shape, templates: Templates):
        self.state, self.routing, self.counter = state_table, routing_table, counter
        self.shape, self.t = shape, templates
        self.etags: dict[tuple[str, str], str] = {}
        self.traffic = shape.traffic_after()
        self.head_update = templates.head_update()

    def prepare(self, partitions: list[str]) -> None:
        """A release row (with its plan) and its workload rows per partition, as `promote apply` leaves them."""
        self.counter.category("floor-setup")
        for p in partitions:
            head = {**self.t.head, "PartitionKey": p, "seq": 0, "seen": "", "processed": 0}
            rows = [{**row, "PartitionKey": p} for row in self.t.workloads.values()]
            result = self.state.submit_transaction([("create", head)] + [("create", r) for r in rows])
            for row, res in zip(rows, result[1:], strict=True):
                self.etags[(p, row["RowKey"])] = res["etag"]

    def event(self, p: str, k: int, routing: bool) -> None:
        names = self.shape.names()
        workload = names[k % len(names)]
        step = k // len(names)
        head = self.state.get_entity(p, RELEASE_ROW)
        share = self.traffic[step]
        if routing and share is not None:
            # LocalRouter.apply: read the release's shares record, then the record; write it if the share changes
            # (guarded by the read), and read the shares record again (a release-level move that landed meanwhile)
            try:
                self.routing.get_entity(p, SHARES_ROW)
            except ResourceNotFoundError:
                pass
            try:
                current = int(self.routing.get_entity(p, workload)["traffic_percent"])
            except ResourceNotFoundError:
                current = 0
            if current != share:
                self.routing.upsert_entity(
                    {
                        "PartitionKey": p,
                        "RowKey": workload,
                        "traffic_percent": share,
                        "changed_at": datetime.now(UTC),
                    }
                )
                try:
                    self.routing.get_entity(p, SHARES_ROW)
                except ResourceNotFoundError:
                    pass
        event_id = f"floor/{p}/{k}"
        seq = head["seq"]
        history = self.t.history[k % len(self.t.history)]
        row_key = self.t.workloads[workload]["RowKey"] if self.t.workloads else f"w.0000.{workload}"
        guard = {"etag": head.metadata["etag"], "match_condition": MatchConditions.IfNotModified}
        operations: list[tuple] = [
            (
                "update",
                {
                    **self.head_update,
                    "PartitionKey": p,
                    "RowKey": RELEASE_ROW,
                    "access_revoked": False,
                    "seq": seq + 1,
                    "processed": head["processed"] + 1,
                    "seen": (head["seen"] + hashlib.sha256(event_id.encode()).hexdigest()[:DIGEST])[-WINDOW * DIGEST :],
                },
                {"mode": UpdateMode.MERGE, **guard},
            )
        ]
        if self.t.workloads:  # the store keeps a row per workload: the message replaces that workload's row
            operations.append(
                (
                    "update",
                    {**self.t.workloads[workload], "PartitionKey": p, "RowKey": row_key},
                    {
                        "mode": UpdateMode.REPLACE,
                        "etag": self.etags[(p, row_key)],
                        "match_condition": MatchConditions.IfNotModified,
                    },
                )
            )
        operations += [
            ("create", {**history, "PartitionKey": p, "RowKey": f"h.{workload}.{seq:010d}", "seq": seq}),
            (
                "create",
                {
                    "PartitionKey": p,
                    "RowKey": "m." + hashlib.sha256(event_id.encode()).hexdigest(),
                    "event_id": event_id,
                },
            ),
        ]
        result = self.state.submit_transaction(operations)
        if self.t.workloads:
            self.etags[(p, row_key)] = result[1]["etag"]

    def run(self, pool: Workers, label: str, workers: int, partitions: list[str], routing: bool) -> RunStats:
        events = self.shape.events_per_release

        def work(mine: list[str], stats: RunStats) -> None:
            self.counter.category(label)
            for p in mine:
                for k in range(events):
                    self.counter.begin()
                    t0 = time.perf_counter()
                    self.event(p, k, routing)
                    stats.latency.add((time.perf_counter() - t0) * 1000)
                    requests = self.counter.end()
                    stats.messages += 1
                    stats.storage_per_message[
                        sum(n for (t, _), n in requests.items() if t == self.state.table_name)
                    ] += 1
                    stats.routing_per_message[
                        sum(n for (t, _), n in requests.items() if t == self.routing.table_name)
                    ] += 1

        return pool.run(label, workers, partitions, work)
