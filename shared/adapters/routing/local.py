"""The `local` provider: a routing record in Table Storage, the embedded default (a real record, not a mock)."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError, ServiceResponseError
from azure.data.tables import TableClient

from shared.adapters import concurrently
from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change

ACCESS_ROW = "~access"  # not a workload name: names never start with '~'
TRANSACTION_LIMIT = 100  # operations in one entity group transaction (Table Storage's limit)
# Transactions in flight at once: they overlap the service's answers; concurrently.each starts at most 20 of
# 100 a second, what one partition serves (about 2,000 entities a second) before Azure answers 503.
CONCURRENCY = 4


class LocalRouter:
    def __init__(self, table: TableClient, release: str, workload: str):
        self.table, self.release, self.workload = table, release, workload

    def read(self) -> int:
        try:
            return int(self.table.get_entity(self.release, self.workload)["traffic_percent"])
        except ResourceNotFoundError:
            return 0  # never routed: every user is on the source system

    def diff(self, percent: int) -> list[Change]:
        live = self.read()
        return [] if live == percent else [Change(self.describe(), "traffic_percent", str(live), str(percent))]

    def problems(self, percents: list[int]) -> list[str]:
        return []  # the local record realises any share

    def apply(self, percent: int) -> list[Change]:
        changes = self.diff(percent)
        if changes:  # already in place: write nothing
            self.table.upsert_entity(
                {
                    "PartitionKey": self.release,
                    "RowKey": self.workload,
                    "traffic_percent": percent,
                    "changed_at": datetime.now(UTC),
                }
            )
        return changes

    def describe(self) -> str:
        return self.describe_of(self.release, self.workload)

    @staticmethod
    def describe_of(release: str, workload: str) -> str:
        return f"local routing record {release}/{workload}"


class LocalBatch:
    """A release-level move of promote's own routing records: the release's partition read once, the records
    that differ written in transactions of at most 100 (one partition: the release's). 5,000 workloads cost a
    few reads and 50 transactions, not 10,000 requests one after another. Idempotent: what is in place is not
    written again, so a move cut short is carried out from where it stopped."""

    def __init__(self, table: TableClient, release: str):
        self.table, self.release = table, release

    def live(self) -> dict[str, int]:
        rows = self.table.query_entities(
            "PartitionKey eq @release", parameters={"release": self.release}, select=["RowKey", "traffic_percent"]
        )
        # The partition also holds the access record and the decommission records, which have no share: Azure
        # answers a $select with the property as null for them (Azurite leaves it out, Azure/Azurite#2535).
        return {r["RowKey"]: int(r["traffic_percent"]) for r in rows if r.get("traffic_percent") is not None}

    def apply(self, percents: dict[str, int]) -> dict[str, list[Change]]:
        live, made, writes = self.live(), dict[str, list[Change]](), []
        for workload, percent in percents.items():
            before = live.get(workload, 0)  # never routed: every user is on the source system
            if before == percent:
                made[workload] = []
                continue
            made[workload] = [
                Change(LocalRouter.describe_of(self.release, workload), "traffic_percent", str(before), str(percent))
            ]
            entity = {"PartitionKey": self.release, "RowKey": workload, "traffic_percent": percent}
            writes.append(("upsert", {**entity, "changed_at": datetime.now(UTC)}))
        batches = [writes[first : first + TRANSACTION_LIMIT] for first in range(0, len(writes), TRANSACTION_LIMIT)]
        concurrently.each(self._write, batches, at_once=CONCURRENCY, name="routing")
        return made

    def _write(self, batch: list[tuple]) -> None:
        try:
            self.table.submit_transaction(batch)
        except ServiceResponseError:  # the answer was lost, and the SDK does not retry a POST: upserts, so once more
            self.table.submit_transaction(batch)


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
