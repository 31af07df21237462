"""Fakes that implement the ports (no patching): an in-memory store, routers, scheduler, clock."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.application.ports import Snapshot
from shared.application.service import PromotionService
from shared.domain.errors import ConflictError, ReleaseExists, RoutingError, SeenElsewhere, UnknownRelease
from shared.domain.machine import digest
from shared.domain.machine.scope import ShardFacts, shard_facts
from shared.domain.model import HistoryEntry, Release, ReleaseState
from shared.domain.routing import Change

T0 = datetime(2026, 11, 26, 22, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0):
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (int,),
    "int | None": (int, type(None)),
    "str": (str,),
    "str | None": (str, type(None)),
    "datetime": (datetime,),
    "datetime | None": (datetime, type(None)),
    "dict[str, bool]": (dict,),
}


def check_types(record) -> None:
    """As strict as Table Storage's typed properties: a bool field holds a bool (not None, not 0), an int an int,
    a time an aware datetime, a state or an outcome its enum. Fields of other types are the store test's job."""
    from dataclasses import fields

    from shared.domain.model import Outcome, WorkloadState

    for f in fields(record):
        value, kind = getattr(record, f.name), str(f.type)
        if kind in _TYPES:
            ok = isinstance(value, _TYPES[kind]) and not (isinstance(value, bool) and bool not in _TYPES[kind])
            assert ok, f"{type(record).__name__}.{f.name} = {value!r}: the store keeps a {kind}"
            if isinstance(value, datetime):
                assert value.tzinfo is not None, f"{type(record).__name__}.{f.name}: a time must be UTC-aware"
        elif kind in ("WorkloadState", "Outcome"):
            assert isinstance(value, WorkloadState if kind == "WorkloadState" else Outcome), f.name


