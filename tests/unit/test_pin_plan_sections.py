"""The plan's smaller sections (shared/domain/plan/time.py, notify.py, retry.py, budgets.py, routing.py): each
refusal by path and exact text, at its bounds, as `promote apply` answers it."""

from __future__ import annotations

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from shared.domain.plan.time import clock_time, zone_problem

SUB = "00000000-0000-0000-0000-000000000001"


def _plan(**fields) -> dict:
    return {"release": "r1", "model": "single-step", "workloads": [{"name": "web", "assets": ["a"]}], **fields}


def problems(raw) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def test_deadlines():
    assert validate_plan(_plan(deadlines={"testing": "90d", "approval": None})).deadlines.testing == 90 * 86400
    assert problems(_plan(deadlines={"testing": "91d"})) == [("deadlines.testing", "a deadline can be at most 90d")]
    assert problems(_plan(deadlines={"verdict": 0})) == [("deadlines.verdict", "a deadline must be longer than 0s")]
    assert validate_plan(_plan(deadlines={"verdict": 1})).deadlines.verdict == 1


def _windows(**fields) -> dict:
    return _plan(windows={"timezone": "UTC", **fields})


def test_allowed_slots():
    slot = {"days": ["mon"], "from": "22:00", "to": "02:00"}
    windows = validate_plan(_windows(allow=[slot, {"days": ["sun"], "from": "00:00", "to": "24:00"}])).windows
    assert [(s.start.isoformat(), s.end.isoformat()) for s in windows.allow] == [
        ("22:00:00", "02:00:00"),
        ("00:00:00", "00:00:00"),
    ]
    assert problems(_windows(allow=[{**slot, "from": "24:00"}])) == [("windows.allow[0]", "`from` must be 00:00-23:59")]
    assert problems(_windows(allow=[{**slot, "to": "22:00"}])) == [
        (
            "windows.allow[0]",
            "`from` and `to` are equal: the slot would be empty (use 00:00-24:00 for a whole day)",
        )
    ]
    assert problems(_windows(allow=[{**slot, "from": "7:00", "to": "24:01"}])) == [
        ("windows.allow[0].from", "'7:00' is not a time of day HH:MM (00:00-23:59, or 24:00 for `to`)"),
        ("windows.allow[0].to", "'24:01' is not a time of day HH:MM (00:00-23:59, or 24:00 for `to`)"),
    ]
    assert problems(_windows(allow=[{**slot, "days": ["mon", "mon"]}])) == [
        ("windows.allow[0].days", "days must be unique")
    ]
    assert clock_time("23:59").isoformat() == "23:59:00"
    assert clock_time("24:00").isoformat() == "00:00:00"


def test_denied_periods():
    period = {"from": "2026-12-24T00:00:00", "to": "2026-12-27T00:00:00", "reason": "holidays"}
    assert validate_plan(_windows(deny=[period])).windows.deny[0].reason == "holidays"
    assert problems(_windows(deny=[{**period, "to": "2026-12-24T00:00:00"}])) == [
        ("windows.deny[0]", "`to` must be after `from`")
    ]
    assert problems(_windows(deny=[{**period, "to": "2026-12-27T00:00:00Z"}])) == [
        ("windows.deny[0]", "`from` and `to` must both be local times, or both carry an offset")
    ]
    year = {**period, "to": "2027-12-25T00:00:00"}  # 366 days
    assert validate_plan(_windows(deny=[year])).windows.deny[0].to.year == 2027
    assert problems(_windows(deny=[{**period, "to": "2027-12-25T00:00:01"}])) == [
        ("windows.deny[0]", "a denied period can be at most 366 days")
    ]


