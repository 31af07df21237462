"""What `promote apply` answers for a wrong plan (shared/domain/plan/): every problem, by field path and exact
text, as a whole list, so a problem named twice, left out, or worded otherwise fails. The operator reads these."""

from __future__ import annotations

import hashlib
import json

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import load_plan_text, validate_plan
from shared.domain.plan.durations import parse_duration
from shared.domain.plan.finishing import parse_hypercare
from shared.domain.plan.model import increasing_problems, repeated

SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"


def _plan(**fields) -> dict:
    return {"release": "r1", "model": "single-step", "workloads": [{"name": "web", "assets": ["a"]}], **fields}


def _flight(**fields) -> dict:
    return _plan(model="flight", flights=[{"percent": 10}, {"percent": 50}, {"percent": 100}], **fields)


def problems(raw) -> list[tuple[str, str]]:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def test_a_plan_is_a_mapping():
    assert problems([]) == [("", "a plan is a mapping of fields, got list")]
    assert problems(None) == [("", "a plan is a mapping of fields, got NoneType")]


def test_field_errors_are_named_by_path():
    raw = {"model": "big-bang", "workloads": [{"name": "Web", "assets": []}, {"assets": ["a"], "x": 1}], "y": 2}
    assert problems(raw) == [
        ("release", "required"),
        ("model", "Input should be 'single-step', 'staged' or 'flight'"),
        (
            "workloads[0].name",
            "'Web' must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits and '-', at most 63)",
        ),
        ("workloads[0].assets", "List should have at least 1 item after validation, not 0"),
        ("workloads[1].name", "required"),
        ("workloads[1].x", "unknown field"),
        ("y", "unknown field"),
    ]


def test_the_flight_model_needs_flights_and_only_it_may_have_them():
    assert problems(_plan(model="flight")) == [("flights", "the flight model needs flights (e.g. 10%, 50%, 100%)")]
    flights = [{"percent": 100}]
    assert problems(_plan(flights=flights)) == [("flights", "flights are only for the flight model, not single-step")]
    assert problems(_plan(model="staged", approvers=["ana"], flights=flights)) == [
        ("flights", "flights are only for the flight model, not staged")
    ]
    assert problems(_plan(model="flight", flights=[])) == [("flights", "at least one flight is needed")]


def test_flight_percents_must_increase_to_100():
    assert problems(_plan(model="flight", flights=[{"percent": 50}, {"percent": 10}, {"percent": 100}])) == [
        ("flights", "percents must be strictly increasing, got [50, 10, 100]")
    ]
    assert problems(_plan(model="flight", flights=[{"percent": 10}, {"percent": 10}, {"percent": 100}])) == [
        ("flights", "percents must be strictly increasing, got [10, 10, 100]")
    ]
    assert problems(_plan(model="flight", flights=[{"percent": 10}, {"percent": 50}])) == [
        ("flights", "the last flight must be 100%, got 50%")
    ]
    assert validate_plan(_plan(model="flight", flights=[{"percent": 100}])).flight_percents == [100]


def test_order_problems_are_named_even_when_a_flight_itself_is_invalid():
    raw = _plan(model="flight", flights=[{"percent": 0}, {"percent": 60}, {"percent": 50}])
    assert problems(raw) == [
        ("flights[0].percent", "Input should be greater than or equal to 1"),
        ("flights", "percents must be strictly increasing, got [0, 60, 50]"),
        ("flights", "the last flight must be 100%, got 50%"),
    ]
    raw = _plan(model="flight", flights=[{"percent": 10, "bake": "soon"}, {"percent": 5}, {"percent": "x"}])
    assert problems(raw) == [
        ("flights[0].bake", "'soon' is not a duration (use e.g. 30s, 10m, 1h30m)"),
        ("flights[2].percent", "Input should be a valid integer, unable to parse string as an integer"),
    ]


