"""The flight model end to end on Azure routing: PromotionService with the table store on Azurite and the real
router factory, the management SDKs talking to the local Resource Manager."""

from __future__ import annotations

import itertools
import re

from shared.application.drift import check_release, verify_release
from shared.domain.plan import validate_plan
from tests.fakes import event
from tests.routing import arm_resources as R

LB_POOL = f"{R.NET}/loadBalancers/lb-payroll/backendAddressPools/be-payroll"
TM = f"{R.NET}/trafficManagerProfiles/tm-payroll"
NSG_RULE = f"{R.NET}/networkSecurityGroups/nsg-payroll/securityRules/deny-migration-team"
ASSETS = ["vm-payroll-web-01", "vm-payroll-db-01"]


def flight_plan(name: str, routing: dict, **extra):
    return validate_plan(
        {
            "release": name,
            "model": "flight",
            "approvers": ["ana@contoso.com"],
            "operators": ["ops@contoso.com"],
            "flights": [{"percent": 10, "bake": "0s"}, {"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
            "workloads": [{"name": "payroll", "assets": ASSETS, "routing": routing}],
            **extra,
        }
    )


def sender(service, release: str):
    ids = itertools.count(1)

    def send(type_: str, workload: str | None = "payroll", **data):
        result = service.handle(event(type_, release, workload, f"{release}-{next(ids)}", **data))
        assert result.outcome == "applied", result.reason
        return result

    return send


def lines(arm) -> list[str]:
    return [r.short() for r in arm.log]


def _shares(store, release: str) -> list[int]:
    shares = [e.traffic_percent for e in store.list_history(release, "payroll")]
    return [s for i, s in enumerate(shares) if i == 0 or s != shares[i - 1]]


def test_flight_on_load_balancer_end_to_end(arm, arm_stack, release_name):
    arm.seed(R.load_balancer())
    arm.seed(R.security_group())
    service, store = arm_stack.service, arm_stack.store
    service.apply(flight_plan(release_name, R.routing("load-balancer"), revoke_access=R.revoke_access()))
    send = sender(service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    assert arm.log == []  # nothing touches the network before the first flight
    send("tests-passed")
    for flight in (1, 2, 3):
        send("flight-healthy", flight=flight)

    release = store.get_release(release_name).release
    assert (release.state, release.workloads["payroll"].traffic_percent, release.access_revoked) == (
        "promoted",
        100,
        True,
    )
    assert _shares(store, release_name) == [0, 20, 50, 100]  # 10% is realised as 1 target of 5 addresses
    pool = [a["properties"]["ipAddress"] for a in arm.get(LB_POOL)["properties"]["loadBalancerBackendAddresses"]]
    assert pool == R.TARGETS
    assert arm.get(NSG_RULE)["properties"]["access"] == "Deny"

    pool_path = "loadBalancers/lb-payroll/backendAddressPools/be-payroll"
    rule_path = "networkSecurityGroups/nsg-payroll/securityRules/deny-migration-team"
    lro = [
        "GET locations/westeurope/operations/{id} 200 InProgress",
        "GET locations/westeurope/operations/{id} 200 Succeeded",
    ]
    sources = ",".join(R.SOURCES)
    etags = iter(r.headers.get("If-Match") for r in arm.log if r.method == "PUT" and "If-Match" in r.headers)
    assert lines(arm) == [
        f"GET {pool_path} 200",
        f"PUT {pool_path} 201 [If-Match: {next(etags)}] addresses={sources},10.1.1.4",
        *lro,
        f"GET {pool_path} 200",
        f"GET {pool_path} 200",
        f"PUT {pool_path} 201 [If-Match: {next(etags)}] addresses={sources},{','.join(R.TARGETS)}",
        *lro,
        f"GET {pool_path} 200",
        f"GET {pool_path} 200",
        f"PUT {pool_path} 201 [If-Match: {next(etags)}] addresses={','.join(R.TARGETS)}",
        *lro,
        f"GET {pool_path} 200",
        # one read of the group: promote's rule (absent) and the others, checked for the priority and for an
        # earlier Allow that would let the team in
        "GET networkSecurityGroups/nsg-payroll 200",
        f'PUT {rule_path} 201 [If-None-Match: *] {{"access":"Deny","destinationAddressPrefix":"*",'
        f'"destinationPortRange":"*","direction":"Inbound","priority":100,"protocol":"*",'
        f'"sourceAddressPrefixes":["10.50.0.0/24"],"sourcePortRange":"*"}}',
        *lro,
        f"GET {rule_path} 200",
    ]
    print("\nrequest log of one full flight on load-balancer:\n  " + "\n  ".join(lines(arm)))


def test_flight_on_traffic_manager_with_a_rollback_and_a_retry(arm, arm_stack, release_name):
    arm.seed(R.traffic_manager())
    dr_before = next(e for e in arm.get(TM)["properties"]["endpoints"] if e["name"] == "payroll-dr")
    service, store = arm_stack.service, arm_stack.store
    service.apply(flight_plan(release_name, R.routing("traffic-manager")))
    send = sender(service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    send("tests-passed")
    send("flight-healthy", flight=1)
    send("flight-unhealthy", flight=2)  # on_alert: rollback
    assert store.get_release(release_name).release.workloads["payroll"].state == "rolled-back"
    send("override", action="retry", actor="ops@contoso.com", reason="fixed the config")
    send("tests-passed")
    for flight in (1, 2, 3):
        send("flight-healthy", flight=flight)

    release = store.get_release(release_name).release
    assert (release.state, release.workloads["payroll"].traffic_percent) == ("promoted", 100)
    assert _shares(store, release_name) == [0, 10, 50, 0, 10, 50, 100]
    endpoints = {e["name"]: e for e in arm.get(TM)["properties"]["endpoints"]}
    assert (
        endpoints["payroll-onprem"]["properties"]["endpointStatus"],
        endpoints["payroll-azure"]["properties"]["endpointStatus"],
        endpoints["payroll-azure"]["properties"]["weight"],
    ) == ("Disabled", "Enabled", 50)
    assert endpoints["payroll-dr"] == dr_before

    profile = "trafficmanagerprofiles/tm-payroll"
    onprem, azure = (
        f"PATCH {profile}/ExternalEndpoints/payroll-onprem 200",
        f"PATCH {profile}/ExternalEndpoints/payroll-azure 200",
    )
    get = f"GET {profile} 200"
    # each move: read the profile, PATCH the endpoints that change, read it back (Traffic Manager has no ETags)
    flight_up = [
        get,
        azure + ' {"endpointStatus":"Enabled","weight":10}',
        onprem + ' {"endpointStatus":"Enabled","weight":90}',
        get,
        get,
        azure + ' {"endpointStatus":"Enabled","weight":50}',
        onprem + ' {"endpointStatus":"Enabled","weight":50}',
        get,
    ]
    assert lines(arm) == [
        *flight_up,
        get,
        azure + ' {"endpointStatus":"Disabled"}',
        get,  # rollback: the source already has users, keeps weight 50
        *flight_up,
        get,
        onprem + ' {"endpointStatus":"Disabled"}',
        get,  # 100%: the target alone, its weight kept
    ]


def test_verify_and_drift_report_then_reapply(arm, arm_stack, release_name):
    arm.seed(R.traffic_manager())
    service, store = arm_stack.service, arm_stack.store
    service.apply(flight_plan(release_name, R.routing("traffic-manager")))
    send = sender(service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    send("tests-passed")  # flight 1: 10%
    now = arm_stack.clock.now()
    assert check_release(store, service.routers, release_name, now) == (
        verify_release(store.get_release(release_name).release, service.routers),
        [],
    )

    def someone_rebalances(profile):
        for e in profile["properties"]["endpoints"]:
            if e["name"] == "payroll-azure":
                e["properties"]["weight"] = 90

    arm.edit(TM, someone_rebalances)
    arm.clear_log()
    checks, entries = check_release(store, service.routers, release_name, now)
    assert [(c.expected_percent, c.live_percent, c.drift) for c in checks] == [(10, 50, True)]
    [entry] = entries
    assert (entry.type, entry.outcome, entry.workload, entry.traffic_percent) == (
        "drift-check",
        "ignored",
        "payroll",
        10,
    )
    assert entry.reason.startswith(f"drift on Traffic Manager profile tm-payroll in {R.RG}")
    assert (
        "externalEndpoints/payroll-azure: endpointStatus, weight is Enabled, weight 90, expected Enabled, weight 10"
        in entry.reason
        and entry.reason.endswith("reported only (on_drift: report)")
    )
    assert store.list_history(release_name, "payroll")[-1] == entry
    assert arm.writes() == []
    # the same drift again is not recorded twice; the release's state is untouched
    assert check_release(store, service.routers, release_name, now)[1] == []
    assert store.get_release(release_name).release.workloads["payroll"].traffic_percent == 10


def test_drift_is_reapplied_when_the_plan_says_so(arm, arm_stack, release_name):
    arm.seed(R.load_balancer())
    service, store = arm_stack.service, arm_stack.store
    service.apply(flight_plan(release_name, R.routing("load-balancer"), on_drift="reapply"))
    send = sender(service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    send("tests-passed")
    send("flight-healthy", flight=1)  # flight 2: 50%
    arm.edit(LB_POOL, lambda pool: pool["properties"]["loadBalancerBackendAddresses"].pop())  # a target goes
    checks, [entry] = check_release(store, service.routers, release_name, arm_stack.clock.now())
    assert (checks[0].live_percent, entry.outcome) == (43, "applied")
    assert entry.reason.endswith("re-applying 50% (on_drift: reapply)")
    assert [c.drift for c in verify_release(store.get_release(release_name).release, service.routers)] == [False]
    pool = [a["properties"]["ipAddress"] for a in arm.get(LB_POOL)["properties"]["loadBalancerBackendAddresses"]]
    assert sorted(pool) == sorted(R.SOURCES + R.TARGETS)


def test_the_history_records_the_change_actually_made(arm, arm_stack, release_name):
    arm.seed(R.route_table())
    plan = validate_plan(
        {
            "release": release_name,
            "model": "single-step",
            "workloads": [{"name": "payroll", "assets": ASSETS, "routing": R.routing("route-table")}],
        }
    )
    arm_stack.service.apply(plan)
    send = sender(arm_stack.service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    result = send("tests-passed")
    assert (
        f"route table rt-payroll in {R.RG} (subscription {R.SUB}): routes/to-payroll: nextHopIpAddress "
        "10.0.0.4 -> 10.1.0.4" in result.entries[-1].reason
    )


def test_flight_on_front_door_end_to_end(arm, arm_stack, release_name):
    for doc in R.front_door():
        arm.seed(doc)
    service, store = arm_stack.service, arm_stack.store
    service.apply(flight_plan(release_name, R.routing("front-door")))
    send = sender(service, release_name)
    for asset in ASSETS:
        send("asset-replicated", asset=asset)
    send("tests-passed")
    for flight in (1, 2, 3):
        send("flight-healthy", flight=flight)
    release = store.get_release(release_name).release
    assert (release.state, release.workloads["payroll"].traffic_percent) == ("promoted", 100)
    assert _shares(store, release_name) == [0, 10, 50, 100]  # exact shares, as weights allow
    group = "profiles/afd-payroll/originGroups/og-payroll"
    onprem, azure = f"PATCH {group}/origins/payroll-onprem 202", f"PATCH {group}/origins/payroll-azure 202"
    lro = ["GET operationresults/{id} 200 InProgress", "GET operationresults/{id} 200 Succeeded"]
    listing = f"GET {group}/origins 200"

    def patch(line: str, body: str, final: str) -> list[str]:
        return [f"{line} {body}", *lro, f"GET {group}/origins/{final} 200"]

    band = f"GET {group} 200"  # a split between 0 and 100 reads the group's latency band
    assert [re.sub(r"operationresults/[^ ]+", "operationresults/{id}", line) for line in lines(arm)] == [
        listing,
        band,
        *patch(azure, '{"enabledState":"Enabled","weight":10}', "payroll-azure"),
        *patch(onprem, '{"enabledState":"Enabled","weight":90}', "payroll-onprem"),
        listing,
        listing,
        band,
        *patch(azure, '{"enabledState":"Enabled","weight":50}', "payroll-azure"),
        *patch(onprem, '{"enabledState":"Enabled","weight":50}', "payroll-onprem"),
        listing,
        listing,
        *patch(onprem, '{"enabledState":"Disabled"}', "payroll-onprem"),
        listing,
    ]
    print("\nrequest log of one Front Door flight (10/50/100):\n  " + "\n  ".join(lines(arm)))
