"""`promote demo`: the three models end to end on the local stack, driven by simulated migration tools,
test pipelines, monitoring and operators, through the same queue and function the real thing uses; then an
Azure Migrate cutover (demo_migrate.py) and a wave of 200 workloads (demo_wave.py)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from shared.application.views import status_json
from shared.domain.messages import new_event
from shared.domain.model import GateName, WorkloadState
from shared.domain.plan import validate_plan
from shared.local.common import local_host
from shared.local.demo_migrate import run_migrate
from shared.local.demo_plans import APPROVER, AZURE_EXAMPLE, DNS_EXAMPLE, EXPECTED, OPERATOR, closed_for, plans_for
from shared.local.demo_wave import run_wave


class Demo:
    def __init__(self, stack, out=print):
        self.stack, self.out = stack, out
        self.host = local_host(stack)
        self.sent, self.ids = 0, set()  # the messages the demo sent, and their ids
        self.outcomes: dict[str, int] = {}
        self.own = 0  # outcomes of messages promote sent itself: timers, judge verdicts, dependency notices
        self.plans: dict[str, dict] = {}
        stack.service.observers.append(self._observe)

    def _observe(self, result) -> None:
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
        self.own += result.event_id not in self.ids
        for e in result.entries:
            share = "" if e.traffic_percent is None else f"  [{e.traffic_percent:>3}%]"
            self.out(f"    {e.outcome:<9} {e.workload or '*':<9} {e.type:<17} {e.reason}{share}")

    def send(
        self, type_: str, release: str, workload: str | None, *, id: str | None = None, source: str = "demo", **data
    ) -> str:
        event = new_event(
            type_,
            {"release": release, "workload": workload, **data},
            id=id or str(uuid.uuid4()),
            source=source,
            time=datetime.now(UTC),
        )
        self.stack.publisher.publish(event)
        self.sent += 1
        self.ids.add(event["id"])
        return event["id"]

    def settle(self, wait: float = 4.0) -> None:
        self.host.run(until_idle=True, wait=wait, poll=0.05)

    def status(self, release: str) -> dict:
        return status_json(self.stack.store.get_release(release).release)

    def replicate_and_test(self, release: str, plan: dict, source: str = "azure-migrate", wait: float = 4.0) -> None:
        for w in plan["workloads"]:
            for asset in w["assets"]:
                self.send("asset-replicated", release, w["name"], source=source, asset=asset)
        self.settle(wait)
        for w in plan["workloads"]:
            self.send("tests-passed", release, w["name"], source="test-pipeline", suite="smoke", run="1")
        self.settle(wait)

    # the three stories ----------------------------------------------------------------------------
    def single_step(self, plan: dict) -> None:
        r = plan["release"]
        self.out("  migration tool replicates, the test pipeline passes: all users move at once")
        self.replicate_and_test(r, plan, wait=1)
        self.out("  hypercare (3s): the source is kept; finalizing now is refused")
        self.send("override", r, "payroll", source="operator", action="finalize", actor=APPROVER, reason="too early")
        self.settle(wait=1)
        self.out("  a late replication after promotion is ignored, with a warning")
        self.send("asset-replicated", r, "payroll", source="azure-migrate", asset="vm-payroll-db-01")
        self.settle(wait=1)
        self.out("  hypercare ends (a timer); the approver finalizes: the source is decommissioned")
        self.settle(wait=7)
        self.send(
            "override",
            r,
            "payroll",
            source="operator",
            action="finalize",
            actor=APPROVER,
            reason="hypercare passed without incident",
        )
        self.settle()

    def staged(self, plan: dict) -> None:
        r = plan["release"]
        self.out("  every workload replicated and tested; the release waits for approval")
        self.replicate_and_test(r, plan)
        self.out(f"  release state: {self.status(r)['state']}")
        self.out("  an approval from someone who is not an approver is refused (and audited)")
        self.send(
            "override", r, None, source="operator", action="approve", actor="mallory@contoso.com", reason="ship it"
        )
        self.settle()
        self.out("  the data platforms report replication lag: billing's replica is 45s behind (limit 10s)")
        self.send("replication-lag", r, "crm", source="sql-monitor", lag_seconds=1.5)
        self.send("replication-lag", r, "billing", source="sql-monitor", lag_seconds=45)
        self.settle()
        self.out(f"  {APPROVER} approves: the release is held by the lagging replica")
        self.send("override", r, None, source="operator", action="approve", actor=APPROVER, reason="CAB-1234")
        self.settle()
        self.out("  billing's replica catches up: the whole release moves by itself, migration access revoked")
        self.send("replication-lag", r, "billing", source="sql-monitor", lag_seconds=0.8)
        self.settle()

    def flight(self, plan: dict) -> None:
        r = plan["release"]
        self.out("  users move in flights of 10%, 50%, 100%; each grows after its bake time and a healthy verdict")
        replicated = self.send("asset-replicated", r, "web-shop", source="azure-migrate", asset="vm-shop-web-01")
        self.send("asset-replicated", r, "web-shop", source="azure-migrate", asset="vm-shop-web-02")
        self.send("asset-replicated", r, "web-shop", id=replicated, source="azure-migrate", asset="vm-shop-web-01")
        self.settle()
        self.send("tests-passed", r, "web-shop", source="test-pipeline", suite="e2e", run="41")
        self.settle(wait=1)
        alerted, verdicts = False, set()
        for _ in range(40):  # monitoring: one verdict per flight, an alert at 50% on the first attempt
            w = self.status(r)["workloads"][0]
            here = (w["attempt"], w["flight"])
            if w["state"] == WorkloadState.PROMOTED:
                break
            if w["state"] == WorkloadState.ROLLED_BACK:
                self.out(f"  {OPERATOR} retries after the fix; the pipeline passes again")
                self.send(
                    "override",
                    r,
                    "web-shop",
                    source="operator",
                    action="retry",
                    actor=OPERATOR,
                    reason="fixed connection pool size",
                )
                self.send("tests-passed", r, "web-shop", source="test-pipeline", suite="e2e", run="42")
            elif here in verdicts:
                self.settle(wait=3)  # the verdict is in: the bake timer grows the flight
                continue
            elif w["flight"] == 2 and not alerted:
                self.out("  monitoring raises an alert at 50%: on_alert rollback moves every user back")
                self.send(
                    "alert", r, "web-shop", source="azure-monitor", severity="Sev1", description="p95 latency above 2s"
                )
                alerted = True
            else:
                self.send("flight-healthy", r, "web-shop", source="azure-monitor", flight=w["flight"])
                verdicts.add(here)
            self.settle(wait=1)

    def after(self, plan: dict) -> None:
        self.out("  applied; another release will wait for this one")

    def window(self, plan: dict) -> None:
        r, first = plan["release"], plan["after"][0]
        self.out(f"  replicated and tested, but it waits for {first} and for the change window:")
        self.replicate_and_test(r, plan)
        self.waiting(r)
        self.out(f"  {first} is replicated, tested and promoted; {r} hears of it by itself")
        self.replicate_and_test(first, self.plans["after"])
        held = self.waiting(r)
        if GateName.WINDOW in held:
            self.out("  when the window opens, the held promotion happens by itself")
        self.settle(wait=12)

    def waiting(self, release: str) -> set[str]:
        """Print what holds the release's workloads; return the gates."""
        from shared.application.views import waiting_text

        doc = self.status(release)
        text = waiting_text(doc).strip()
        self.out("  " + text.replace("\n", "\n  ") if text else "  nothing holds it")
        return {g["gate"] for w in doc["workloads"] for g in w["waiting_for"]}

    def judged(self, plan: dict) -> None:
        """promote's own judge: local metrics, an inconclusive evaluation that holds, a pass, a failing check."""
        r = plan["release"]
        metrics = self.stack.local_metrics
        now = lambda: datetime.now(UTC)  # noqa: E731
        self.out("  promote judges these flights itself, every second, from local metrics (promote metrics put)")
        self.out("  catalog reports no samples yet; checkout reports 4.8% errors (max 1.0)")
        metrics.put(r, "catalog", "error-rate", 0.2, 0, now())
        metrics.put(r, "checkout", "error-rate", 4.8, 600, now())
        for w in plan["workloads"]:  # not settle(): it would wait out judge rounds too
            self.send("asset-replicated", r, w["name"], source="azure-migrate", asset=w["assets"][0])
            self.send("tests-passed", r, w["name"], source="test-pipeline", suite="smoke", run="1")
        records = lambda: self.stack.judge.records.load(r)  # noqa: E731
        self.until(lambda: getattr(records().get("catalog"), "evaluation", 0) >= 1)
        last = records()["catalog"].results
        self.out(f"  judge evaluation 1 of catalog: {last[0].describe()}: the flight is held at 20%")
        self.out("  catalog's error rate arrives: 0.3% over 800 requests")
        metrics.put(r, "catalog", "error-rate", 0.3, 800, now())
        states = lambda: {w["name"]: w["state"] for w in self.status(r)["workloads"]}  # noqa: E731
        self.until(lambda: states() == EXPECTED["judged"])

    def until(self, done, timeout: float = 20.0) -> None:
        """Run the local host (messages and judge rounds) until `done()` holds (checked every 0.2s)."""
        deadline, checked = time.monotonic() + timeout, [0.0, False]

        def stop() -> bool:
            if time.monotonic() - checked[0] >= 0.2:
                checked[:] = [time.monotonic(), done()]
            return bool(checked[1]) or time.monotonic() > deadline

        self.host.run(stop=stop, poll=0.05)