def test_time_zones():
    assert problems(_plan(windows={"timezone": "Mars/Olympus"})) == [
        ("windows.timezone", "'Mars/Olympus' is not an IANA time zone (e.g. Europe/Amsterdam, UTC)")
    ]
    assert problems(_plan(windows={"timezone": "US/Eastern"})) == [
        (
            "windows.timezone",
            "'US/Eastern' is not an IANA region name: use Area/Location as the tz database spells it (e.g. "
            "Europe/Amsterdam, America/New_York, Etc/GMT-2) or UTC, not a host's own name or an old alias",
        )
    ]
    assert zone_problem("America/Argentina/Buenos_Aires") is None
    assert zone_problem("Etc/GMT-2") is None
    assert zone_problem("UTC") is None
    assert zone_problem("Europe/Amsterdam/Extra/More") is not None
    assert zone_problem("GB") is not None
    assert zone_problem("Europe/Nowhere") is not None


def test_notify_targets():
    assert validate_plan(_plan(notify=[{"kind": "teams", "url_setting": "TEAMS_URL"}])).notify[0].on == [
        "awaiting-approval",
        "flight-started",
        "rolled-back",
        "promoted",
        "deadline",
        "finalized",
        "override-rejected",
    ]
    for reserved in ("PROMOTE_KEY", "AzureWebJobsStorage", "website_x", "MSI_SECRET", "azure_client_secret"):
        assert problems(_plan(notify=[{"kind": "webhook", "url_setting": reserved}])) == [
            (
                "notify[0].url_setting",
                f"{reserved} is one of promote's or the platform's own settings; name a setting that holds only "
                "the receiver's URL",
            )
        ]
    assert problems(_plan(notify=[{"kind": "teams", "url_setting": "https://x"}]))[0][0] == "notify[0].url_setting"
    assert problems(_plan(notify=[{"kind": "teams", "url_setting": "U", "on": []}])) == [
        ("notify[0].on", "List should have at least 1 item after validation, not 0")
    ]


def test_retry():
    assert validate_plan(_plan()).retry.max == 3600
    assert validate_plan(_plan(retry={"max": "1m"})).retry.max == 60
    assert problems(_plan(retry={"max": "59s"})) == [
        ("retry.max", "retry.max must be at least 1m: Azure's own short outages take that long")
    ]
    assert problems(_plan(retry={"max": "8d"})) == [("retry.max", "retry.max can be at most 7d")]


def test_budgets():
    plan = validate_plan(
        _plan(budgets={"arm_writes_per_s": 2, "arm_write_burst": 50.0, "logs_queries_per_30s": 100000})
    )
    assert plan.azure_budgets.model_dump() == {
        "arm_writes_per_s": 2.0,
        "arm_write_burst": 50,
        "logs_queries_per_30s": 100000,
    }
    assert validate_plan(_plan()).azure_budgets.model_dump() == {
        "arm_writes_per_s": 10.0,
        "arm_write_burst": 200,
        "logs_queries_per_30s": 200,
    }
    assert problems(
        _plan(budgets={"arm_writes_per_s": True, "arm_write_burst": 1.5, "logs_queries_per_30s": 100001})
    ) == [
        ("budgets.arm_writes_per_s", "budgets.arm_writes_per_s must be a number, got True"),
        ("budgets.arm_write_burst", "budgets.arm_write_burst must be a whole number, got 1.5"),
        ("budgets.logs_queries_per_30s", "budgets.logs_queries_per_30s must be above 0 and at most 100000, got 100001"),
    ]
    fractional = validate_plan(
        _plan(budgets={"arm_writes_per_s": 2.5, "arm_write_burst": 1, "logs_queries_per_30s": 1})
    )
    assert fractional.azure_budgets.model_dump() == {
        "arm_writes_per_s": 2.5,
        "arm_write_burst": 1,
        "logs_queries_per_30s": 1,
    }
    assert validate_plan(_plan(budgets={"arm_writes_per_s": 0.5})).azure_budgets.arm_writes_per_s == 0.5
    assert problems(_plan(budgets={"arm_writes_per_s": 0, "arm_write_burst": "9"})) == [
        ("budgets.arm_writes_per_s", "budgets.arm_writes_per_s must be above 0 and at most 100000, got 0"),
        ("budgets.arm_write_burst", "budgets.arm_write_burst must be a number, got '9'"),
    ]


def _routing_problems(section: dict) -> list:
    return problems(_plan(workloads=[{"name": "web", "assets": ["a"], "routing": section}]))