def test_approval():
    assert problems(_plan(model="staged")) == [("approvers", "manual approval needs at least one approver")]
    assert problems(_plan(approval="manual")) == [("approvers", "manual approval needs at least one approver")]
    assert validate_plan(_plan(model="staged", approval="auto")).approval_mode == "auto"
    assert problems(_plan(approval={"quorum": 2}, approvers=["ana"])) == [
        ("approval.quorum", "a quorum of 2 needs that many approvers in `approvers`")
    ]
    plan = validate_plan(_plan(approval={"quorum": 2, "separate_duties": True}, approvers=["ana", "bo"]))
    assert (plan.approval_mode, plan.quorum, plan.separate_duties) == ("manual", 2, True)
    assert problems(_plan(approval={"mode": "manual"})) == [
        ("approval.quorum", "a quorum of 1 needs that many approvers in `approvers`"),
        ("approvers", "manual approval needs at least one approver"),
    ]
    assert problems(_plan(approval={"mode": "auto", "quorum": 2}, approvers=["ana", "bo"])) == [
        ("", "approval.quorum counts approvers: it needs mode manual")
    ]
    plan = validate_plan(_plan())
    assert (plan.approval, plan.approval_mode, plan.quorum, plan.separate_duties) == ("auto", "auto", 1, False)
    assert validate_plan(_plan(model="staged", approvers=["ana"])).approval == "manual"


def test_actors():
    assert problems(_plan(approvers=["ana", ""])) == [("approvers", "actor '' must be 1-256 printable characters")]
    assert problems(_plan(operators=["a" * 257])) == [
        ("operators", f"actor {'a' * 257!r} must be 1-256 printable characters")
    ]
    assert validate_plan(_plan(operators=["a" * 256, "b c"])).operators == ["a" * 256, "b c"]
    assert problems(_plan(operators=["a\x1f"])) == [("operators", "actor 'a\\x1f' must be 1-256 printable characters")]
    assert problems(_plan(approvers=["group:ops"])) == [
        (
            "approvers",
            "'group:ops': a group is named group:<object-id>, the Entra ID group's object id "
            "(a GUID such as group:1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
        )
    ]
    group = "group:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert validate_plan(_plan(approvers=[group])).approvers == [group]


def test_health_needs_the_flight_model():
    health = {"checks": [{"provider": "local", "name": "c", "max": 1}]}
    assert ("health", "health judges flights; the single-step model has none") in problems(_plan(health=health))
    workload = {"name": "web", "assets": ["a"], "health": health}
    assert ("health", "health judges flights; the staged model has none") in problems(
        _plan(model="staged", approvers=["ana"], workloads=[workload])
    )


def test_on_deadline_rollback_needs_the_flight_model():
    assert problems(_plan(on_deadline="rollback")) == [
        ("on_deadline", "rollback acts on flights; the single-step model has none (use notify or pause)")
    ]
    assert validate_plan(_flight(on_deadline="rollback")).on_deadline == "rollback"


def test_after():
    assert problems(_plan(after=["r1"])) == [("after", "a release cannot wait for itself")]
    assert problems(_plan(after=["r0", "r0"])) == [("after", "releases in `after` must be unique")]
    assert problems(_plan(after=["R0"])) == [
        ("after", "'R0' must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits and '-', at most 63)")
    ]
    assert validate_plan(_plan(after=["r0", "r2"])).after == ["r0", "r2"]


def test_duplicates_are_named_when_the_plan_fails_for_another_reason_too():
    workloads = [
        {"name": "web", "assets": ["a", "b", "a"]},
        {"name": "web", "assets": ["c"]},
        {"name": "db", "assets": ["d", 7, "d"]},
        {"name": "db", "assets": ["e"]},
        "junk",
    ]
    assert problems(_plan(workloads=workloads)) == [
        ("workloads[0].assets", "duplicate assets: a"),
        ("workloads[2].assets[1]", "Input should be a valid string"),
        ("workloads[4]", "Input should be a valid dictionary or instance of Workload"),
        ("workloads", "duplicate workload names: db, web"),
        ("workloads[2].assets", "duplicate assets: d"),
    ]
    assert problems(_plan(workloads=[{"name": "web", "assets": ["a"]}, {"name": "web", "assets": ["b"]}])) == [
        ("workloads", "duplicate workload names: web")
    ]


def test_assets():
    assert problems(_plan(workloads=[{"name": "web", "assets": ["ok", "a\nb"]}])) == [
        ("workloads[0].assets", "asset 'a\\nb' must be 1-256 characters without control characters")
    ]
    assert problems(_plan(workloads=[{"name": "web", "assets": ["x" * 257]}])) == [
        ("workloads[0].assets", f"asset {'x' * 257!r} must be 1-256 characters without control characters")
    ]
    plan = validate_plan(_plan(workloads=[{"name": "web", "assets": ["x" * 256, "y"]}]))
    assert plan.workloads[0].machine_names == ["x" * 256, "y"]