def run_demo(stack, out=print) -> int:
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%m%d-%H%M%S")
    demo = Demo(stack, out)
    plans = plans_for(stamp)
    demo.plans = plans
    stories = {
        "single-step": demo.single_step,
        "staged": demo.staged,
        "flight": demo.flight,
        "after": demo.after,
        "window": demo.window,
        "judged": demo.judged,
    }
    for model, plan in plans.items():
        out(f"\n== {model}: release {plan['release']}")
        if model == "window":
            plan["windows"] = closed_for(seconds=4)
        stack.service.apply(validate_plan(plan))
        stories[model](plan)
        out(f"  => {demo.status(plan['release'])['state']}")
    migrated = run_migrate(demo, stamp)  # v3 §16: import, rehearsal, cutover, complete migration
    waved = run_wave(stack, stamp, out)
    elapsed = time.monotonic() - started
    out("\nSummary")
    for line in summary(demo, plans):
        out("  " + line)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(demo.outcomes.items()))
    out(
        f"\n{sum(demo.outcomes.values())} messages handled: {demo.sent} sent by the demo, {demo.own} by promote "
        "itself (timers, judge verdicts, dependency notices, what the Azure Migrate vault says)"
    )
    out(f"outcomes: {counts}; {elapsed:.1f}s")
    out(
        f"Explore: promote status --release {plans['flight']['release']}   "
        f"promote history --release {plans['flight']['release']} --workload web-shop"
    )
    azure_plan_preview(out)
    out(
        f"Judged:  promote status --release {plans['judged']['release']}   "
        f"promote history --release {plans['judged']['release']} --workload checkout"
    )
    # how each release ends: the single-step one goes through hypercare to finalized; the judged one rolls
    # its failing workload back on purpose; the others are promoted
    ends = {"single-step": WorkloadState.FINALIZED}
    ended = {
        model: {w["name"]: w["state"] for w in demo.status(p["release"])["workloads"]} for model, p in plans.items()
    }
    promoted = all(
        states == EXPECTED.get(model, {n: ends.get(model, WorkloadState.PROMOTED) for n in states})
        for model, states in ended.items()
    )
    if not promoted or not waved or not migrated:
        out("demo FAILED: a release did not end as it should")
    return 0 if promoted and waved and migrated else 1


