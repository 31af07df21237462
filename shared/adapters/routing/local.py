"""The `local` provider: a routing record in Table Storage, the embedded default (a real record, not a mock)."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableClient

from shared.domain.plan import RevokeAccess
from shared.domain.routing import Change

ACCESS_ROW = "~access"  # not a workload name: names never start with '~'


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
        return f"local routing record {self.release}/{self.workload}"


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
