"""Azure Migrate's side of a release, read (contract v3 §16): every round, for each release whose plan has
`source: {provider: azure-migrate}`, what the vault says of the operations promote started (test migration,
clean-up, migration, completion) becomes a `migration-job` message, a machine in delta sync becomes its
asset's `asset-replicated`, and the time since a workload's oldest last recovery point its `replication-lag`
(the data-sync gate, §8), so a team on Azure Migrate sends nothing by hand. Ids are deterministic: two
rounds racing publish the same ids and the orchestrator de-duplicates them; a lag report's id holds its
round's time (see _lags)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain import messages as m
from shared.domain.migration import FIELDS, MachineState, machines_of, started_at
from shared.domain.model import Op, ReleaseState, WorkloadState
from shared.domain.own_messages import MAX_JOB_TEXT
from shared.domain.times import ms

SOURCE = "promote/azure-migrate"
SYNCING = (WorkloadState.REPLICATING, WorkloadState.TESTING, WorkloadState.READY)
# a report measured from the same recovery point as the last, give or take clocks that disagree (the host that
# records a report clamps its time to its own clock)
SAME_POINT = timedelta(seconds=5)
log = logging.getLogger("promote.migrate")


@dataclass
class Round:
    releases: int = 0
    published: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _replicated(release: Any, states: dict[str, MachineState], now: datetime) -> list[dict]:
    out = []
    for w in release.workloads.values():
        if w.state != WorkloadState.REPLICATING:
            continue
        for asset, machine in zip(w.assets, machines_of(release, w.name), strict=True):
            state = states.get(machine.lower())
            if not w.assets[asset] and state is not None and state.replicated:
                data = {"release": release.name, "workload": w.name, "asset": asset}
                key = f"am:{release.name}:{w.name}:{asset}:replicated:{w.attempt}"
                out.append(m.new_event("asset-replicated", data, id=key, source=SOURCE, time=now))
    return out


def _lags(release: Any, workloads: list[Any], states: dict[str, MachineState], now: datetime) -> list[dict]:
    """A workload's replication lag (§8) as its migration items say it: the time since the oldest of its
    machines' last recovery points, measured now. Sent when a recovery point is new and, for a data-sync gate,
    again once the last report is half max_age old (a stalled replication closes the gate; reports that change
    nothing leave no history entry). The id holds the round's time: a report two watchers make at once is
    recorded twice, quietly (the later measurement wins), where one id would leave a `duplicate` entry."""
    out = []
    for w in workloads:
        found = [states.get(n.lower()) for n in machines_of(release, w.name)]
        # a migrated machine's last recovery point is its final replication's, for good: no lag (a partner's
        # failed migration is retried once the data-sync gate lets it)
        points = [s.recovery_point if s is not None else None for s in found if s is None or not s.migrated]
        if None in points:
            continue  # a lag for only some machines would hide the others: report nothing (the gate holds)
        oldest = min((p for p in points if p is not None), default=None)  # None: every machine migrated
        point = now if oldest is None else min(oldest, now)  # a point in the future (another clock) is no lag
        sync = release.plan.workload(w.name).data_sync
        if w.lag_at is not None and w.lag_seconds is not None:
            reported = w.lag_at - timedelta(seconds=w.lag_seconds)  # the point the last report measured from
            same_point = abs(min(point, w.lag_at) - reported) < SAME_POINT
            if same_point and (sync is None or (now - w.lag_at).total_seconds() < sync.max_age / 2):
                continue  # nothing new to say
        data = {"release": release.name, "workload": w.name, "lag_seconds": round((now - point).total_seconds(), 3)}
        key = f"am-lag:{release.name}:{w.name}:{ms(oldest) if oldest else 'migrated'}:{ms(now)}"
        out.append(m.new_event(m.LAG_TYPE, data, id=key[:256], source=SOURCE, time=now))
    return out


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= MAX_JOB_TEXT else text[: MAX_JOB_TEXT - 1] + "\u2026"


def events_for(release: Any, migrator: Any, now: datetime) -> list[dict]:
    """The events one release's vault calls for, given its recorded state."""
    vault = release.plan.source.vault
    # replicated and lag: the workloads before their migration (after it, replication is over)
    syncing = [w for w in release.workloads.values() if w.state in SYNCING and w.migration != Op.SUCCEEDED]
    states = {s.name.lower(): s for s in migrator.machines(vault)} if syncing else {}
    out = _replicated(release, states, now) + _lags(release, syncing, states, now)
    for w in release.workloads.values():
        for op, (state_field, job_field) in FIELDS.items():
            at = started_at(w, op)
            if getattr(w, state_field) != Op.RUNNING or at is None:
                continue
            seen = migrator.status(vault, machines_of(release, w.name), op)
            # as much as a report may carry (every failed machine's error joined may be longer): a report refused
            # as invalid would leave the operation running for ever
            job, error = _cut(seen.job), _cut(seen.error)
            if seen.state == "running" and (job is None or job == getattr(w, job_field)):
                continue  # nothing new to say
            data = {"release": release.name, "workload": w.name, "op": op, "started_ms": ms(at)}
            data.update(state=seen.state, job=job, error=error)
            key = f"am:{release.name}:{w.name}:{op}:{ms(at)}:{seen.state}:{job}"
            out.append(m.new_event(m.JOB_TYPE, data, id=key[:256], source=SOURCE, time=now))
    return out


def poll(
    store: Any, migrator: Any, publish: Callable[[dict], None], now: datetime, skip: set[str] | None = None
) -> Round:
    """One round; a vault that cannot be read is a failure of the round (reported), not of other releases.
    `skip`: names of releases known to have no source (a release's source is fixed once it runs); the round
    adds those it finds, so a host that keeps the set reads each such release once."""
    result = Round()
    for name in store.list_releases():
        if skip is not None and name in skip:
            continue
        release = store.get_release(name).release
        if getattr(release.plan, "source", None) is None:
            if skip is not None:
                skip.add(name)
            continue
        if release.state == ReleaseState.ABORTED:
            continue
        result.releases += 1
        try:
            events = events_for(release, migrator, now)
        except Exception as exc:  # the next round tries again
            result.failures.append(f"{name}: {exc}")
            continue
        for event in events:
            publish(event)
            result.published.append(event)
    return result


WATCH_SECONDS = 2.0  # locally, how often the vault is read while a release has an Azure Migrate source


def alongside(judge: Callable[[], Any] | None, stack: Any) -> Callable[[], Any]:
    """The local host's judge round followed by a watcher round (`promote run` reads the vault, as the timer
    function does on Azure), at most every WATCH_SECONDS; while a release has a source, the next round is due
    within WATCH_SECONDS. Releases without a source are read once per host. A host given no judge (judging
    done by other processes) still watches the vault."""
    import time

    from shared.application.judge import JudgeRun

    without_source: set[str] = set()
    last = [float("-inf")]

    def both() -> Any:
        run = judge() if judge is not None else JudgeRun()
        if time.monotonic() - last[0] < WATCH_SECONDS:
            return run
        last[0] = time.monotonic()
        now = stack.clock.now()
        watched = poll(stack.store, stack.migrator, stack.publisher.publish, now, without_source)
        if watched.failures:
            log.warning("Azure Migrate watcher: %s", "; ".join(watched.failures))
        if watched.releases:
            run.published.extend(e["id"] for e in watched.published)
            due = now + timedelta(seconds=WATCH_SECONDS)
            run.next_due = due if run.next_due is None else min(run.next_due, due)
        return run

    return both