class MemoryStore:
    """ReleaseStore in memory with the same contract as the table store: versions guard commits. With
    `shard_size`, a large release is kept in shards as the table store keeps it: a message about one workload
    may read its shard alone (a partial release), each shard keeps its workloads' message ids, and `look`
    answers from each shard's facts as last committed."""

    def __init__(self, shard_size: int | None = None):
        self.releases: dict[str, tuple[Release, int]] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        self.markers: set[tuple[str, str]] = set()
        self.commits = 0
        self.marker_reads: list[str] = []  # ids looked up by seen_before (each a read on the real store)
        self.fail_next_commits = 0  # simulate concurrent writers: the next N commits conflict
        self.marker_outcomes: dict[tuple[str, str], str] = {}  # outcomes kept on markers (quiet lag reports)
        self.shard_size = shard_size
        self.scopes: dict[tuple[str, int | None], tuple] = {}  # (release, shard or None) -> its ids window
        self.facts: dict[tuple[str, int], ShardFacts] = {}  # each shard's facts as last committed
        self.states: dict[str, ReleaseState] = {}  # each release's state as its last whole commit left it
        self.reads: list[str] = []  # "whole" / "shard" / "look", one per read
        self.archived: dict[str, HistoryEntry] = {}  # release -> the entry of its archiving

    def create_release(self, release: Release) -> None:
        if release.name in self.releases:
            raise ReleaseExists(release.name)
        self.releases[release.name] = (release, 0)
        self.history[release.name] = []
        self.states[release.name] = release.state
        for k in range(self._shards(release)):
            self.facts[(release.name, k)] = shard_facts(self._part(release, k), T0)

    def _shards(self, release: Release) -> int:
        size = self.shard_size or max(1, len(release.plan.workloads))
        return max(1, -(-len(release.plan.workloads) // size))

    def _shard_of(self, release: Release, workload: str) -> int | None:
        names = [w.name for w in release.plan.workloads]
        return names.index(workload) // (self.shard_size or len(names)) if workload in names else None

    def _part(self, release: Release, shard: int) -> Release:
        names = [w.name for w in release.plan.workloads if self._shard_of(release, w.name) == shard]
        workloads = {n: release.workloads[n] for n in names}
        return release.evolve(workloads=workloads, others=len(release.workloads) - len(workloads))

    def _with_scope(self, release: Release, shard: int | None) -> Release:
        """The release with the ids window of the scope a message belongs to (its workload's shard, or the
        release itself)."""
        if shard is None:
            return release
        seen, processed, archive, archived = self.scopes.get((release.name, shard), ((), 0, b"", 0))
        return release.evolve(seen=seen, processed=processed, archive=archive, archived=archived)

    def get_release(self, name: str, workload: str | None = None, *, whole: bool = True) -> Snapshot:
        if name not in self.releases:
            raise UnknownRelease(name)
        release, version = self.releases[name]
        one = self._shards(release) == 1  # a release of one shard keeps every id in one window, its own
        shard = self._shard_of(release, workload) if workload is not None and not one else None
        scoped = self._with_scope(release, shard)
        if not whole and shard is not None:
            self.reads.append("shard")
            return Snapshot(release=self._part(scoped, shard), version=(version, shard), one_scope=False)
        self.reads.append("whole")
        return Snapshot(release=scoped, version=(version, shard), one_scope=one)

    def look(self, snapshot: Snapshot) -> tuple[ReleaseState | None, list[ShardFacts]]:
        self.reads.append("look")
        name, (_, shard) = snapshot.release.name, snapshot.version
        release = self.releases[name][0]
        return self.states[name], [self.facts[(name, k)] for k in range(self._shards(release)) if k != shard]

    def catch_up(self, snapshot: Snapshot) -> bool:
        return False

    def seen_before(self, name: str, event_id: str) -> bool:
        self.marker_reads.append(event_id)
        return (name, event_id) in self.markers

    def commit(self, snapshot: Snapshot, decision, event_id: str | None, now=None) -> None:
        name = snapshot.release.name
        for workload in decision.release.workloads.values():  # what Table Storage would refuse or lose
            check_types(workload)
        for entry in decision.entries:
            check_types(entry)
        if self.fail_next_commits:
            self.fail_next_commits -= 1
            raise ConflictError("simulated concurrent writer")
        stored, version = self.releases[name]
        read_version, shard = snapshot.version
        if version != read_version:
            raise ConflictError(f"{name} changed")
        if event_id is not None and (name, event_id) in self.markers:
            raise SeenElsewhere(f"{event_id} already recorded")
        after = decision.release
        if after.partial:  # one shard: its workloads
            new = stored.evolve(workloads={**stored.workloads, **after.workloads})
        else:
            self.states[name] = after.state
            new = after
        if shard is not None:  # the message's ids are its shard's; the release keeps its own
            self.scopes[(name, shard)] = (after.seen, after.processed, after.archive, after.archived)
            new = new.evolve(
                seen=stored.seen, processed=stored.processed, archive=stored.archive, archived=stored.archived
            )
        self.releases[name] = (new, version + 1)
        for k in range(self._shards(new)):
            self.facts[(name, k)] = shard_facts(self._part(new, k), now or T0)
        self.history[name].extend(decision.entries)
        if event_id is not None:
            self.markers.add((name, event_id))
            for quiet in getattr(decision, "quiet", []):
                self.marker_outcomes[(name, event_id)] = quiet.outcome
        self.commits += 1

    def update_plan(self, snapshot: Snapshot, plan, entry: HistoryEntry | None = None) -> None:
        release, version = self.releases[snapshot.release.name]
        if version != snapshot.version[0]:
            raise ConflictError("changed")
        self.releases[release.name] = (release.evolve(plan=plan), version + 1)
        if entry is not None:
            check_types(entry)
            self.history[release.name].append(entry)

    def archive_release(self, snapshot: Snapshot, entry: HistoryEntry) -> bool:
        release, version = self.releases[snapshot.release.name]
        if version != snapshot.version[0]:
            raise ConflictError("changed")
        if release.name in self.archived:
            return False
        check_types(entry)
        self.releases[release.name] = (release, version + 1)
        self.archived[release.name] = entry
        self.history[release.name].append(entry)
        return True

    def add_dependant(self, snapshot: Snapshot, dependant: str) -> None:
        release, version = self.releases[snapshot.release.name]
        if version != snapshot.version[0]:
            raise ConflictError("changed")
        dependants = tuple(dict.fromkeys(release.dependants + (dependant,)))
        self.releases[release.name] = (release.evolve(dependants=dependants), version + 1)

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        return [e for e in self.history[name] if workload is None or e.workload == workload]

    def list_releases(self) -> list[str]:
        return sorted(self.releases)

    def get_halt(self) -> dict | None:
        return getattr(self, "halt", None)

    def set_halt(self, halt: dict | None) -> None:
        self.halt = halt


class FakeNetwork:
    """Where local-style routers keep their share, so tests can compare routing with state.

    As strict as the network it stands for: a router may achieve another share than asked (`achieves`), and
    every revocation call is counted (`revocations`), not folded into one, so tests see what the service did.
    """

    def __init__(self):
        self.shares: dict[tuple[str, str], int] = {}
        self.writes: list[tuple[str, str, int]] = []
        self.revocations: list[tuple[str, object]] = []  # every revoke() call: (release, config)
        self.fail_next = 0
        self.broken: set[str] = set()  # workloads whose routing calls fail
        self.revoke_failures = 0  # the next N revocations fail as Azure refuses a rule
        self.refused: dict[str, str] = {}  # workload -> why its routing refuses shares above 0% (a foreign member)
        # workload -> what its router really achieves for an asked share (default: exactly the share asked)
        self.achieves: dict[str, Callable[[int], int]] = {}
        # Azure's answer to every routing write while it holds (None: writes go through): e.g. 503 during an
        # outage, 409 while a gateway is being updated (transient), 400 for a request it will never accept
        self.answer: Callable[[], int | None] = lambda: None

    @property
    def revoked(self) -> list[str]:
        """The releases whose access was revoked, each once (the revocations are idempotent on a network)."""
        return list(dict.fromkeys(release for release, _ in self.revocations))

    def router(self, release: str, workload: str, routing) -> FakeRouter:
        # a real factory builds the provider the workload's routing config names: it must be that config
        assert getattr(routing, "provider", None), f"{release}/{workload}: a router needs the routing config"
        return FakeRouter(self, release, workload)

    def revoke(self, release: str, config) -> list[Change]:
        assert getattr(config, "rule", None), f"{release}: revoke needs the plan's revoke_access config"
        if self.revoke_failures:
            self.revoke_failures -= 1
            raise RoutingError(f"network security group: priority {config.priority} clashes (SecurityRuleConflict)")
        first = release not in self.revoked
        self.revocations.append((release, config))
        return [Change(f"fake access {release}", config.rule, "allowed", "denied")] if first else []

    def problems(self, release: str, config) -> list[str]:
        return []


@dataclass
class FakeRouter:
    network: FakeNetwork
    release: str
    workload: str

    def read(self) -> int:
        return self.network.shares.get((self.release, self.workload), 0)

    def apply(self, percent: int) -> list[Change]:
        if self.problems([percent]):
            raise RoutingError("; ".join(self.problems([percent])))
        if self.workload in self.network.broken:
            raise RuntimeError(f"{self.workload}: routing API unavailable")
        if self.network.fail_next:
            self.network.fail_next -= 1
            raise RuntimeError("network unavailable")
        status = self.network.answer()
        if status is not None:  # as the providers raise it (routing/_arm.py): a RoutingError from the SDK's error
            from azure.core.exceptions import HttpResponseError

            cause = HttpResponseError(message=f"the service answered {status}")
            cause.status_code = status
            raise RoutingError(f"fake {self.release}/{self.workload}: answered {status}") from cause
        before = self.read()
        # a router may end up elsewhere than asked (a pool that cannot take every address): it wrote, then says so
        achieved = self.network.achieves.get(self.workload, lambda asked: asked)(percent)
        if before != achieved:
            self.network.shares[(self.release, self.workload)] = achieved
            self.network.writes.append((self.release, self.workload, achieved))
        if achieved != percent:
            raise RoutingError(f"{self.release}/{self.workload}: asked for {percent}%, the router achieved {achieved}%")
        return (
            []
            if before == achieved
            else [Change(f"fake {self.release}/{self.workload}", "share", str(before), str(achieved))]
        )

    def diff(self, percent: int) -> list[Change]:
        before = self.read()
        return (
            []
            if before == percent
            else [Change(f"fake {self.release}/{self.workload}", "share", str(before), str(percent))]
        )

    def problems(self, percents: list[int]) -> list[str]:
        why = self.network.refused.get(self.workload)
        return [f"{self.workload}: {why} at {p}%" for p in percents if p and why]


@dataclass
class FakeScheduler:
    scheduled: list[tuple[dict, datetime]] = field(default_factory=list)

    def schedule(self, event: dict, due: datetime) -> None:
        self.scheduled.append((copy.deepcopy(event), due))

    def due(self, now: datetime) -> list[dict]:
        ready = [e for e, d in self.scheduled if d <= now]
        self.scheduled = [(e, d) for e, d in self.scheduled if d > now]
        return ready


@dataclass
class FakeDeadLetters:
    letters: list[tuple[bytes, str]] = field(default_factory=list)

    def dead_letter(self, body: bytes, reason: str, delivery_count: int | None = None) -> None:
        assert isinstance(body, bytes) and body, "the message itself is kept, as it came"
        assert isinstance(reason, str) and reason, "with its reason"
        self.letters.append((body, reason))


@dataclass
class FakeDecommissioner:
    """Source servers as a set of names that are on; strict like Azure: turning off what is off writes nothing."""

    on: set[tuple[str, str]] = field(default_factory=set)  # (release, workload) whose source is still running
    off: list[tuple[str, str]] = field(default_factory=list)  # every power-off actually carried out, in order
    down: bool = False  # the provider is unreachable
    requests: list = field(default_factory=list)

    def decommission(self, release: str, request) -> list[str]:
        self.requests.append((release, request))
        if self.down:
            raise ConnectionError("decommission provider unreachable")
        key = (release, request.workload)
        if key in self.off:
            return []
        self.off.append(key)
        self.on.discard(key)
        return [f"source of {request.workload} powered off"]


@dataclass
class World:
    """A service wired to fakes, with handles on each fake."""

    service: PromotionService
    store: MemoryStore
    network: FakeNetwork
    scheduler: FakeScheduler
    dead: FakeDeadLetters
    clock: FakeClock
    decommissioner: FakeDecommissioner = field(default_factory=FakeDecommissioner)


def world(clock: FakeClock | None = None, shard_size: int | None = None) -> World:
    """`shard_size`: keep releases in shards of this many workloads (a message about one workload is then
    decided on its shard when it can be)."""
    clock = clock or FakeClock()
    store, network, scheduler, dead = MemoryStore(shard_size), FakeNetwork(), FakeScheduler(), FakeDeadLetters()
    decommissioner = FakeDecommissioner()
    service = PromotionService(
        store=store,
        routers=network.router,
        scheduler=scheduler,
        revoker=network,
        dead_letters=dead,
        clock=clock,
        decommissioner=decommissioner,
    )
    return World(service, store, network, scheduler, dead, clock, decommissioner)


def event(type_: str, release: str, workload: str | None, id: str, time: datetime | None = None, **data) -> str:
    import json

    doc = {
        "specversion": "1.0",
        "id": id,
        "source": "test",
        "type": type_,
        "data": {"release": release, **({"workload": workload} if workload else {}), **data},
    }
    if time is not None:
        doc["time"] = time.isoformat()
    return json.dumps(doc)


def seen(release: Release, event_id: str) -> bool:
    return digest(event_id) in release.seen
