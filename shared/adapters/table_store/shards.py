"""A large release's rows: shards of workloads, each with a head, and a summary row per shard.

Row keys inside a release's partition (one partition per release):
  s               the release record: the plan, release-level counters, the epoch of its latest release-wide
                  decision (the commit point) and what that decision changed for readers of summaries
  s.f.<kkkk>      shard k's summary: its ShardFacts and one short item per workload (status counts, the board)
  w.<kkkk>        shard k's head: the message ids its workloads' messages carried (de-duplication), the facts
                  of its workloads, and the workloads a committed release-wide decision changed that this
                  shard's rows do not show yet (`pending`, applied by the shard's catch-up)
  w.<kkkk>.<name> one row per workload                        -> `w.<kkkk>` .. `w.<kkkk>/` is ONE range query

A message about one workload reads its shard (one query) and commits one transaction in it. A release-wide
decision commits the release record and the heads of the shards it changes in ONE transaction (at most
1 + 52 rows for 5,000 workloads): from then on every reader sees it, through the heads' `pending`; then each
shard catches up in one transaction of its own.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import typing
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.adapters.properties import chunks, unchunk
from shared.adapters.table_store.codec import RowCodec
from shared.domain.machine.scope import ShardFacts
from shared.domain.model import WORKLOAD_DEFAULTS, Release, Workload, WorkloadState

SHARD_SIZE = 97  # workloads a shard holds: its catch-up is its head, its rows and its summary (<= 100 entities)
LAYOUT = 2  # the release record's `layout` for sharded releases


def head_row(shard: int) -> str:
    return f"w.{shard:04d}"


def workload_row(shard: int, name: str) -> str:
    return f"w.{shard:04d}.{name}"


def summary_row(shard: int) -> str:
    return f"s.f.{shard:04d}"


# -- a workload as JSON (a pending change in a head) ----------------------------------------------------------
_TIMES = frozenset(
    f.name for f in dataclasses.fields(Workload) if "datetime" in str(typing.get_type_hints(Workload)[f.name])
)


# what a field holds when it was never set: left out of the JSON, and read back as the field's default
_UNSET = {**WORKLOAD_DEFAULTS, "assets": {}, "approvals": [], "operated_by": []}
assert set(_UNSET) == {f.name for f in dataclasses.fields(Workload)} - {"name"}, "a field without its unset value"
_NO_DEFAULT = object()  # a field not set
_SET_DEFAULTS = [(k, v) for k, v in _UNSET.items() if v is not None and k != "state"]  # "state": always written


def _iso(when: datetime) -> str:
    """A time's ISO text: a release-level move gives 5,000 workloads the same few instants."""
    return _iso_of(when, when.tzinfo)  # equal instants in two zones are equal datetimes: the zone is the key too


@functools.lru_cache(maxsize=1024)
def _iso_of(when: datetime, zone: Any) -> str:
    return when.isoformat()


def workload_json(w: Workload) -> dict[str, Any]:
    """The fields that are set (a workload holds a few of its fifty): a release-level move's commit point carries
    5,000 of them. None is never written (as in a row: an absent property reads back as the default), and a
    field at its default (False, 0, "", empty) is left out too."""
    out = {k: v for k, v in vars(w).items() if v is not None}
    for k, unset in _SET_DEFAULTS:
        v = out.get(k, _NO_DEFAULT)
        if v is unset or (v == unset and type(v) is type(unset)):  # `is`: False, 0, the states
            del out[k]
    for k in _TIMES.intersection(out):
        out[k] = _iso(out[k])
    out["state"] = w.state.value
    return out


def workload_from_json(doc: Mapping[str, Any]) -> Workload:
    values = dict(doc)
    values.update({k: datetime.fromisoformat(values[k]) for k in _TIMES if values.get(k) is not None})
    return Workload.of_fields(values.pop("name"), values)


# -- compressed JSON (a shard's pending changes; a release-wide decision's entries) ---------------------------
def packed(name: str, value: Any) -> dict[str, Any]:
    """JSON, deflated, as base64 text over as many properties as it needs."""
    raw = zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)
    return chunks(name, base64.b64encode(raw).decode("ascii"))


