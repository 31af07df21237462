"""ReleaseStore on Azure Table Storage (or Azurite): one partition per release (the rows: rows.py).
Every message is committed with ONE submit_transaction guarded by the rows' ETags."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.outbox import outbox_entity
from shared.adapters.properties import quote
from shared.adapters.table_store.rows import (
    MAX_REASON,
    RELEASE_ROW,
    history_entity,
    history_of,
    marker_row,
    plan_properties,
    release_counters,
    release_of,
    workload_entity,
    workload_of,
)
from shared.application.ports import Snapshot
from shared.domain.errors import ConflictError, ReleaseExists, UnknownRelease
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Release
from shared.domain.plan import Plan

_CONFLICT_CODES = {"UpdateConditionNotSatisfied", "EntityAlreadyExists", "ConditionNotMet"}


class TableReleaseStore:
    def __init__(self, table: TableClient):
        self.table = table

    # reads ----------------------------------------------------------------------------------
    def get_release(self, name: str) -> Snapshot:
        rows = list(
            self.table.query_entities(
                f"PartitionKey eq '{quote(name)}' and RowKey ge 's' and RowKey lt 't'", results_per_page=1000
            )
        )
        head = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if head is None:
            raise UnknownRelease(name)
        workloads = {w.name: w for w in (workload_of(r) for r in rows if r["RowKey"] != RELEASE_ROW)}
        release = release_of(head, workloads)
        etags = {r["RowKey"]: r.metadata["etag"] for r in rows}
        return Snapshot(release=release, version=etags)

    def seen_before(self, name: str, event_id: str) -> bool:
        try:
            self.table.get_entity(name, marker_row(event_id), select=["RowKey"])
        except ResourceNotFoundError:
            return False
        return True

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        low, high = (f"h.{workload}.", f"h.{workload}/") if workload else ("h.", "h/")
        rows = self.table.query_entities(
            f"PartitionKey eq '{quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
        )
        return [history_of(r) for r in sorted(rows, key=lambda r: r["seq"])]

    def list_releases(self) -> list[str]:
        rows = self.table.query_entities(f"RowKey eq '{RELEASE_ROW}'", select=["PartitionKey"])
        return sorted(r["PartitionKey"] for r in rows)

    # writes ---------------------------------------------------------------------------------
    def create_release(self, release: Release) -> None:
        name = release.name
        head = {
            "PartitionKey": name,
            "RowKey": RELEASE_ROW,
            **plan_properties(release.plan),
            "model": release.model,
            "created_at": datetime.now(UTC),
            **release_counters(release),
        }
        operations = [("create", head)] + [("create", workload_entity(name, w)) for w in release.workloads.values()]
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if getattr(exc, "error_code", None) == "EntityAlreadyExists" or exc.status_code == 409:
                raise ReleaseExists(name) from None
            raise

    def update_plan(self, snapshot: Snapshot, plan: Plan) -> None:
        name = snapshot.release.name
        entity = {"PartitionKey": name, "RowKey": RELEASE_ROW, **plan_properties(plan)}
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

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str | None) -> None:
        """State, history and (for a new id) the marker in one transaction; ConflictError if anything moved."""
        name, before, after = snapshot.release.name, snapshot.release, decision.release
        etags = snapshot.version

        def guarded(entity: dict, mode: UpdateMode) -> tuple:
            return (
                "update",
                entity,
                {"mode": mode, "etag": etags[entity["RowKey"]], "match_condition": MatchConditions.IfNotModified},
            )

        # The release row is merged (its plan stays); workload rows are replaced whole, so a field that
        # became None (flight_started_at) is really removed.
        operations: list[tuple] = [
            guarded({"PartitionKey": name, "RowKey": RELEASE_ROW, **release_counters(after)}, UpdateMode.MERGE)
        ]
        operations += [
            guarded(workload_entity(name, w), UpdateMode.REPLACE)
            for w in after.workloads.values()
            if w != before.workloads[w.name]
        ]
        operations += [("create", history_entity(name, before.seq + i, e)) for i, e in enumerate(decision.entries)]
        if event_id is not None:
            marker: dict[str, Any] = {"PartitionKey": name, "RowKey": marker_row(event_id), "event_id": event_id[:256]}
            for quiet in decision.quiet:  # an outcome kept here instead of a history entry (replication-lag)
                marker.update(
                    at=quiet.at,
                    type=quiet.type,
                    outcome=quiet.outcome,
                    reason=quiet.reason[:MAX_REASON],
                    workload=quiet.workload or "",
                )
            operations.append(("create", marker))
        if decision.notices:  # the outbox row: no extra request, committed or lost with the state change
            targets = [t.model_dump(mode="json") for t in after.plan.notify or []]
            operations.append(
                ("create", outbox_entity(name, before.seq, decision.notices, targets, decision.notices[0].at))
            )
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            code = getattr(exc, "error_code", None)  # set by the SDK when the service names one
            if exc.status_code in (409, 412) or code in _CONFLICT_CODES:
                raise ConflictError(f"release {name}: {code or exc.status_code}") from None
            raise