LB = {
    "provider": "load-balancer",
    "subscription": SUB,
    "resource_group": "rg",
    "load_balancer": "lb",
    "backend_pool": "pool",
    "source_addresses": ["10.0.0.1"],
    "target_addresses": ["10.0.1.1"],
}


def _routed(routing: dict, flights: list[int]) -> dict:
    return _plan(
        model="flight",
        flights=[{"percent": p} for p in flights],
        workloads=[{"name": "web", "assets": ["a"], "routing": routing}],
    )


def test_all_or_nothing_routing_cannot_fly_between():
    gateway = {
        "provider": "application-gateway",
        "subscription": SUB,
        "resource_group": "rg",
        "application_gateway": "agw",
        "rule": "rule",
        "source_pool": "src",
        "target_pool": "tgt",
    }
    assert problems(_routed(gateway, [10, 50, 100])) == [
        (
            "workloads[0].routing.provider",
            "application-gateway can only realise 0% or 100%; flights 10%, 50% need local, traffic-manager, "
            "front-door, load-balancer, or application-gateway with a flight_pool",
        )
    ]
    pooled = {**gateway, "flight_pool": "fly", "source_addresses": ["10.0.0.1"], "target_addresses": ["10.0.1.1"]}
    assert validate_plan(_routed(pooled, [50, 100])).flight_percents == [50, 100]


def test_a_load_balancer_must_realise_every_flight_as_its_own_share():
    assert problems(_routed(LB, [10, 50, 100])) == [
        (
            "workloads[0].routing",
            "load-balancer with 1 source and 1 target addresses cannot realise 10% (nearest 0%); "
            "add addresses or change the flights",
        )
    ]
    assert validate_plan(_routed(LB, [50, 100])).flight_percents == [50, 100]
    three = {**LB, "source_addresses": ["10.0.0.1", "10.0.0.2"], "target_addresses": ["10.0.1.1", "10.0.1.2"]}
    assert validate_plan(_routed(three, [40, 60, 100])).flight_percents == [40, 60, 100]  # 33%, 67%
    assert problems(_routed(three, [45, 55, 100])) == [
        (
            "workloads[0].routing",
            "load-balancer realises flights [45, 55, 100] as [50, 50, 100]: two flights would route the same "
            "share; add addresses or change the flights",
        )
    ]


def test_share_problems_are_named_for_a_plan_that_failed_too():
    raw = _routed(LB, [10, 100])
    raw["wave"] = "Wave"
    assert problems(raw) == [
        ("wave", "'Wave' must match ^[a-z0-9][a-z0-9-]{0,62}$ (lowercase letters, digits and '-', at most 63)"),
        (
            "workloads[0].routing",
            "load-balancer with 1 source and 1 target addresses cannot realise 10% (nearest 0%); "
            "add addresses or change the flights",
        ),
    ]


def test_routing_section_errors():
    bad = {**LB, "target_addresses": ["10.0.0.1"]}
    assert problems(_plan(workloads=[{"name": "web", "assets": ["a"], "routing": bad}])) == [
        ("workloads[0].routing", "source_addresses and target_addresses must not overlap")
    ]
    assert problems(_plan(workloads=[{"name": "web", "assets": ["a"], "routing": {"provider": "nginx"}}])) == [
        (
            "workloads[0].routing",
            "unknown provider 'nginx'; expected one of: local, traffic-manager, load-balancer, application-gateway, "
            "route-table, front-door, dns, private-dns, azure-firewall",
        )
    ]
    assert problems(_plan(workloads=[{"name": "web", "assets": ["a"], "routing": {}}])) == [
        (
            "workloads[0].routing",
            "provider is required; one of: local, traffic-manager, load-balancer, application-gateway, "
            "route-table, front-door, dns, private-dns, azure-firewall",
        )
    ]


def test_a_release_wide_azure_vm_decommission_serves_one_workload_only():
    two = [{"name": f"w{i}", "assets": [f"a{i}"]} for i in range(7)]
    raw = _plan(workloads=two, decommission={"provider": "azure-vm", "source_vms": [VM]})
    assert problems(raw) == [
        (
            "decommission.source_vms",
            "the release-wide source_vms would power off the same servers for 7 workloads (w0, w1, w2, w3, w4); "
            "give each workload its own decommission.source_vms",
        )
    ]
    own = {"provider": "azure-vm", "source_vms": [VM.replace("/vm", "/vm2")]}
    raw["workloads"] = [{**w, "decommission": own} for w in two[:6]] + two[6:]
    assert validate_plan(raw).decommission.provider == "azure-vm"