def unpacked(entity: Mapping[str, Any], name: str) -> Any:
    text = unchunk(entity, name)
    return json.loads(zlib.decompress(base64.b64decode(text))) if text else None


# -- heads --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """The message ids of one scope (a shard's workloads, or the release's own messages): de-duplication."""

    seen: tuple[str, ...] = ()
    processed: int = 0
    archive: bytes = b""
    archived: int = 0


SCOPE = RowCodec(Scope, merged=True, once={"archive": "archive", "archived": "archive"})


def scope_of(release: Release) -> Scope:
    return Scope(release.seen, release.processed, release.archive, release.archived)


@dataclass
class Head:
    """Shard k's head as read."""

    shard: int
    scope: Scope
    epoch: int  # the release-wide decision its rows show
    pending_epoch: int  # > epoch: a committed release-wide decision its rows do not show yet
    pending: dict[str, Workload]  # ... the workloads it changed, as it left them
    facts: ShardFacts | None
    after_met: tuple[str, ...]

    @staticmethod
    def of(entity: Mapping[str, Any], shard: int) -> Head:
        pending_epoch = entity.get("pending_epoch", 0)
        epoch = entity.get("epoch", 0)
        doc = unpacked(entity, "pending") if pending_epoch > epoch else None
        facts = json.loads(entity["facts"]) if entity.get("facts") else None
        return Head(
            shard=shard,
            scope=Scope(**SCOPE.read(entity)),
            epoch=epoch,
            pending_epoch=pending_epoch if doc is not None else 0,
            pending={name: workload_from_json(w) for name, w in (doc or {}).items()},
            facts=None if facts is None else ShardFacts.from_json(facts),
            after_met=tuple(entity.get("after_met", "").split()),
        )

    def lagging(self) -> bool:
        return self.pending_epoch > self.epoch


def head_properties(
    *, scope: Scope | None = None, facts: ShardFacts | None = None, after_met: tuple[str, ...] | None = None
) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if scope is not None:
        props.update(SCOPE.write(scope))
    if facts is not None:
        props["facts"] = json.dumps(facts.to_json(), separators=(",", ":"))
    if after_met is not None:
        props["after_met"] = " ".join(after_met)
    return props


def pending_properties(epoch: int, pending: Mapping[str, Workload]) -> dict[str, Any]:
    """A committed release-wide decision's changes to a shard, until the shard catches up."""
    return {"pending_epoch": epoch, **packed("pending", {n: workload_json(w) for n, w in pending.items()})}


def caught_up_properties(epoch: int) -> dict[str, Any]:
    return {"epoch": epoch, "pending_epoch": epoch, **chunks("pending", "")}


# -- summaries --------------------------------------------------------------------------------------------------
def items_of(workloads: list[Workload]) -> list[list[Any]]:
    """One short item per workload: what status counts and the releases list show."""
    return [[w.name, w.state.value, w.paused, w.traffic_percent, w.flight] for w in workloads]


def summary_properties(epoch: int, facts: ShardFacts, items: list[list[Any]]) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "facts": json.dumps(facts.to_json(), separators=(",", ":")),
        **chunks("items", json.dumps(items, separators=(",", ":"))),
    }


@dataclass(frozen=True)
class Summary:
    shard: int
    epoch: int
    facts: ShardFacts
    items: list[list[Any]]

    @staticmethod
    def of(entity: Mapping[str, Any]) -> Summary:
        return Summary(
            shard=int(entity["RowKey"].rsplit(".", 1)[1]),
            epoch=entity.get("epoch", 0),
            facts=ShardFacts.from_json(json.loads(entity["facts"])),
            items=json.loads(unchunk(entity, "items")),
        )


def summary_workloads(items: list[list[Any]]) -> list[Workload]:
    """Workloads as far as a summary tells them (state, pause, share, flight)."""
    return [Workload(name=n, state=WorkloadState(s), paused=p, traffic_percent=t, flight=f) for n, s, p, t, f in items]
