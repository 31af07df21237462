"""The reliability run's DNS block (issue 25): single-step releases cut over by `private-dns` through the local
Resource Manager the routing tests use (tests/routing/fake_arm.py, over HTTPS), with the TTL choreography as
gates (`lower_ttl_to`), under the same faults as the rest of the run (hosts SIGKILLed at random and at chosen
steps, among them right after a routing change; messages delivered 1-3 times; timers doubled).

Checked at the end, per record set, from the Resource Manager's own log of successful writes (timed here):
- the TTL lowered exactly once (at apply);
- the switch to the target's values not before the old TTL had passed since the lowering;
- the original TTL back once the workload is finalized (values still the target's, promote's note gone);
- every workload finalized, from one finalize request.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

APPROVER = "ana@contoso.com"
SOURCE, TARGET = "10.1.0.4", "10.20.0.4"
LOWER_TO = 1
CREDENTIAL_FLAG = "RELIABILITY_FAKE_CREDENTIAL"  # hosts use the routing tests' fake credential (tools/faults.py)


class FakeCredential:
    """A TokenCredential handing out a fixed token, which the local Resource Manager takes (as the routing tests'
    does; not imported from their conftest, which would import pytest into every host)."""

    def get_token(self, *scopes: str, **kwargs: Any):
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", int(time.time()) + 3600)


def arm_settings(settings):
    """Settings plus the fake credential (shared/adapters/routing/_arm.py takes `arm_credential` from settings
    that carry one, and the firewall provider `arm_sleep`), for the local Resource Manager."""
    from shared.application.config import Settings

    @dataclass(frozen=True)
    class ArmSettings(Settings):
        arm_credential: Any = None
        arm_sleep: Any = None

    values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    return ArmSettings(**values, arm_credential=FakeCredential(), arm_sleep=lambda s: time.sleep(min(s, 0.2)))


def stamped_arm(tmp: Path):
    """The local Resource Manager, serving; every successful write of a record set is noted with its time."""
    from tests.routing.fake_arm import FakeArm, self_signed_certificate

    @dataclass
    class StampedArm(FakeArm):
        stamps: list = field(default_factory=list)  # (epoch seconds, lower-case path, properties written)

        def handle(self, method, target, headers, body):
            status, out_headers, out_body = super().handle(method, target, headers, body)
            path = target.split("?")[0].lower()
            if method in ("PUT", "PATCH") and status < 300 and "/privatednszones/" in path and "/a/" in path:
                self.stamps.append((time.time(), path, (body or {}).get("properties", {})))
            return status, out_headers, out_body

    tmp.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(tmp)
    arm = StampedArm()
    server = arm.serve(cert, key)
    return arm, server, cert


class DnsBlock:
    def __init__(self, run: Any, tmp: Path, releases: int = 1, workloads: int = 2, old_ttl: int = 5):
        from tests.routing import arm_resources as R

        self.run, self.figures, self.R = run, run.figures, R
        self.arm, self.server, cert = stamped_arm(tmp)
        stamp = datetime.now(UTC).strftime("%H%M%S")
        self.releases = [f"dns-{stamp}-{i}" for i in range(releases)]
        self.workloads = [f"w{j}" for j in range(workloads)]
        self.old_ttl = old_ttl
        self.expect: dict[str, set] = {}
        self.counts: Counter = Counter()
        self.applied: dict[str, float] = {}  # release -> when its apply began (epoch seconds)
        self.arm.seed(R.dns_zone(R.PRIVATE_ZONE))
        for r in self.releases:
            for w in self.workloads:
                self.arm.seed(R.record_set(R.PRIVATE_ZONE, "A", self.record(r, w), [SOURCE], ttl=old_ttl))
        self.env = {"REQUESTS_CA_BUNDLE": str(cert), "PROMOTE_ARM_ENDPOINT": self.arm.url, CREDENTIAL_FLAG: "1"}

    @staticmethod
    def record(release: str, workload: str) -> str:
        return f"{release}-{workload}"

    def path(self, release: str, workload: str) -> str:
        return f"{self.R.PRIVATE_ZONE}/A/{self.record(release, workload)}".lower()

    def plan(self, name: str) -> dict:
        return {
            "release": name,
            "model": "single-step",
            "approvers": [APPROVER],
            "hypercare": "1s",
            "workloads": [
                {
                    "name": w,
                    "assets": ["vm-1"],
                    "routing": {
                        "provider": "private-dns",
                        "zone": self.R.PRIVATE_ZONE,
                        "record": self.record(name, w),
                        "type": "A",
                        "source": [SOURCE],
                        "target": [TARGET],
                        "lower_ttl_to": LOWER_TO,
                    },
                }
                for w in self.workloads
            ],
        }

    def publish(self, release: str, workload: str, type_: str, id_: str, expect: set | None = None, **data) -> None:
        body = json.dumps(self.run.event(type_, release, workload, id_, **data))
        copies = self.run.copies()
        for _ in range(copies):
            self.run.retry(lambda: self.run.queue.send_message(body))
        self.figures.deliveries += copies
        self.figures.duplicate_deliveries += copies - 1
        self.expect[id_] = expect or {"applied", "duplicate"}

    def wait(self, done, what: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = []
            for r in self.releases:
                state = self.run.retry(lambda r=r: self.run.store.get_release(r).release)
                pending += [(r, w) for w in self.workloads if not done(state.workloads[w])]
            if not pending:
                return
            time.sleep(0.3)
        for release, w in pending[:2]:
            for entry in self.run.retry(lambda release=release, w=w: self.run.store.list_history(release, w)):
                print(f"  {release}/{w} {entry.at} {entry.type} {entry.outcome}: {entry.reason}", flush=True)
        raise TimeoutError(f"dns block, {what}: {len(pending)} workload(s) did not get there: {pending[:4]}")

    # -- the block -----------------------------------------------------------------------------------------
    def drive(self, settings) -> None:
        from shared.application.bootstrap import Stack
        from shared.domain.plan import validate_plan

        service = Stack(
            arm_settings(replace(settings, arm_endpoint=self.arm.url))
        ).service  # the TTL is lowered at apply, by whoever applies
        for name in self.releases:
            self.applied[name] = time.time()
            self.run.retry(lambda name=name: service.apply(validate_plan(self.plan(name))))
        for r in self.releases:
            for w in self.workloads:
                self.publish(r, w, "asset-replicated", f"{r}-{w}-a", asset="vm-1")
        self.wait(lambda w: w.state != "replicating", "replicated")
        for r in self.releases:
            for w in self.workloads:
                self.publish(r, w, "tests-passed", f"{r}-{w}-t")
        self.wait(lambda w: w.state == "promoted", "switched (the old TTL waited out)")
        time.sleep(1.2)  # hypercare (1s) is over
        for r in self.releases:
            for w in self.workloads:
                self.publish(r, w, "override", f"{r}-{w}-fin", action="finalize", actor=APPROVER, reason="cut over")
        self.wait(lambda w: w.state == "finalized", "finalized from one request")

    def stop(self) -> None:
        self.server.stop()

    # -- accounting ----------------------------------------------------------------------------------------
    def account(self) -> None:
        seen: dict[str, Counter] = {}
        for release in self.releases:
            for entry in self.run.store.list_history(release):
                seen.setdefault(entry.event_id, Counter())[entry.outcome] += 1
            state = self.run.store.get_release(release).release
            for w in self.workloads:
                where = f"{release}/{w}"
                writes = [(at, props) for at, path, props in self.arm.stamps if path == self.path(release, w)]
                lowered = [at for at, props in writes if props.get("ttl") == LOWER_TO and _values(props) == [SOURCE]]
                switched = [at for at, props in writes if _values(props) == [TARGET]]
                if len(lowered) != 1:
                    self.figures.divergences.append(f"{where}: TTL lowered {len(lowered)} times")
                else:
                    self.counts["TTL lowered once"] += 1
                if not switched or not lowered:
                    self.figures.divergences.append(f"{where}: never switched after a lowering")
                elif switched[0] < lowered[0] + self.old_ttl:
                    self.figures.divergences.append(
                        f"{where}: switched {switched[0] - lowered[0]:.1f}s after the TTL was lowered "
                        f"(old TTL {self.old_ttl}s)"
                    )
                else:
                    self.counts["switched after the old TTL"] += 1
                    self.counts["shortest wait (ms)"] = min(
                        self.counts["shortest wait (ms)"] or 10**9, int((switched[0] - lowered[0]) * 1000)
                    )
                self.counts["record set writes"] += len(writes)
                record = self.arm.get(f"{self.R.PRIVATE_ZONE}/A/{self.record(release, w)}")["properties"]
                final = (state.workloads[w].state, record.get("ttl"), _values(record), record.get("metadata"))
                if final != ("finalized", self.old_ttl, [TARGET], {"owner": "dns-team"}):
                    self.figures.divergences.append(f"{where}: ended {final}")
                else:
                    self.counts["TTL restored at finalize"] += 1
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
        self.figures.unique_ids += len(self.expect)

    def rows(self) -> list[tuple[str, int]]:
        c = self.counts
        n = len(self.releases) * len(self.workloads)
        return [
            (f"dns: workloads cut over by private-dns (old TTL {self.old_ttl}s)", n),
            ("  TTL lowered exactly once", c["TTL lowered once"]),
            ("  switched only after the old TTL had passed", c["switched after the old TTL"]),
            ("  shortest wait from lowering to switch (ms)", c["shortest wait (ms)"]),
            ("  TTL restored at finalize", c["TTL restored at finalize"]),
        ]


def _values(props: dict) -> list[str]:
    return [r.get("ipv4Address") for r in props.get("aRecords") or []]


def host_settings(settings):
    """What a host of the run uses: the fake credential when the DNS block's Resource Manager is up."""
    return arm_settings(settings) if os.environ.get(CREDENTIAL_FLAG) else settings