def test_decommission_sections():
    def refused(section: dict) -> list:
        return problems(_plan(decommission=section))

    assert refused({"provider": "azure-vm"}) == [
        ("decommission", "azure-vm needs source_vms (the source servers' resource ids)")
    ]
    assert refused({"provider": "local", "source_vms": [VM]}) == [
        ("decommission", "source_vms is for provider azure-vm, not local")
    ]
    assert refused({"provider": "webhook"}) == [
        ("decommission", "webhook needs url_setting (the name of the app setting holding the URL)")
    ]
    assert refused({"provider": "local", "url_setting": "HOOK"}) == [
        ("decommission", "url_setting is for provider webhook, not local")
    ]
    assert refused({"provider": "webhook", "url_setting": "1HOOK"}) == [
        ("decommission.url_setting", "'1HOOK' is not an app setting name (letters, digits and _)")
    ]
    assert refused({"provider": "azure-vm", "source_vms": ["vm1"]}) == [
        (
            "decommission.source_vms",
            "'vm1' is not a virtual machine resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/"
            "Microsoft.Compute/virtualMachines/<name>)",
        )
    ]
    assert refused({"provider": "azure-vm", "source_vms": [VM, VM.upper()]}) == [
        ("decommission.source_vms", "source_vms must be unique")
    ]
    plan = validate_plan(_plan(decommission={"provider": "webhook", "url_setting": "_HOOK1"}))
    assert (plan.decommission.provider, plan.decommission.url_setting, plan.decommission.approval) == (
        "webhook",
        "_HOOK1",
        "manual",
    )


def test_data_sync_and_hypercare():
    def refused(**fields) -> list:
        return problems(_plan(workloads=[{"name": "web", "assets": ["a"], **fields}]))

    assert refused(data_sync={"max_lag": "5m", "max_age": 0}) == [
        ("workloads[0].data_sync.max_age", "max_age must be at least 1s: a report of age 0 is never fresh")
    ]
    assert refused(data_sync={"max_lag": "8d", "max_age": "1s"}) == [
        ("workloads[0].data_sync.max_lag", "max_lag can be at most 7d")
    ]
    assert refused(data_sync={"max_lag": -1, "max_age": True}) == [
        ("workloads[0].data_sync.max_lag", "max_lag cannot be negative"),
        ("workloads[0].data_sync.max_age", "max_age is a duration like 30s, 10m or 48h"),
    ]
    assert refused(data_sync={"max_lag": 1.5, "max_age": "soon"}) == [
        ("workloads[0].data_sync.max_lag", "1.5 is not a duration (use e.g. 5s, 2m, 48h)"),
        ("workloads[0].data_sync.max_age", "'soon' is not a duration (use e.g. 5s, 2m, 48h)"),
    ]
    sync = validate_plan(
        _plan(workloads=[{"name": "web", "assets": ["a"], "data_sync": {"max_lag": 5.0, "max_age": 1}}])
    )
    assert sync.workloads[0].data_sync.model_dump() == {"max_lag": 5, "max_age": 1}
    assert validate_plan(_plan(hypercare="365d")).hypercare == 365 * 86400
    assert problems(_plan(hypercare="366d")) == [("hypercare", "hypercare can be at most 365d")]
    assert problems(_plan(hypercare=float("inf"))) == [("hypercare", "inf is not a duration (use e.g. 5s, 2m, 48h)")]


def test_durations():
    assert parse_duration("1d2h3m4s") == ((24 + 2) * 60 + 3) * 60 + 4
    assert parse_duration(" 90s ") == 90
    assert parse_duration(0) == 0
    assert parse_duration("7d") == 7 * 86400
    assert parse_hypercare(7.0) == 7
    for wrong, text in [
        (True, "a duration is text like 30s, 10m or 1h30m"),
        ("", "'' is not a duration (use e.g. 30s, 10m, 1h30m)"),
        ("5", "'5' is not a duration (use e.g. 30s, 10m, 1h30m)"),
        ("1h1d", "'1h1d' is not a duration (use e.g. 30s, 10m, 1h30m)"),
        (1.0, "1.0 is not a duration (use e.g. 30s, 10m, 1h30m)"),
        (-1, "a duration cannot be negative"),
        (7 * 86400 + 1, "a bake time can be at most 7d"),
    ]:
        with pytest.raises(ValueError) as caught:
            parse_duration(wrong)
        assert str(caught.value) == text
    with pytest.raises(ValueError, match="^deadline can be at most 2d$"):
        parse_duration(2 * 86400 + 1, limit=2 * 86400, what="deadline")
    assert parse_duration(2 * 86400, limit=2 * 86400, what="deadline") == 2 * 86400


