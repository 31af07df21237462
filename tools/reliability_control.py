"""The reliability run's control block (issue 27): stop the line and approval by quorum, under the same faults as
the rest of the run (hosts SIGKILLed at random and at chosen steps, every message delivered 1-3 times in any
order, timers lost or doubled).

- halt: releases flighting at 10%, one workload of each paused by an operator first; `halt` (an operator's
  override on the release) must pause every workload; healthy verdicts that arrive while halted move nothing;
  `unhalt` (an approver's) resumes what the halt paused and only that: the operator's pause holds.
- stop the line for everything: with the global halt row set (store.set_halt), releases applied start halted,
  every workload paused; tests pass and nothing moves until they are unhalted.
- quorum: `approval: {mode: manual, quorum: 2, separate_duties: true}`; an approver who paused and resumed the
  workload approves (rejected: separate duties), a second approves (1 of 2, nothing moves), a third approves
  (2 of 2: the move). Approvals are delivered 1-3 times: a duplicate never counts twice.

Checked at the end: every workload promoted, 100% live, traffic moved exactly 0 -> ... -> 100 once; no traffic
moved while its release was halted; every message injected here ends in an outcome it may end in.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
BOTH, SECOND = "bo@contoso.com", "cy@contoso.com"  # bo approves and operates; cy approves
HALTED = "halted: "  # shared/domain/machine/rules/halt.py: a pause's reason when a halt made it


class ControlBlock:
    def __init__(self, run: Any, releases: int = 2, workloads: int = 2):
        self.run, self.figures = run, run.figures
        stamp = datetime.now(UTC).strftime("%H%M%S")
        self.halting = [f"halt-{stamp}-{i}" for i in range(releases)]
        self.global_ = [f"stopped-{stamp}-{i}" for i in range(max(1, releases // 2))]
        self.quorum = [f"quorum-{stamp}-{i}" for i in range(releases)]
        self.workloads = [f"w{j}" for j in range(workloads)]
        self.expect: dict[str, set] = {}
        self.counts: Counter = Counter()
        self.halted_spans: dict[str, tuple[datetime, datetime]] = {}  # release -> (halted seen, unhalt sent)

    # -- plans and messages --------------------------------------------------------------------------------
    def plan(self, name: str, kind: str) -> dict:
        doc: dict[str, Any] = {
            "release": name,
            "approvers": [APPROVER],
            "operators": [OPERATOR],
            "workloads": [{"name": w, "assets": ["vm-1"]} for w in self.workloads],
        }
        if kind == "halt":
            doc.update(model="flight", flights=[{"percent": 10}, {"percent": 50}, {"percent": 100}])
        else:
            doc.update(model="single-step")
        if kind == "quorum":
            doc.update(
                approvers=[APPROVER, BOTH, SECOND],
                operators=[OPERATOR, BOTH],
                approval={"mode": "manual", "quorum": 2, "separate_duties": True},
            )
        return doc

    def publish(self, release: str, workload: str | None, type_: str, id_: str, expect: set | None = None, **data):
        body = json.dumps(self.run.event(type_, release, workload, id_, **data))
        copies = self.run.copies()
        for _ in range(copies):
            self.run.retry(lambda: self.run.queue.send_message(body))
        self.figures.deliveries += copies
        self.figures.duplicate_deliveries += copies - 1
        self.expect[id_] = expect or {"applied", "duplicate"}

    def override(self, release: str, workload: str | None, action: str, actor: str, id_: str, expect=None) -> None:
        self.publish(release, workload, "override", id_, expect, action=action, actor=actor, reason=f"control {action}")

    def states(self, release: str):
        return self.run.retry(lambda: self.run.store.get_release(release).release)

    def wait(self, releases: list[str], done, what: str, timeout: float = 300, nudge=None) -> None:
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            pending = []
            for r in releases:
                state = self.states(r)
                pending += [(r, w) for w in self.workloads if not done(state, state.workloads[w])]
            if not pending:
                return
            backlog = self.run.retry(lambda: self.run.queue.get_queue_properties().approximate_message_count)
            quiet = quiet + 1 if backlog == 0 else 0
            if nudge and quiet >= 8:
                nudge(pending)
                quiet = -10
            time.sleep(0.3)
        for release, w in pending[:2]:
            for entry in self.run.retry(lambda release=release, w=w: self.run.store.list_history(release, w)):
                print(f"  {release}/{w} {entry.at} {entry.type} {entry.outcome}: {entry.reason}", flush=True)
        raise TimeoutError(f"control block, {what}: {len(pending)} workload(s) did not get there: {pending[:4]}")

    def settle(self, seconds: float = 3.0) -> None:
        """Until nothing is queued (visible or not) for `seconds`: what was sent has been handled."""
        quiet_since = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.run.retry(lambda: self.run.queue.get_queue_properties().approximate_message_count) == 0:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= seconds:
                    return
            else:
                quiet_since = None
            time.sleep(0.3)

    def verdicts(self, releases: list[str], flight: int, tag: str) -> None:
        for r in releases:
            for w in self.workloads:
                self.publish(r, w, "flight-healthy", f"{r}-{w}-h{flight}{tag}", {"applied", "ignored"}, flight=flight)

    def resend_verdicts(self, flight: int):
        """A lost bake timer is made good by monitoring repeating its verdict (as the main run does)."""

        def nudge(pending) -> None:
            for r, w in pending:
                if r not in self.halting:
                    continue
                self.counts["verdicts re-sent"] += 1
                n = self.counts["verdicts re-sent"]
                self.publish(
                    r, w, "flight-healthy", f"{r}-{w}-h{flight}-again-{n}", {"applied", "ignored"}, flight=flight
                )

        return nudge

    # -- the block -----------------------------------------------------------------------------------------
    def drive(self, service) -> None:
        from shared.domain.plan import validate_plan
        from shared.domain.times import iso_s

        store = self.run.store
        for name in self.halting:
            self.run.retry(lambda name=name: service.apply(validate_plan(self.plan(name, "halt"))))
        for name in self.quorum:
            self.run.retry(lambda name=name: service.apply(validate_plan(self.plan(name, "quorum"))))
        # stop the line for everything: releases applied now start halted
        self.run.retry(
            lambda: store.set_halt({"by": OPERATOR, "reason": "stop the line", "at": iso_s(datetime.now(UTC))})
        )
        try:
            for name in self.global_:
                self.run.retry(lambda name=name: service.apply(validate_plan(self.plan(name, "global"))))
        finally:
            self.run.retry(lambda: store.set_halt(None))
        for name in self.global_:
            state = self.states(name)
            if not (state.halted_by and all(w.paused for w in state.workloads.values())):
                self.figures.divergences.append(f"{name}: applied while everything was halted, yet not halted")
            self.counts["workloads paused by the halt of everything"] += sum(w.paused for w in state.workloads.values())
        every = self.halting + self.quorum + self.global_
        for r in every:
            for w in self.workloads:
                self.publish(r, w, "asset-replicated", f"{r}-{w}-a", asset="vm-1")
        # everything halted holds even replication's move to testing: those wait for the unhalt (global_phase)
        self.wait(self.halting + self.quorum, lambda s, w: w.state != "replicating", "replicated")
        for r in self.halting + self.quorum:
            for w in self.workloads:
                self.publish(r, w, "tests-passed", f"{r}-{w}-t")
        self.wait(self.halting, lambda s, w: w.state == "flighting" and w.flight == 1, "halt: flight 1")
        self.wait(self.quorum, lambda s, w: w.state == "ready", "ready")
        self.halt_phase()
        self.quorum_phase()
        self.global_phase()
        self.wait(every, lambda s, w: w.state == "promoted", "promoted", nudge=self.resend_verdicts(3))

    def halt_phase(self) -> None:
        first = self.workloads[0]
        for r in self.halting:  # an operator's own pause, before the halt: the unhalt must leave it alone
            self.override(r, first, "pause", OPERATOR, f"{r}-{first}-pause")
        self.wait(self.halting, lambda s, w: w.paused or w.name != first, "operator's pause")
        for r in self.halting:
            self.override(r, None, "halt", OPERATOR, f"{r}-halt", {"applied", "ignored"})
        self.wait(self.halting, lambda s, w: s.halted_by is not None and w.paused, "halted")
        seen = datetime.now(UTC)
        self.counts["releases halted"] += len(self.halting)
        self.counts["workloads paused by a halt"] += len(self.halting) * (len(self.workloads) - 1)
        self.verdicts(self.halting, 1, "")  # verdicts while halted: recorded, nothing moves
        self.settle()
        for r in self.halting:
            self.halted_spans[r] = (seen, datetime.now(UTC))
            self.override(r, None, "unhalt", APPROVER, f"{r}-unhalt", {"applied", "ignored"})
        self.wait(self.halting, lambda s, w: s.halted_by is None and (not w.paused or w.name == first), "unhalted")
        self.settle()
        for r in self.halting:  # the halt did not pause the operator's workload: the unhalt did not resume it
            w = self.states(r).workloads[first]
            if not w.paused or (w.paused_reason or "").startswith(HALTED):
                self.figures.divergences.append(f"{r}/{first}: resumed by an unhalt that had not paused it")
            else:
                self.counts["operator's pauses kept through an unhalt"] += 1
            self.override(r, first, "resume", OPERATOR, f"{r}-{first}-resume")
        self.wait(self.halting, lambda s, w: not w.paused, "resumed")
        for flight in (1, 2, 3):
            target = (lambda s, w, f=flight: w.state == "promoted" or w.flight > f) if flight < 3 else None
            self.verdicts(self.halting, flight, "-after")
            if target:
                self.wait(self.halting, target, f"halt: past flight {flight}", nudge=self.resend_verdicts(flight))

    def quorum_phase(self) -> None:
        for r in self.quorum:
            for w in self.workloads:
                self.override(r, w, "pause", BOTH, f"{r}-{w}-bo-pause")
        self.wait(self.quorum, lambda s, w: w.paused, "bo's pause")
        for r in self.quorum:
            for w in self.workloads:
                self.override(r, w, "resume", BOTH, f"{r}-{w}-bo-resume")
        self.wait(self.quorum, lambda s, w: not w.paused, "bo's resume")
        for r in self.quorum:
            for w in self.workloads:
                self.override(r, w, "approve", BOTH, f"{r}-{w}-bo-approve", {"rejected"})
                self.override(r, w, "approve", APPROVER, f"{r}-{w}-ana-approve")
        self.wait(self.quorum, lambda s, w: len(w.approvals) == 1, "ana's approval")
        self.settle()
        for r in self.quorum:  # one approval of two, and an operator's that does not count: nothing moved
            for name, w in self.states(r).workloads.items():
                if w.traffic_percent or w.approved or [a["by"] for a in w.approvals] != [APPROVER]:
                    self.figures.divergences.append(
                        f"{r}/{name}: moved or approved before a quorum: {w.traffic_percent}% {w.approvals}"
                    )
                else:
                    self.counts["moves held at 1 of 2 approvals"] += 1
            for w in self.workloads:
                self.override(r, w, "approve", SECOND, f"{r}-{w}-cy-approve")

    def global_phase(self) -> None:
        self.settle()
        for r in self.global_:  # replicated while everything was halted: nothing may have moved on
            for name, w in self.states(r).workloads.items():
                if w.traffic_percent or not w.paused or w.state != "replicating":
                    self.figures.divergences.append(f"{r}/{name}: moved on while everything was halted ({w.state})")
                else:
                    self.counts["workloads held by the halt of everything"] += 1
            self.halted_spans[r] = (datetime.min.replace(tzinfo=UTC), datetime.now(UTC))
            self.override(r, None, "unhalt", APPROVER, f"{r}-unhalt", {"applied", "ignored"})
        self.wait(self.global_, lambda s, w: not w.paused and w.state == "testing", "unhalted: testing")
        for r in self.global_:
            for w in self.workloads:
                self.publish(r, w, "tests-passed", f"{r}-{w}-t")

    # -- accounting ----------------------------------------------------------------------------------------
    def account(self, stack) -> None:
        from shared.adapters.routing.local import LocalRouter
        from shared.application.config import ROUTING_TABLE

        seen: dict[str, Counter] = {}
        applied: Counter = Counter()  # (id, workload): a halt or unhalt is one decision with an entry per workload
        for release in self.halting + self.quorum + self.global_:
            trails: dict[str, list[tuple[int, datetime]]] = {}
            for entry in self.run.store.list_history(release):
                seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
                applied[(entry.event_id, entry.workload)] += entry.outcome == "applied"
                if entry.workload is None:
                    continue
                trail = trails.setdefault(entry.workload, [(0, entry.at)])
                if entry.traffic_percent is not None and entry.traffic_percent != trail[-1][0]:
                    trail.append((entry.traffic_percent, entry.at))
            want = [0, 10, 50, 100] if release in self.halting else [0, 100]
            span = self.halted_spans.get(release)
            for w in self.workloads:
                trail = trails.get(w, [(0, None)])
                if [share for share, _ in trail] != want:
                    self.figures.doubled_applies.append(f"{release}/{w}: traffic moved {[s for s, _ in trail]}")
                if span and any(span[0] <= at <= span[1] for _, at in trail[1:]):
                    self.counts["moves while halted"] += 1
                    self.figures.divergences.append(f"{release}/{w}: traffic moved while halted: {trail}")
                state = self.states(release)
                live = LocalRouter(stack.table(ROUTING_TABLE), release, w).read()
                if (state.workloads[w].state, state.workloads[w].traffic_percent, live) != ("promoted", 100, 100):
                    self.figures.divergences.append(
                        f"{release}/{w}: {state.workloads[w].state} {state.workloads[w].traffic_percent}% live {live}%"
                    )
                if release in self.quorum:
                    approvers = sorted(a["by"] for a in state.workloads[w].approvals)
                    if approvers != sorted([APPROVER, SECOND]):
                        self.figures.divergences.append(f"{release}/{w}: approved by {approvers}")
                    else:
                        self.counts["moves by a quorum of 2"] += 1
        for event_id, expect in self.expect.items():
            outcomes = seen.get(event_id)
            if not outcomes:
                self.figures.lost.append(event_id)
                continue
            if not set(outcomes) <= expect | {"duplicate"}:
                self.figures.divergences.append(f"{event_id}: {dict(outcomes)} not in {sorted(expect)}")
            if any(n > 1 for (ident, _), n in applied.items() if ident == event_id):
                self.figures.doubled_applies.append(event_id)
            self.figures.outcomes.update(outcomes)
        self.figures.unique_ids += len(self.expect)

    def rows(self) -> list[tuple[str, int]]:
        c = self.counts
        return [
            ("halt: releases halted (an operator's override)", c["releases halted"]),
            ("  workloads paused by a halt", c["workloads paused by a halt"]),
            ("  operator's pauses kept through an unhalt", c["operator's pauses kept through an unhalt"]),
            (
                "halt of everything: workloads of releases applied meanwhile, paused",
                c["workloads paused by the halt of everything"],
            ),
            ("  of them held where they were until unhalted", c["workloads held by the halt of everything"]),
            ("**halt: traffic moved while halted**", c["moves while halted"]),
            (
                "quorum: moves held at 1 of 2 approvals (one approver also operated)",
                c["moves held at 1 of 2 approvals"],
            ),
            ("quorum: moves by 2 distinct approvers", c["moves by a quorum of 2"]),
            ("control: healthy verdicts re-sent (bake timer lost)", c["verdicts re-sent"]),
        ]