def summary(demo: Demo, plans: dict[str, dict]) -> list[str]:
    """One row per workload: release, model, release state, workload, state, traffic, retries."""
    rows = [("RELEASE", "MODEL", "RELEASE STATE", "WORKLOAD", "STATE", "TRAFFIC", "RETRIES")]
    for plan in plans.values():
        doc = demo.status(plan["release"])
        rows += [
            (
                doc["release"],
                doc["model"],
                doc["state"],
                w["name"],
                w["state"],
                f"{w['traffic_percent']}%",
                str(w["attempt"]),
            )
            for w in doc["workloads"]
        ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def azure_plan_preview(out=print) -> None:
    """What `promote plan` shows for flights on Azure Front Door and on an application gateway's flight pool
    (computed from the plan alone: nothing is applied and no Azure call is made)."""
    from shared.domain.routing import change_plan

    doc = change_plan(validate_plan(AZURE_EXAMPLE))
    out("\nAzure routing, before anything happens (promote plan, a plan not applied):")
    for w in doc["workloads"]:
        out(f"  {w['name']} ({w['provider']}): {w['resource']}")
        for step in w["steps"]:
            what = "; ".join(f"{c['property']} -> {c['to']}" for c in step["changes"])
            out(f"    {step['step']}: {step['from_percent']}% -> {step['to_percent']}%: {what}")
    from shared.domain.routing import change_plan_text

    out("\nA DNS cutover (promote plan of a private-dns plan): the TTL waited out before the switch")
    for line in change_plan_text(change_plan(validate_plan(DNS_EXAMPLE))).splitlines()[1:]:
        out("  " + line if line else "")
