"""The reliability run's time-and-order block (issue 13), under the same faults as the rest of the run (host
SIGKILLs at random and at chosen steps, timers lost or delivered twice, which here includes deadlines, window
openings and dependency notices).

Dependant releases wait for one dependency (`after`) and for a change window (a denied period that ends some
seconds after apply); their testing deadline fires while they wait. Checked at the end:
- every dependant workload is promoted, 100% live, and moved exactly once (traffic trail 0 -> 100);
- no first move before the window opened or before the dependency was promoted;
- no deadline fired twice for one waiting period;
- every message injected here ends in an outcome it may end in.

A lost scheduled message is made good the way people would: a lost dependency notice by applying the plan
again (apply tells a dependant whose dependency is already promoted), a lost window opening by a re-sent
`window-open` (anyone may send one; it is re-decided, so it can never move what may not move).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

WINDOW_AFTER_APPLY = timedelta(seconds=8)


class TimeBlock:
    def __init__(self, run: Any, dependants: int = 3, workloads: int = 2):
        self.run, self.figures = run, run.figures
        stamp = datetime.now(UTC).strftime("%H%M%S")
        self.dependency = f"time-dep-{stamp}"
        self.dependants = [f"time-after-{stamp}-{i}" for i in range(dependants)]
        self.workloads = [f"w{j}" for j in range(workloads)]
        self.expect: dict[str, set] = {}  # id -> outcomes it may end in (kept apart from the main run's)
        self.nudges: Counter = Counter()
        self.deadlines_fired = 0

    # -- plans and messages --------------------------------------------------------------------------------
    def plan(self, name: str, *, after: bool) -> dict:
        doc: dict[str, Any] = {
            "release": name,
            "model": "single-step",
            "approvers": ["ana@contoso.com"],
            "operators": ["ops@contoso.com"],
            "workloads": [{"name": w, "assets": ["vm-1"]} for w in self.workloads],
        }
        if after:
            start = self.opens - timedelta(hours=1)
            doc.update(
                after=[self.dependency],
                deadlines={"testing": "1s"},
                on_deadline="notify",
                windows={
                    "timezone": "UTC",
                    "deny": [
                        {
                            "from": start.isoformat(timespec="seconds"),
                            "to": self.opens.isoformat(timespec="seconds"),
                            "reason": "reliability freeze",
                        }
                    ],
                },
            )
        return doc

    def publish(self, release: str, workload: str, type_: str, id_: str, expect: set | None = None, **data) -> None:
        body = json.dumps(self.run.event(type_, release, workload, id_, **data))
        copies = self.run.copies()
        for _ in range(copies):
            self.run.retry(lambda: self.run.queue.send_message(body))
        self.figures.deliveries += copies
        self.figures.duplicate_deliveries += copies - 1
        self.expect[id_] = expect or {"applied", "duplicate"}

    def states(self, release: str):
        return self.run.retry(lambda: self.run.store.get_release(release).release)

    def wait(self, releases: list[str], done, what: str, nudge=None, timeout: float = 300) -> None:
        """Until `done` holds for every workload; when nothing is queued for a while, `nudge` the rest (or, with
        nudge=False, stop waiting: what is missing was lost and is allowed to be)."""
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            pending = [(r, w) for r in releases for w in self.workloads if not done(self.states(r), w)]
            if not pending:
                return
            backlog = self.run.retry(lambda: self.run.queue.get_queue_properties().approximate_message_count)
            quiet = quiet + 1 if backlog == 0 else 0
            if nudge is False and quiet >= 12 and datetime.now(UTC) > self.applied + timedelta(seconds=5):
                return
            if nudge and quiet >= 8:
                nudge(pending)
                quiet = -10
            time.sleep(0.3)
        for release, w in pending[:2]:  # what happened to them, for whoever reads the failure
            for entry in self.run.retry(lambda release=release, w=w: self.run.store.list_history(release, w)):
                print(f"  {release}/{w} {entry.at} {entry.type} {entry.outcome}: {entry.reason}", flush=True)
        for line in self.run.hosts_logs()[-20:]:
            print(f"  host: {line}", flush=True)
        self.print_queues(pending)
        raise TimeoutError(f"time block, {what}: {len(pending)} workload(s) did not get there: {pending[:4]}")

    def print_queues(self, pending) -> None:
        """Where the pending workloads' messages are: still queued (visible or not), or dead-lettered."""
        from azure.storage.queue import QueueClient

        from shared.application.config import POISON_QUEUE

        wanted = {f'"release": "{r}", "workload": "{w}"' for r, w in pending}
        for message in self.run.retry(lambda: list(self.run.queue.peek_messages(max_messages=32))):
            if any(k in message.content for k in wanted):
                print(f"  queued (visible): {message.content[:300]}", flush=True)
        poison = QueueClient.from_connection_string(self.run.azurite.connection_string, POISON_QUEUE)
        for message in self.run.retry(lambda: list(poison.peek_messages(max_messages=32))):
            if any(k.replace('"', '\\"') in message.content for k in wanted):
                print(f"  dead-lettered: {message.content[:400]}", flush=True)
        print(
            f"  queue length (approximate, visible and invisible): "
            f"{self.run.queue.get_queue_properties().approximate_message_count}",
            flush=True,
        )

    # -- the block -----------------------------------------------------------------------------------------
    def drive(self, service) -> None:
        from shared.domain.plan import validate_plan

        self.service = service
        self.applied = datetime.now(UTC)
        self.opens = self.applied.replace(microsecond=0) + WINDOW_AFTER_APPLY
        self.run.retry(lambda: service.apply(validate_plan(self.plan(self.dependency, after=False))))
        for name in self.dependants:
            self.run.retry(lambda name=name: service.apply(validate_plan(self.plan(name, after=True))))
        for name in self.dependants:
            for w in self.workloads:
                self.publish(name, w, "asset-replicated", f"{name}-{w}-a", asset="vm-1")
        self.wait(self.dependants, lambda r, w: r.workloads[w].state == "testing", "testing")
        # the testing deadline (1s) fires, unless its timer was lost: either way at most once
        self.wait(
            self.dependants, lambda r, w: r.workloads[w].deadline_fired != "", "deadline", nudge=False, timeout=60
        )
        for name in self.dependants:
            for w in self.workloads:
                self.publish(name, w, "tests-passed", f"{name}-{w}-t")
        self.wait(self.dependants, lambda r, w: r.workloads[w].state == "ready", "ready (held)")
        # the pipeline tests what was replicated: its result comes after replication (several hosts on one
        # local queue keep no order between two messages sent back to back; a result that overtook the
        # replication would be rejected, as promote must, and the workload would wait for another run)
        for w in self.workloads:
            self.publish(self.dependency, w, "asset-replicated", f"{self.dependency}-{w}-a", asset="vm-1")
        self.wait([self.dependency], lambda r, w: r.workloads[w].state == "testing", "dependency testing")
        for w in self.workloads:
            self.publish(self.dependency, w, "tests-passed", f"{self.dependency}-{w}-t")
        self.wait([self.dependency], lambda r, w: r.workloads[w].state == "promoted", "dependency promoted")
        self.wait(
            self.dependants,
            lambda r, w: r.workloads[w].state == "promoted",
            "dependants promoted",
            nudge=self.make_good,
        )

    def make_good(self, pending) -> None:
        """Lost scheduled messages: re-apply a dependant still waiting for its dependency; re-send the window
        opening to a workload nothing holds any more."""
        from shared.domain.gates import waiting_for
        from shared.domain.plan import validate_plan

        for release, w in pending:
            state = self.states(release)
            gates = [g.gate for g in waiting_for(state, state.workloads[w], datetime.now(UTC))]
            if "after" in gates:
                self.nudges["dependency notice lost: plan applied again"] += 1
                self.run.retry(
                    lambda release=release: self.service.apply(validate_plan(self.plan(release, after=True)))
                )
            elif not gates:
                self.nudges["window opening lost: window-open re-sent"] += 1
                n = sum(self.nudges.values())
                self.publish(
                    release,
                    w,
                    "window-open",
                    f"{release}-{w}-open-{n}",
                    expect={"applied", "ignored", "duplicate"},
                    opens_ms=int(self.opens.timestamp() * 1000),
                )

    # -- accounting ----------------------------------------------------------------------------------------
    def account(self, stack) -> None:
        from shared.adapters.routing.local import LocalRouter
        from shared.application.config import ROUTING_TABLE

        seen: dict[str, Counter] = {}
        promoted_at = None
        for entry in self.run.store.list_history(self.dependency):
            seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
            if entry.to_state == "promoted" and entry.from_state != "promoted":
                promoted_at = max(promoted_at or entry.at, entry.at)
        for release in self.dependants:
            trails: dict[str, list[tuple[int, datetime]]] = {}
            fired: Counter = Counter()
            for entry in self.run.store.list_history(release):
                seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
                trail = trails.setdefault(entry.workload, [(0, entry.at)])
                if entry.traffic_percent is not None and entry.traffic_percent != trail[-1][0]:
                    trail.append((entry.traffic_percent, entry.at))
                if entry.type == "deadline" and entry.outcome == "applied":
                    fired[entry.workload] += 1
            for w in self.workloads:
                trail = trails.get(w, [])
                if [share for share, _ in trail] != [0, 100]:
                    self.figures.doubled_applies.append(f"{release}/{w}: traffic moved {[s for s, _ in trail]}")
                    continue
                moved_at = trail[1][1]
                if moved_at < self.opens:
                    self.figures.divergences.append(f"{release}/{w}: moved at {moved_at}, window opened {self.opens}")
                if promoted_at is None or moved_at < promoted_at:
                    self.figures.divergences.append(f"{release}/{w}: moved at {moved_at}, before {self.dependency}")
                if fired[w] > 1:
                    self.figures.divergences.append(f"{release}/{w}: the testing deadline fired {fired[w]} times")
                self.deadlines_fired += fired[w]
                state = self.states(release).workloads[w]
                live = LocalRouter(stack.table(ROUTING_TABLE), release, w).read()
                if (state.state, state.traffic_percent, live) != ("promoted", 100, 100):
                    self.figures.divergences.append(
                        f"{release}/{w}: {state.state} {state.traffic_percent}% live {live}%"
                    )
        for event_id, expect in self.expect.items():
            outcomes = seen.get(event_id)
            if not outcomes:
                self.figures.lost.append(event_id)
                continue
            if not set(outcomes) <= expect | {"duplicate"}:
                self.figures.divergences.append(f"{event_id}: {dict(outcomes)} not in {sorted(expect)}")
            if outcomes["applied"] > 1:
                self.figures.doubled_applies.append(event_id)
            self.figures.outcomes.update(outcomes)

    def rows(self) -> list[tuple[str, int]]:
        """Figures for the run's table."""
        return [
            ("time: releases waiting for a dependency and a window", len(self.dependants)),
            ("time: testing deadlines fired (at most once each)", self.deadlines_fired),
            ("time: lost scheduled messages made good", sum(self.nudges.values())),
        ]