def test_helpers():
    assert repeated(["b", "a", "b", "c", "a", "b"]) == ["a", "b"]
    assert repeated([]) == []
    assert increasing_problems([]) == []
    assert increasing_problems([100]) == []
    assert increasing_problems([20, 10]) == [
        "percents must be strictly increasing, got [20, 10]",
        "the last flight must be 100%, got 10%",
    ]


def test_plan_lookups():
    plan = validate_plan(
        _plan(
            model="flight",
            flights=[{"percent": 50}, {"percent": 100}],
            health={"checks": [{"provider": "local", "name": "release", "max": 1}]},
            workloads=[
                {
                    "name": "web",
                    "assets": ["a"],
                    "health": {"checks": [{"provider": "local", "name": "own", "min": 0}]},
                },
                {"name": "db", "assets": ["b"], "routing": LB},
            ],
        )
    )
    assert plan.workload("web").name == "web"
    assert plan.workload("nope") is None
    assert plan.routing_of("db").provider == "load-balancer"
    with pytest.raises(KeyError) as caught:
        plan.routing_of("nope")
    assert caught.value.args == ("release r1 has no workload 'nope'",)
    assert plan.health_of("web").checks[0].name == "own"
    assert plan.health_of("db").checks[0].name == "release"
    assert plan.health_of("nope").checks[0].name == "release"
    assert plan.flight_percents == [50, 100]
    assert validate_plan(_plan()).flight_percents == []


def test_the_fingerprint_may_leave_the_people_out():
    one = validate_plan(_plan(model="staged", approvers=["ana"], operators=["bo"]))
    other = validate_plan(_plan(model="staged", approvers=["cy"], operators=["di"]))
    assert one.fingerprint() != other.fingerprint()
    assert one.fingerprint(without_people=True) == other.fingerprint(without_people=True)
    assert one.fingerprint() == validate_plan(_plan(model="staged", approvers=["ana"], operators=["bo"])).fingerprint()
    # sha256 of the canonical plan as compact JSON with sorted keys: stored releases compare it across versions
    canonical = json.dumps(one.canonical(), sort_keys=True, separators=(",", ":"))
    assert one.fingerprint() == hashlib.sha256(canonical.encode()).hexdigest()
    people = {k: v for k, v in one.canonical().items() if k not in ("approvers", "operators")}
    compact = json.dumps(people, sort_keys=True, separators=(",", ":"))
    assert one.fingerprint(without_people=True) == hashlib.sha256(compact.encode()).hexdigest()


def test_plan_text():
    assert load_plan_text(json.dumps(_plan())).release == "r1"
    assert load_plan_text("release: r1\nmodel: single-step\nworkloads: [{name: web, assets: [a]}]\n").release == "r1"
    with pytest.raises(PlanError) as caught:
        load_plan_text("release: [", filename="plan.yaml")
    [(path, reason)] = caught.value.problems
    assert path == ""
    assert reason.startswith("plan.yaml is not valid YAML or JSON: ")
    with pytest.raises(PlanError) as caught:
        load_plan_text('{"release": "r1", "release": "r2", "model": "single-step"}')
    [(path, reason)] = caught.value.problems
    assert reason.startswith("plan is not valid YAML or JSON: ")
    assert "found duplicate key 'release'" in reason
    with pytest.raises(PlanError) as caught:
        load_plan_text("release: r1\nrelease: r2\n")
    assert "found duplicate key 'release'" in caught.value.problems[0][1]
    with pytest.raises(PlanError) as caught:  # NaN is not JSON: YAML reads it as text, so the percent is wrong
        load_plan_text('{"release": "r1", "model": "flight", "flights": [{"percent": NaN}], "workloads": []}')
    assert ("flights[0].percent", "Input should be a valid integer, unable to parse string as an integer") in (
        caught.value.problems
    )