AZ = {"subscription": SUB, "resource_group": "rg"}


def test_routing_sections():
    gateway = {
        "provider": "application-gateway",
        **AZ,
        "application_gateway": "g",
        "rule": "r",
        "source_pool": "src",
        "target_pool": "tgt",
    }
    assert _routing_problems({**gateway, "flight_pool": "f"}) == [
        (
            "workloads[0].routing",
            "flight_pool, source_addresses and target_addresses go together (flights on one pool)",
        )
    ]
    pooled = {**gateway, "source_addresses": ["10.0.0.1"], "target_addresses": ["app.contoso.com"]}
    assert _routing_problems({**pooled, "flight_pool": "SRC"}) == [
        ("workloads[0].routing", "flight_pool must be a pool of its own, not the source or target pool")
    ]
    assert _routing_problems({**pooled, "flight_pool": "f", "target_addresses": ["10.0.0.1"]}) == [
        ("workloads[0].routing", "source_addresses and target_addresses must not overlap")
    ]
    assert _routing_problems({**pooled, "flight_pool": "f", "source_addresses": ["bad host!"]}) == [
        ("workloads[0].routing.source_addresses", "'bad host!' is neither an IP address nor a host name")
    ]
    assert _routing_problems({**pooled, "flight_pool": "f", "source_addresses": ["A.example", "a.example"]}) == [
        ("workloads[0].routing.source_addresses", "addresses must be unique")
    ]
    door = {
        "provider": "front-door",
        **AZ,
        "profile": "p",
        "origin_group": "og",
        "source_origin": "o1",
        "target_origin": "O1",
    }
    assert _routing_problems(door) == [
        ("workloads[0].routing", "source_origin and target_origin must be two different origins")
    ]
    balancer = {
        "provider": "load-balancer",
        **AZ,
        "load_balancer": "lb",
        "backend_pool": "p",
        "source_addresses": ["10.0.0.1", "10.0.0.1"],
        "target_addresses": ["10.0.1.1"],
    }
    assert _routing_problems(balancer) == [("workloads[0].routing.source_addresses", "addresses must be unique")]


def test_revoke_access():
    assert problems(_plan(revoke_access={"source_prefixes": ["10.0.0.0/8"], "subscription": SUB})) == [
        ("revoke_access", "network-security-group needs resource_group, network_security_group")
    ]
    local = validate_plan(_plan(revoke_access={"provider": "local", "source_prefixes": ["10.0.0.1/8"]})).revoke_access
    assert (local.rule, local.priority, local.source_prefixes) == ("deny-migration-team", 100, ["10.0.0.1/8"])
    assert (
        problems(_plan(revoke_access={"provider": "local", "source_prefixes": ["10.0.0.0/8"], "priority": 99}))[0][0]
        == "revoke_access.priority"
    )


def test_a_gateway_pool_takes_ipv6_addresses_and_host_names():
    gateway = {
        "provider": "application-gateway",
        **AZ,
        "application_gateway": "g",
        "rule": "r",
        "source_pool": "src",
        "target_pool": "tgt",
        "flight_pool": "f",
        "source_addresses": ["::1", "10.0.0.1"],
        "target_addresses": ["app.contoso.com"],
    }
    raw = {"release": "r1", "model": "single-step", "workloads": [{"name": "w", "assets": ["a"], "routing": gateway}]}
    assert validate_plan(raw).workloads[0].routing.source_addresses == ["::1", "10.0.0.1"]


def test_the_canonical_plan_keeps_the_windows_from_key():
    slot = {"days": ["mon"], "from": "22:00", "to": "02:00"}
    period = {"from": "2026-12-24T00:00:00", "to": "2026-12-27T00:00:00", "reason": "x"}
    windows = validate_plan(_windows(allow=[slot], deny=[period])).canonical()["windows"]
    assert windows == {
        "timezone": "UTC",
        "allow": [{"days": ["mon"], "from": "22:00", "to": "02:00"}],
        "deny": [{"from": "2026-12-24T00:00:00", "to": "2026-12-27T00:00:00", "reason": "x"}],
        "advance_when_denied": False,
    }
