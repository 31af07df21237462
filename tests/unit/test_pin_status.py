"""The status document and `promote status`'s text pinned whole (contract §9, §14, v2 §8, §10, v3 §19): every key
and every line of a staged release whose workloads stand each somewhere else, and of a flight release judged by
promote. A renamed key, a changed value or a reworded line fails here."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.application.views import status_json, status_text
from shared.domain.health import CheckResult, JudgeRecord
from shared.domain.model import Release, WorkloadState, new_release
from shared.domain.plan import validate_plan
from shared.domain.times import ms

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
ANA, BO, OPS = "ana@contoso.com", "bo@contoso.com", "ops@contoso.com"
S = WorkloadState


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def as_json(doc: dict) -> dict:
    """What the HTTP endpoint and `--json` send: the document through JSON (enums as their values)."""
    return json.loads(json.dumps(doc))


def staged_release() -> Release:
    """A staged release with manual quorum approval, `after`, a closed window, hypercare, a failing access
    revocation and a halt, whose six workloads stand each somewhere else."""
    plan = validate_plan(
        {
            "release": "wave-7",
            "model": "staged",
            "approval": {"mode": "manual", "quorum": 2},
            "approvers": [ANA, BO],
            "operators": [OPS],
            "after": ["wave-5", "wave-6"],
            "windows": {
                "timezone": "UTC",
                "deny": [{"from": "2026-03-01T00:00", "to": "2026-03-03T06:00", "reason": "freeze"}],
            },
            "deadlines": {"replicating": "3d", "testing": "1d", "approval": "8h"},
            "hypercare": "2h",
            "decommission": {"approval": "manual", "provider": "local"},
            "revoke_access": {
                "provider": "local",
                "rule": "deny-team",
                "priority": 100,
                "source_prefixes": ["10.50.0.0/24"],
            },
            "workloads": [
                {"name": "payroll", "assets": ["vm-a", "vm-b"], "data_sync": {"max_lag": "5s", "max_age": "2m"}},
                {"name": "hr", "assets": ["vm-c"]},
                {"name": "crm", "assets": ["vm-d"]},
                {"name": "ledger", "assets": ["vm-e", "vm-f"]},
                {"name": "billing", "assets": ["vm-g"]},
                {"name": "sales", "assets": ["vm-h"], "data_sync": {"max_lag": "10s", "max_age": "1m"}},
            ],
        }
    )
    release = new_release(plan, NOW - timedelta(hours=5))
    w = release.workloads
    done = {"tests_passed": True, "approved": True, "traffic_percent": 100}
    w["payroll"] = replace(
        w["payroll"],
        state=S.PROMOTED,
        assets={"vm-a": True, "vm-b": True},
        approvals=[{"by": ANA, "at": "2026-03-02T10:00:00Z"}, {"by": BO, "at": "2026-03-02T10:05:00Z"}],
        promoted_at=ago(30),
        state_since=ago(30),
        lag_seconds=3.5,
        lag_at=ago(1),
        lag_reports=4,
        **done,
    )
    w["hr"] = replace(
        w["hr"],
        state=S.FINALIZED,
        assets={"vm-c": True},
        promoted_at=ago(200),
        finalized_by=ANA,
        finalized_at=ago(10),
        **done,
    )
    w["crm"] = replace(
        w["crm"],
        state=S.READY,
        assets={"vm-d": True},
        tests_passed=True,
        approvals=[{"by": ANA, "at": "2026-03-02T11:00:00Z"}],
        state_since=ago(120),
    )
    w["ledger"] = replace(
        w["ledger"],
        state=S.TESTING,
        assets={"vm-e": True, "vm-f": True},
        paused=True,
        paused_by=OPS,
        paused_at=ago(45),
        paused_reason="DBA on leave",
        alert_while_paused="error rate 4%",
        state_since=ago(60),
        attempt=1,
    )
    w["billing"] = replace(
        w["billing"],
        state=S.ROLLED_BACK,
        assets={"vm-g": True},
        tests_passed=True,
        attempt=2,
        stuck="Azure refused the route: quota",
    )
    w["sales"] = replace(
        w["sales"],
        state=S.PROMOTED,
        assets={"vm-h": True},
        promoted_at=ago(400),
        lag_seconds=0.25,
        lag_at=ago(300),
        finalize_requested_by=BO,
        finalize_requested_at=ago(20),
        decommission_error="VM busy",
        decommission_failures=3,
        **done,
    )
    return release.evolve(
        workloads=w,
        after_met=("wave-5",),
        revoke_error="NSG conflict",
        revoke_attempts=2,
        halted_by=OPS,
        halted_reason="incident 42",
        halted_at="2026-03-02T11:30:00Z",
    )


def flight_release() -> Release:
    """A flight release judged by promote: workloads in their first and second flights, one not yet flighting."""
    plan = validate_plan(
        {
            "release": "wave-9",
            "model": "flight",
            "approvers": [ANA],
            "operators": [OPS],
            "on_alert": "pause",
            "flights": [{"percent": 10, "bake": "30s"}, {"percent": 50, "bake": "10m"}, {"percent": 100}],
            "deadlines": {"verdict": "30m"},
            "health": {
                "interval": "1m",
                "failure_limit": 2,
                "inconclusive_limit": 5,
                "checks": [{"name": "errors", "provider": "local", "max": 1.0, "min_samples": 100}],
            },
            "workloads": [{"name": n, "assets": [f"vm-{n}"]} for n in ("api", "web", "db", "mq", "old")],
        }
    )
    release = new_release(plan, NOW - timedelta(hours=2))
    w = release.workloads
    flying = {"state": S.FLIGHTING, "tests_passed": True, "approved": True}
    w["api"] = replace(
        w["api"],
        assets={"vm-api": True},
        flight=1,
        traffic_percent=10,
        flight_started_at=ago(50),
        state_since=ago(50),
        **flying,
    )
    w["web"] = replace(
        w["web"],
        assets={"vm-web": True},
        flight=2,
        traffic_percent=50,
        flight_started_at=ago(5),
        state_since=ago(5),
        **flying,
    )
    w["db"] = replace(
        w["db"],
        assets={"vm-db": True},
        flight=1,
        traffic_percent=10,
        flight_started_at=ago(3),
        state_since=ago(3),
        attempt=1,
        **flying,
    )
    w["mq"] = replace(
        w["mq"],
        assets={"vm-mq": True},
        flight=1,
        traffic_percent=10,
        flight_started_at=ago(2),
        state_since=ago(2),
        **flying,
    )
    return release.evolve(workloads=w)


def judged(release: Release) -> dict[str, JudgeRecord]:
    """The judge's records: api's and mq's of their current flight (mq's not evaluated yet), db's of an attempt
    before its current one."""
    w = release.workloads
    checks = [
        CheckResult(name="errors", value=0.4, samples=950, max=1.0, min_samples=100, passed=True, outcome="passed")
    ]
    return {
        "api": JudgeRecord("api", 0, 1, ms(w["api"].flight_started_at), evaluation=2, at=ago(48), results=checks),
        "db": JudgeRecord("db", 0, 1, ms(w["db"].flight_started_at), evaluation=1, at=ago(2), results=checks),
        "mq": JudgeRecord("mq", 0, 1, ms(w["mq"].flight_started_at)),
    }


STAGED_JSON = {
    "release": "wave-7",
    "model": "staged",
    "state": "in-progress",
    "approval": "manual",
    "on_alert": "rollback",
    "halted": {"by": "ops@contoso.com", "reason": "incident 42", "at": "2026-03-02T11:30:00Z"},
    "flights": None,
    "access_revoked": False,
    "access_revocation": {"state": "failing", "failed_attempts": 2, "error": "NSG conflict"},
    "after": [{"release": "wave-5", "promoted": True}, {"release": "wave-6", "promoted": False}],
    "counts": {"testing": 1, "ready": 1, "promoted": 2, "rolled-back": 1, "finalized": 1},
    "workloads": [
        {
            "name": "payroll",
            "state": "promoted",
            "paused": False,
            "flight": None,
            "traffic_percent": 100,
            "assets": {"vm-a": "replicated", "vm-b": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [
                {"by": "ana@contoso.com", "at": "2026-03-02T10:00:00Z"},
                {"by": "bo@contoso.com", "at": "2026-03-02T10:05:00Z"},
            ],
            "approvals_needed": 2,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": 3.5,
            "lag_at": "2026-03-02T11:59:00Z",
            "lag_reports": 4,
            "data_sync": {"max_lag_seconds": 5, "max_age_seconds": 120, "open": True, "reason": None},
            "promoted_at": "2026-03-02T11:30:00Z",
            "hypercare_until": "2026-03-02T13:30:00Z",
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [{"gate": "hypercare", "until": "2026-03-02T13:30:00Z"}],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [{"gate": "hypercare", "until": "2026-03-02T13:30:00Z"}],
            "deadline": None,
            "overdue": False,
        },
        {
            "name": "hr",
            "state": "finalized",
            "paused": False,
            "flight": None,
            "traffic_percent": 100,
            "assets": {"vm-c": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 2,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": "2026-03-02T08:40:00Z",
            "hypercare_until": "2026-03-02T10:40:00Z",
            "finalized_by": "ana@contoso.com",
            "finalized_at": "2026-03-02T11:50:00Z",
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [],
            "deadline": None,
            "overdue": False,
        },
        {
            "name": "crm",
            "state": "ready",
            "paused": False,
            "flight": None,
            "traffic_percent": 0,
            "assets": {"vm-d": "replicated"},
            "tests_passed": True,
            "approved": False,
            "approvals": [{"by": "ana@contoso.com", "at": "2026-03-02T11:00:00Z"}],
            "approvals_needed": 2,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {
                    "gate": "approval",
                    "approvers": ["ana@contoso.com", "bo@contoso.com"],
                    "approvals": [{"by": "ana@contoso.com", "at": "2026-03-02T11:00:00Z"}],
                    "needed": 2,
                },
                {"gate": "release", "workloads": ["ledger", "billing"], "workload_count": 2},
                {
                    "gate": "window",
                    "reason": "denied period: freeze",
                    "opens": "2026-03-03T06:00:00Z",
                    "timezone": "UTC",
                },
                {"gate": "after", "releases": ["wave-6"]},
            ],
            "deadline": "2026-03-02T18:00:00Z",
            "overdue": False,
        },
        {
            "name": "ledger",
            "state": "testing",
            "paused": True,
            "flight": None,
            "traffic_percent": 0,
            "assets": {"vm-e": "replicated", "vm-f": "replicated"},
            "tests_passed": False,
            "approved": False,
            "approvals": [],
            "approvals_needed": 2,
            "attempt": 1,
            "provider": "local",
            "paused_by": "ops@contoso.com",
            "paused_at": "2026-03-02T11:15:00Z",
            "paused_reason": "DBA on leave",
            "alert_while_paused": "error rate 4%",
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {"gate": "tests", "needs": "tests-passed"},
                {"gate": "paused", "by": "ops@contoso.com", "at": "2026-03-02T11:15:00Z", "reason": "DBA on leave"},
            ],
            "deadline": "2026-03-03T11:00:00Z",
            "overdue": False,
        },
        {
            "name": "billing",
            "state": "rolled-back",
            "paused": False,
            "flight": None,
            "traffic_percent": 0,
            "assets": {"vm-g": "replicated"},
            "tests_passed": True,
            "approved": False,
            "approvals": [],
            "approvals_needed": 2,
            "attempt": 2,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {
                    "gate": "retry",
                    "needs": "override retry",
                    "operators": ["ops@contoso.com", "ana@contoso.com", "bo@contoso.com"],
                }
            ],
            "deadline": None,
            "overdue": False,
        },
        {
            "name": "sales",
            "state": "promoted",
            "paused": False,
            "flight": None,
            "traffic_percent": 100,
            "assets": {"vm-h": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 2,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": 0.25,
            "lag_at": "2026-03-02T07:00:00Z",
            "lag_reports": 0,
            "data_sync": {
                "max_lag_seconds": 10,
                "max_age_seconds": 60,
                "open": False,
                "reason": "data-sync: latest lag report is 18000s old, older than max_age 60s",
            },
            "promoted_at": "2026-03-02T05:20:00Z",
            "hypercare_until": "2026-03-02T07:20:00Z",
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {
                "requested_by": "bo@contoso.com",
                "requested_at": "2026-03-02T11:40:00Z",
                "error": "VM busy",
                "failures": 3,
            },
            "finish_waiting_for": [
                {
                    "gate": "finalize",
                    "approval": "manual",
                    "approvers": ["ana@contoso.com", "bo@contoso.com"],
                    "provider": "local",
                    "requested_by": "bo@contoso.com",
                    "requested_at": "2026-03-02T11:40:00Z",
                    "error": "VM busy",
                    "failures": 3,
                }
            ],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {
                    "gate": "finalize",
                    "approval": "manual",
                    "approvers": ["ana@contoso.com", "bo@contoso.com"],
                    "provider": "local",
                    "requested_by": "bo@contoso.com",
                    "requested_at": "2026-03-02T11:40:00Z",
                    "error": "VM busy",
                    "failures": 3,
                }
            ],
            "deadline": None,
            "overdue": False,
        },
    ],
    "attention": [
        {
            "workload": "payroll",
            "state": "promoted",
            "traffic_percent": 100,
            "why": "promoted (100%) while the staged release is in-progress",
        },
        {
            "workload": "hr",
            "state": "finalized",
            "traffic_percent": 100,
            "why": "promoted (100%) while the staged release is in-progress",
        },
        {
            "workload": "ledger",
            "state": "testing",
            "traffic_percent": 0,
            "why": "paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; "
            "nothing advances and routing does not change until resume; alert recorded "
            "while paused, acted on at resume: error rate 4%",
        },
        {
            "workload": "billing",
            "state": "rolled-back",
            "traffic_percent": 0,
            "why": "rolled back to 0% while the release is in-progress; override retry brings "
            "it back to testing; Azure refused the route: quota",
        },
        {
            "workload": "sales",
            "state": "promoted",
            "traffic_percent": 100,
            "why": "promoted (100%) while the staged release is in-progress",
        },
    ],
    "holds": [
        {"gate": "after", "releases": ["wave-6"]},
        {"gate": "window", "reason": "denied period: freeze", "opens": "2026-03-03T06:00:00Z"},
        {"gate": "approval", "approvers": ["ana@contoso.com", "bo@contoso.com"], "workload_count": 1},
        {"gate": "release", "workloads": ["ledger", "billing"], "workload_count": 2},
        {"gate": "paused", "workloads": ["ledger"], "workload_count": 1},
    ],
}

STAGED_TEXT = [
    "release wave-7  model staged  state in-progress  approval manual",
    "1 testing, 1 ready, 2 promoted, 1 rolled-back, 1 finalized (6 workloads)",
    "access revocation FAILING after 2 attempt(s), retried: NSG conflict",
    "",
    "the release waits for:",
    "  release(s) wave-6 to be promoted",
    "  change window: denied period: freeze; opens 2026-03-03T06:00:00Z",
    "  approval by one of ana@contoso.com, bo@contoso.com (1 ready, not approved)",
    "  2 workload(s) not ready: ledger, billing",
    "  1 paused workload(s): ledger",
    "",
    "WORKLOAD  STATE             FLIGHT  TRAFFIC  ASSETS  TESTS  ROUTING  FINISH",
    "--------  ----------------  ------  -------  ------  -----  -------  "
    "----------------------------------------------------",
    "payroll   promoted          -       100%     2/2     yes    local    hypercare until 2026-03-02T13:30:00Z",
    "hr        finalized         -       100%     1/1     yes    local    finalized by "
    "ana@contoso.com at 2026-03-02T11:50:00Z",
    "crm       ready             -       0%       1/1     yes    local    -",
    "ledger    testing (paused)  -       0%       2/2     no     local    -",
    "billing   rolled-back       -       0%       1/1     yes    local    -",
    "sales     promoted          -       100%     1/1     yes    local    finalize: decommission "
    "failed 3x (VM busy), retrying",
    "",
    "attention:",
    "  payroll (promoted, 100%): promoted (100%) while the staged release is in-progress",
    "  hr (finalized, 100%): promoted (100%) while the staged release is in-progress",
    "  ledger (testing, 0%): paused by ops@contoso.com since 2026-03-02 11:15:00Z: DBA on leave; "
    "nothing advances and routing does not change until resume; alert recorded while paused, acted on "
    "at resume: error rate 4%",
    "  billing (rolled-back, 0%): rolled back to 0% while the release is in-progress; override retry "
    "brings it back to testing; Azure refused the route: quota",
    "  sales (promoted, 100%): promoted (100%) while the staged release is in-progress",
    "",
    "waiting for",
    "  payroll waits for: hypercare: until 2026-03-02T13:30:00Z",
    "  crm waits for: 1 of 2 approvals (ana@contoso.com) by ana@contoso.com, bo@contoso.com; the rest "
    "of the release: ledger, billing; change window closed (denied period: freeze), opens 2026-03-03 "
    "06:00 UTC (06:00Z); waiting for release(s) wave-6 to be promoted  (deadline "
    "2026-03-02T18:00:00Z)",
    "  ledger waits for: tests: waiting for tests-passed; paused by ops@contoso.com: DBA on leave  "
    "(deadline 2026-03-03T11:00:00Z)",
    "  billing waits for: override retry by one of ops@contoso.com, ana@contoso.com, bo@contoso.com",
    "  sales waits for: finalize: approval manual, approvers ['ana@contoso.com', 'bo@contoso.com'], "
    "provider local, requested_by bo@contoso.com, requested_at 2026-03-02T11:40:00Z, error VM busy, "
    "failures 3",
]

FLIGHT_JSON = {
    "release": "wave-9",
    "model": "flight",
    "state": "in-progress",
    "approval": "auto",
    "on_alert": "pause",
    "halted": None,
    "flights": [
        {"percent": 10, "bake_seconds": 30},
        {"percent": 50, "bake_seconds": 600},
        {"percent": 100, "bake_seconds": 0},
    ],
    "access_revoked": False,
    "access_revocation": None,
    "counts": {"replicating": 1, "flighting": 4},
    "workloads": [
        {
            "name": "api",
            "state": "flighting",
            "paused": False,
            "flight": 1,
            "traffic_percent": 10,
            "assets": {"vm-api": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 0,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {"gate": "verdict", "flight": 1, "needs": "flight-healthy", "since": "2026-03-02T11:10:00Z"}
            ],
            "deadline": "2026-03-02T11:40:30Z",
            "overdue": True,
            "health": {
                "interval_seconds": 60,
                "failure_limit": 2,
                "inconclusive_limit": 5,
                "last": {
                    "evaluation": 2,
                    "flight": 1,
                    "at": "2026-03-02T11:12:00Z",
                    "checks": [
                        {
                            "name": "errors",
                            "value": 0.4,
                            "samples": 950,
                            "max": 1.0,
                            "min": None,
                            "min_samples": 100,
                            "passed": True,
                            "outcome": "passed",
                            "in_a_row": 1,
                            "error": None,
                        }
                    ],
                    "verdict": None,
                    "verdict_id": None,
                },
            },
        },
        {
            "name": "web",
            "state": "flighting",
            "paused": False,
            "flight": 2,
            "traffic_percent": 50,
            "assets": {"vm-web": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 0,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {"gate": "bake", "flight": 2, "until": "2026-03-02T12:05:00Z", "seconds_left": 300},
                {"gate": "verdict", "flight": 2, "needs": "flight-healthy", "since": "2026-03-02T11:55:00Z"},
            ],
            "deadline": "2026-03-02T12:35:00Z",
            "overdue": False,
            "health": {"interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None},
        },
        {
            "name": "db",
            "state": "flighting",
            "paused": False,
            "flight": 1,
            "traffic_percent": 10,
            "assets": {"vm-db": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 0,
            "attempt": 1,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {"gate": "verdict", "flight": 1, "needs": "flight-healthy", "since": "2026-03-02T11:57:00Z"}
            ],
            "deadline": "2026-03-02T12:27:30Z",
            "overdue": False,
            "health": {"interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None},
        },
        {
            "name": "mq",
            "state": "flighting",
            "paused": False,
            "flight": 1,
            "traffic_percent": 10,
            "assets": {"vm-mq": "replicated"},
            "tests_passed": True,
            "approved": True,
            "approvals": [],
            "approvals_needed": 0,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [
                {"gate": "verdict", "flight": 1, "needs": "flight-healthy", "since": "2026-03-02T11:58:00Z"}
            ],
            "deadline": "2026-03-02T12:28:30Z",
            "overdue": False,
            "health": {"interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None},
        },
        {
            "name": "old",
            "state": "replicating",
            "paused": False,
            "flight": None,
            "traffic_percent": 0,
            "assets": {"vm-old": "pending"},
            "tests_passed": False,
            "approved": False,
            "approvals": [],
            "approvals_needed": 0,
            "attempt": 0,
            "provider": "local",
            "paused_by": None,
            "paused_at": None,
            "paused_reason": None,
            "alert_while_paused": None,
            "lag_seconds": None,
            "lag_at": None,
            "lag_reports": 0,
            "data_sync": None,
            "promoted_at": None,
            "hypercare_until": None,
            "finalized_by": None,
            "finalized_at": None,
            "decommission": {"requested_by": None, "requested_at": None, "error": None, "failures": 0},
            "finish_waiting_for": [],
            "rehearsal": None,
            "migration": None,
            "waiting_for": [{"gate": "assets", "pending": ["vm-old"], "pending_count": 1, "replicated": 0, "total": 1}],
            "deadline": None,
            "overdue": False,
            "health": {"interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None},
        },
    ],
    "attention": [],
    "holds": [],
}

FLIGHT_TEXT = [
    "release wave-9  model flight  state in-progress  approval auto",
    "1 replicating, 4 flighting (5 workloads)",
    "",
    "WORKLOAD  STATE        FLIGHT  TRAFFIC  ASSETS  TESTS  ROUTING  FINISH",
    "--------  -----------  ------  -------  ------  -----  -------  ------",
    "api       flighting    1       10%      1/1     yes    local    -",
    "web       flighting    2       50%      1/1     yes    local    -",
    "db        flighting    1       10%      1/1     yes    local    -",
    "mq        flighting    1       10%      1/1     yes    local    -",
    "old       replicating  -       0%       0/1     no     local    -",
    "",
    "waiting for",
    "  api waits for: a flight-healthy verdict for flight 1  (deadline 2026-03-02T11:40:30Z, OVERDUE)",
    "  web waits for: bake of flight 2: 300s left (until 2026-03-02T12:05:00Z); a flight-healthy "
    "verdict for flight 2  (deadline 2026-03-02T12:35:00Z)",
    "  db waits for: a flight-healthy verdict for flight 1  (deadline 2026-03-02T12:27:30Z)",
    "  mq waits for: a flight-healthy verdict for flight 1  (deadline 2026-03-02T12:28:30Z)",
    "  old waits for: assets: 0/1 replicated, pending vm-old",
    "",
    "health (the judge's last evaluation)",
    "  api: judge evaluation 2: errors 0.4 passed (max 1, 950 samples) at 2026-03-02T11:12:00Z",
    "  web: flight 2 not evaluated yet (every 60s)",
    "  db: flight 1 not evaluated yet (every 60s)",
    "  mq: flight 1 not evaluated yet (every 60s)",
]


def test_the_status_document_of_a_staged_release_is_pinned_whole():
    assert as_json(status_json(staged_release(), NOW)) == STAGED_JSON


def test_the_status_text_of_a_staged_release_is_pinned_whole():
    assert status_text(staged_release(), NOW).split("\n") == STAGED_TEXT


def test_the_status_document_of_a_judged_flight_release_is_pinned_whole():
    release = flight_release()
    assert as_json(status_json(release, NOW, judged(release))) == FLIGHT_JSON


def test_the_status_text_of_a_judged_flight_release_is_pinned_whole():
    release = flight_release()
    assert status_text(release, NOW, judged(release)).split("\n") == FLIGHT_TEXT
