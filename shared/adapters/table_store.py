"""ReleaseStore on Azure Table Storage (or Azurite): one partition per release.

Row keys inside a release's partition:
  s            the release row (plan, counters, the window of recent message ids)
  s.<name>     one row per workload            -> `s` .. `t` is read with ONE range query
  h.<name>.<seq> / h.~.<seq>   history entries (workload / release-level), seq zero-padded
  m.<sha256>   a de-duplication marker per message id
Every message is committed with ONE submit_transaction guarded by the rows' ETags.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.domain.errors import ConflictError, ReleaseExists, UnknownRelease
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Release, Workload
from shared.domain.plan import Plan
from shared.application.ports import Snapshot

RELEASE_ROW = "s"
CHUNK = 30_000  # characters per string property (the service's limit is 32K UTF-16 code units)
MAX_REASON = 8_000
_CONFLICT_CODES = {"UpdateConditionNotSatisfied", "EntityAlreadyExists", "ConditionNotMet"}


def workload_row(name: str) -> str:
    return f"s.{name}"


def history_row(workload: str | None, seq: int) -> str:
    return f"h.{workload or '~'}.{seq:010d}"


def marker_row(event_id: str) -> str:
    return "m." + hashlib.sha256(event_id.encode()).hexdigest()


def _quote(value: str) -> str:
    return value.replace("'", "''")


@lru_cache(maxsize=256)
def _plan(text: str) -> Plan:
    """Plans are parsed once per process, not once per message."""
    return Plan.model_validate_json(text)


def _chunks(name: str, text: str) -> dict[str, Any]:
    """`text` (ASCII: one UTF-16 unit a character) split over properties, with their count: a merge that
    writes fewer chunks than before leaves the old surplus chunks behind, and the count says to ignore them."""
    assert text.isascii(), "chunked text must be ASCII (JSON with ensure_ascii)"
    parts = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    return {**{name if i == 0 else f"{name}_{i}": part for i, part in enumerate(parts)}, f"{name}_chunks": len(parts)}


def _unchunk(entity: dict, name: str) -> str:
    count = entity.get(f"{name}_chunks", 1)
    return entity.get(name, "") + "".join(entity[f"{name}_{i}"] for i in range(1, count))


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.canonical(), separators=(",", ":"))  # ensure_ascii: chunks stay within 32K units


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond, tzinfo=timezone.utc)


def _workload_entity(release: str, w: Workload) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": release, "RowKey": workload_row(w.name), "state": w.state, "paused": w.paused,
        **_chunks("assets", json.dumps(w.assets, separators=(",", ":"))), "tests_passed": w.tests_passed,
        "approved": w.approved, "flight": w.flight, "traffic_percent": w.traffic_percent,
        "healthy_flight": w.healthy_flight, "unhealthy": w.unhealthy, "attempt": w.attempt,
    }
    # Table Storage cannot store a null; an absent property reads back as None.
    if w.flight_started_at is not None:
        entity["flight_started_at"] = w.flight_started_at
    entity.update(_finish_properties(w))
    return entity


_FINISH_OPTIONAL = ("lag_seconds", "lag_at", "promoted_at", "finalize_requested_by", "finalize_requested_at",
                    "decommission_error", "finalized_by", "finalized_at")


def _finish_properties(w: Workload) -> dict[str, Any]:
    """v2 §8 fields of a workload row (absent when None: Table Storage has no null)."""
    props: dict[str, Any] = {"lag_reports": w.lag_reports, "decommission_failures": w.decommission_failures}
    props.update({k: getattr(w, k) for k in _FINISH_OPTIONAL if getattr(w, k) is not None})
    if "lag_seconds" in props:
        props["lag_seconds"] = float(props["lag_seconds"])  # always Edm.Double, even for a whole number
    return props


def _finish_fields(entity: dict) -> dict[str, Any]:
    fields: dict[str, Any] = {"lag_reports": entity.get("lag_reports", 0),
                              "decommission_failures": entity.get("decommission_failures", 0)}
    for key in _FINISH_OPTIONAL:
        value = entity.get(key)
        fields[key] = _utc(value) if key.endswith("_at") else value
    if fields["lag_seconds"] is not None:
        fields["lag_seconds"] = float(fields["lag_seconds"])
    return fields


def _workload(entity: dict) -> Workload:
    return Workload(
        name=entity["RowKey"][2:], state=entity["state"], paused=entity["paused"],
        assets=json.loads(_unchunk(entity, "assets")), tests_passed=entity["tests_passed"],
        approved=entity["approved"], flight=entity["flight"], traffic_percent=entity["traffic_percent"],
        flight_started_at=_utc(entity.get("flight_started_at")), healthy_flight=entity["healthy_flight"],
        unhealthy=entity.get("unhealthy", False), attempt=entity["attempt"], **_finish_fields(entity))


def _release_counters(r: Release) -> dict[str, Any]:
    counters = {"access_revoked": r.access_revoked, "seq": r.seq, "seen": "".join(r.seen), "processed": r.processed}
    if r.archive:  # Edm.Binary, 4 KiB, once the window has overflowed
        counters.update(archive=r.archive, archived=r.archived)
    return counters


_STORED = {"from": "from_state", "to": "to_state"}  # property names must be identifiers, not keywords


def _history_entity(release: str, seq: int, e: HistoryEntry) -> dict[str, Any]:
    entity = {"PartitionKey": release, "RowKey": history_row(e.workload, seq), "seq": seq}
    for key, value in e.to_json().items():
        if value is not None:
            entity[_STORED.get(key, key)] = e.at if key == "at" else value
    entity["reason"] = e.reason[:MAX_REASON]  # a property holds 32K UTF-16 units; reasons are far shorter
    return entity


def _history(entity: dict) -> HistoryEntry:
    return HistoryEntry(
        at=_utc(entity["at"]), event_id=entity["event_id"], type=entity["type"], outcome=entity["outcome"],
        reason=entity.get("reason", ""), workload=entity.get("workload"), from_state=entity.get("from_state"),
        to_state=entity.get("to_state"), traffic_percent=entity.get("traffic_percent"), actor=entity.get("actor"),
        flight=entity.get("flight"), source=entity.get("source"))


class TableReleaseStore:
    def __init__(self, table: TableClient):
        self.table = table

    # reads ----------------------------------------------------------------------------------
    def get_release(self, name: str) -> Snapshot:
        rows = list(self.table.query_entities(
            f"PartitionKey eq '{_quote(name)}' and RowKey ge 's' and RowKey lt 't'", results_per_page=1000))
        head = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if head is None:
            raise UnknownRelease(name)
        plan = _plan(_unchunk(head, "plan"))
        workloads = {w.name: w for w in (_workload(r) for r in rows if r["RowKey"] != RELEASE_ROW)}
        seen = head.get("seen", "")
        release = Release(
            plan=plan, workloads={w.name: workloads[w.name] for w in plan.workloads},
            access_revoked=head.get("access_revoked", False), seq=head["seq"],
            seen=tuple(seen[i:i + 16] for i in range(0, len(seen), 16)), processed=head["processed"],
            archive=bytes(head.get("archive") or b""), archived=head.get("archived", 0))
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
            f"PartitionKey eq '{_quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'")
        return [_history(r) for r in sorted(rows, key=lambda r: r["seq"])]

    def list_releases(self) -> list[str]:
        rows = self.table.query_entities(f"RowKey eq '{RELEASE_ROW}'", select=["PartitionKey"])
        return sorted(r["PartitionKey"] for r in rows)

    # writes ---------------------------------------------------------------------------------
    def create_release(self, release: Release) -> None:
        name = release.name
        head = {"PartitionKey": name, "RowKey": RELEASE_ROW, **_chunks("plan", plan_json(release.plan)),
                "plan_hash": release.plan.fingerprint(), "model": release.model,
                "created_at": datetime.now(timezone.utc), **_release_counters(release)}
        operations = [("create", head)] + [("create", _workload_entity(name, w)) for w in release.workloads.values()]
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if exc.error_code == "EntityAlreadyExists" or exc.status_code == 409:
                raise ReleaseExists(name) from None
            raise

    def update_plan(self, snapshot: Snapshot, plan: Plan) -> None:
        name = snapshot.release.name
        entity = {"PartitionKey": name, "RowKey": RELEASE_ROW, **_chunks("plan", plan_json(plan)),
                  "plan_hash": plan.fingerprint()}
        try:
            self.table.update_entity(entity, mode=UpdateMode.MERGE, etag=snapshot.version[RELEASE_ROW],
                                     match_condition=MatchConditions.IfNotModified)
        except (HttpResponseError, ResourceExistsError) as exc:
            if getattr(exc, "status_code", None) in (409, 412):
                raise ConflictError(str(exc)) from None
            raise

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str | None) -> None:
        """State, history and (for a new id) the marker in one transaction; ConflictError if anything moved."""
        name, before, after = snapshot.release.name, snapshot.release, decision.release
        etags = snapshot.version

        def guarded(entity: dict, mode: UpdateMode) -> tuple:
            return ("update", entity, {"mode": mode, "etag": etags[entity["RowKey"]],
                                       "match_condition": MatchConditions.IfNotModified})

        # The release row is merged (its plan stays); workload rows are replaced whole, so a field that
        # became None (flight_started_at) is really removed.
        operations: list[tuple] = [guarded({"PartitionKey": name, "RowKey": RELEASE_ROW, **_release_counters(after)},
                                           UpdateMode.MERGE)]
        operations += [guarded(_workload_entity(name, w), UpdateMode.REPLACE) for w in after.workloads.values()
                       if w != before.workloads[w.name]]
        operations += [("create", _history_entity(name, before.seq + i, e)) for i, e in enumerate(decision.entries)]
        if event_id is not None:
            marker: dict[str, Any] = {"PartitionKey": name, "RowKey": marker_row(event_id),
                                      "event_id": event_id[:256]}
            for quiet in decision.quiet:  # an outcome kept here instead of a history entry (replication-lag)
                marker.update(at=quiet.at, type=quiet.type, outcome=quiet.outcome, reason=quiet.reason[:MAX_REASON],
                              workload=quiet.workload or "")
            operations.append(("create", marker))
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if exc.status_code in (409, 412) or exc.error_code in _CONFLICT_CODES:
                raise ConflictError(f"release {name}: {exc.error_code or exc.status_code}") from None
            raise
