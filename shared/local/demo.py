"""`promote demo`: the three models end to end on the local stack, driven by simulated migration tools,
test pipelines, monitoring and operators, through the same queue and function the real thing uses."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from shared.domain.messages import new_event
from shared.domain.plan import validate_plan
from shared.application.views import status_json

APPROVER, OPERATOR = "ana@contoso.com", "ops@contoso.com"
SYNC = {"max_lag": "10s", "max_age": "5m"}  # the staged release's data platforms must be in sync to move


def _plans(stamp: str) -> dict[str, dict]:
    people = {"approvers": [APPROVER], "operators": [OPERATOR]}
    return {
        "single-step": {"release": f"demo-{stamp}-single", "model": "single-step", **people,
                        "hypercare": "5s", "decommission": {"approval": "manual", "provider": "local"},
                        "workloads": [{"name": "payroll", "assets": ["vm-payroll-web-01", "vm-payroll-db-01"]}]},
        "staged": {"release": f"demo-{stamp}-staged", "model": "staged", **people,
                   "revoke_access": {"provider": "local", "source_prefixes": ["10.50.0.0/24"]},
                   "workloads": [{"name": "crm", "assets": ["vm-crm-app-01", "sql-crm-01"], "data_sync": SYNC},
                                 {"name": "billing", "assets": ["vm-billing-01"], "data_sync": SYNC}]},
        "flight": {"release": f"demo-{stamp}-flight", "model": "flight", **people,
                   "flights": [{"percent": 10, "bake": "2s"}, {"percent": 50, "bake": "2s"},
                               {"percent": 100, "bake": "0s"}],
                   "workloads": [{"name": "web-shop", "assets": ["vm-shop-web-01", "vm-shop-web-02"]}]},
    }


class Demo:
    def __init__(self, stack, out=print):
        from shared.local.cli import local_host

        self.stack, self.out = stack, out
        self.host = local_host(stack)
        self.sent = 0
        self.outcomes: dict[str, int] = {}
        stack.service.observers.append(self._observe)

    def _observe(self, result) -> None:
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1
        for e in result.entries:
            share = "" if e.traffic_percent is None else f"  [{e.traffic_percent:>3}%]"
            self.out(f"    {e.outcome:<9} {e.workload or '*':<9} {e.type:<17} {e.reason}{share}")

    def send(self, type_: str, release: str, workload: str | None, *, id: str | None = None,
             source: str = "demo", **data) -> str:
        event = new_event(type_, {"release": release, "workload": workload, **data}, id=id or str(uuid.uuid4()),
                          source=source, time=datetime.now(timezone.utc))
        self.stack.publisher.publish(event)
        self.sent += 1
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
        self.out("  hypercare (5s): the source is kept; finalizing now is refused")
        self.send("override", r, "payroll", source="operator", action="finalize", actor=APPROVER,
                  reason="too early")
        self.settle(wait=1)
        self.out("  a late replication after promotion is ignored, with a warning")
        self.send("asset-replicated", r, "payroll", source="azure-migrate", asset="vm-payroll-db-01")
        self.settle(wait=1)
        self.out("  hypercare ends (a timer); the approver finalizes: the source is decommissioned")
        self.settle(wait=7)
        self.send("override", r, "payroll", source="operator", action="finalize", actor=APPROVER,
                  reason="hypercare passed without incident")
        self.settle()

    def staged(self, plan: dict) -> None:
        r = plan["release"]
        self.out("  every workload replicated and tested; the release waits for approval")
        self.replicate_and_test(r, plan)
        self.out(f"  release state: {self.status(r)['state']}")
        self.out("  an approval from someone who is not an approver is refused (and audited)")
        self.send("override", r, None, source="operator", action="approve", actor="mallory@contoso.com",
                  reason="ship it")
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
            if w["state"] == "promoted":
                break
            if w["state"] == "rolled-back":
                self.out(f"  {OPERATOR} retries after the fix; the pipeline passes again")
                self.send("override", r, "web-shop", source="operator", action="retry", actor=OPERATOR,
                          reason="fixed connection pool size")
                self.send("tests-passed", r, "web-shop", source="test-pipeline", suite="e2e", run="42")
            elif here in verdicts:
                self.settle(wait=3)  # the verdict is in: the bake timer grows the flight
                continue
            elif w["flight"] == 2 and not alerted:
                self.out("  monitoring raises an alert at 50%: on_alert rollback moves every user back")
                self.send("alert", r, "web-shop", source="azure-monitor", severity="Sev1",
                          description="p95 latency above 2s")
                alerted = True
            else:
                self.send("flight-healthy", r, "web-shop", source="azure-monitor", flight=w["flight"])
                verdicts.add(here)
            self.settle(wait=1)

def run_demo(stack, out=print) -> int:
    started = time.monotonic()
    stamp = datetime.now(timezone.utc).strftime("%m%d-%H%M%S")
    demo = Demo(stack, out)
    plans = _plans(stamp)
    stories = {"single-step": demo.single_step, "staged": demo.staged, "flight": demo.flight}
    for model, plan in plans.items():
        out(f"\n== {model}: release {plan['release']}")
        stack.service.apply(validate_plan(plan))
        stories[model](plan)
        out(f"  => {demo.status(plan['release'])['state']}")
    elapsed = time.monotonic() - started
    out("\nSummary")
    rows = []
    for model, plan in plans.items():
        doc = demo.status(plan["release"])
        for w in doc["workloads"]:
            rows.append((plan["release"], model, doc["state"], w["name"], w["state"], f"{w['traffic_percent']}%",
                         str(w["attempt"])))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in
              enumerate(("RELEASE", "MODEL", "RELEASE STATE", "WORKLOAD", "STATE", "TRAFFIC", "RETRIES"))]
    for row in [("RELEASE", "MODEL", "RELEASE STATE", "WORKLOAD", "STATE", "TRAFFIC", "RETRIES")] + rows:
        out("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(demo.outcomes.items()))
    out(f"\n{demo.sent} messages sent; outcomes: {counts}; {elapsed:.1f}s")
    out(f"Explore: promote status --release {plans['flight']['release']}   "
        f"promote history --release {plans['flight']['release']} --workload web-shop")
    ends = {"single-step": "finalized", "staged": "promoted", "flight": "promoted"}
    promoted = all(demo.status(p["release"])["state"] == ends[model] for model, p in plans.items())
    if not promoted:
        out("demo FAILED: not every release was promoted (and the single-step one finalized)")
    return 0 if promoted else 1
