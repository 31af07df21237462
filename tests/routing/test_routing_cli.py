"""`promote plan`, `promote routing verify` and the drift timer function, for every provider."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from shared.domain.plan import validate_plan
from shared.local.cli import main
from tests.fakes import event
from tests.routing import arm_resources as R
from tests.routing.conftest import arm_settings

PROVIDERS = ["local", "traffic-manager", "load-balancer", "application-gateway", "route-table"]
RESOURCE = f"in {R.RG} (subscription {R.SUB})"


def single_step(name: str, **extra) -> dict:
    return {
        "release": name,
        "model": "single-step",
        "revoke_access": R.revoke_access(),
        "workloads": [
            {
                "name": p.replace("-", ""),
                "assets": [f"vm-{p}"],
                "routing": {"provider": "local"} if p == "local" else R.routing(p),
            }
            for p in PROVIDERS
        ],
        **extra,
    }


def seed_all(arm) -> None:
    for doc in (R.traffic_manager(), R.load_balancer(), R.application_gateway(), R.route_table(), R.security_group()):
        arm.seed(doc)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def promote_everything(stack, name: str) -> None:
    stack.service.apply(validate_plan(single_step(name)))
    for p in PROVIDERS:
        w = p.replace("-", "")
        for type_, data in (("asset-replicated", {"asset": f"vm-{p}"}), ("tests-passed", {})):
            assert stack.service.handle(event(type_, name, w, f"{name}-{w}-{type_}", **data)).outcome == "applied"
    assert stack.store.get_release(name).release.state == "promoted"


# -- promote plan ---------------------------------------------------------------------------------
def test_plan_from_a_file_names_every_change_and_its_inverse(tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(single_step("wave-9")))
    code, out, _ = run(capsys, "plan", "--file", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    steps = {w["name"]: w["steps"] for w in doc["workloads"]}
    assert all(len(s) == 1 and (s[0]["from_percent"], s[0]["to_percent"]) == (0, 100) for s in steps.values())
    change = {name: s[0]["changes"] for name, s in steps.items()}
    assert change["local"] == [
        {"resource": "local routing record wave-9/local", "property": "traffic_percent", "from": "0", "to": "100"}
    ]
    assert change["trafficmanager"] == [
        {
            "resource": f"Traffic Manager profile tm-payroll {RESOURCE}",
            "property": "externalEndpoints/payroll-onprem: endpointStatus, weight",
            "from": "Enabled",
            "to": "Disabled",
        },
        {
            "resource": f"Traffic Manager profile tm-payroll {RESOURCE}",
            "property": "externalEndpoints/payroll-azure: endpointStatus, weight",
            "from": "Disabled",
            "to": "Enabled",
        },
    ]
    assert change["loadbalancer"] == [
        {
            "resource": f"load balancer lb-payroll {RESOURCE}",
            "property": "backendAddressPools/be-payroll: loadBalancerBackendAddresses",
            "from": "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7 (0% target)",
            "to": "10.1.1.4, 10.1.1.5, 10.1.1.6, 10.1.1.7 (100% target)",
        }
    ]
    assert change["applicationgateway"] == [
        {
            "resource": f"application gateway agw-payroll {RESOURCE}",
            "property": "requestRoutingRules/rule-payroll: backendAddressPool",
            "from": "backendAddressPools/pool-onprem",
            "to": "backendAddressPools/pool-azure",
        }
    ]
    assert change["routetable"] == [
        {
            "resource": f"route table rt-payroll {RESOURCE}",
            "property": "routes/to-payroll: nextHopIpAddress",
            "from": "10.0.0.4",
            "to": "10.1.0.4",
        }
    ]
    for s in steps.values():  # the inverse of promotion is the rollback: every change undone
        assert s[0]["inverse"] == [{**c, "from": c["to"], "to": c["from"]} for c in s[0]["changes"]]
    assert doc["revoke_access"]["changes"] == [
        {
            "resource": f"network security group nsg-payroll {RESOURCE}",
            "property": "securityRules/deny-migration-team",
            "from": "absent",
            "to": "Deny inbound from 10.50.0.0/24, any port and protocol, priority 100",
        }
    ]

    code, text, _ = run(capsys, "plan", "--file", str(path))
    assert code == 0 and "routetable  route-table  route table rt-payroll" in text
    assert (
        "    change    routes/to-payroll: nextHopIpAddress\n              from 10.0.0.4\n              to   10.1.0.4"
        in text
    )


def test_plan_of_an_applied_flight_release(arm_stack, release_name, capsys):
    plan = {
        "release": release_name,
        "model": "flight",
        "flights": [{"percent": 10}, {"percent": 50}, {"percent": 100}],
        "workloads": [
            {"name": "payroll", "assets": ["vm-1"], "routing": R.routing("load-balancer")},
            {"name": "hr", "assets": ["vm-2"], "routing": R.routing("traffic-manager")},
        ],
    }
    arm_stack.service.apply(validate_plan(plan))
    code, out, _ = run(capsys, "plan", "--release", release_name, "--json")
    assert code == 0
    payroll, hr = json.loads(out)["workloads"]
    assert (payroll["state"], payroll["traffic_percent"]) == ("replicating", 0)
    assert [(s["step"], s["requested_percent"], s["from_percent"], s["to_percent"]) for s in payroll["steps"]] == [
        ("flight 1", 10, 0, 20),
        ("flight 2", 50, 20, 50),
        ("flight 3", 100, 50, 100),
    ]
    assert payroll["steps"][0]["changes"][0]["to"] == "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7, 10.1.1.4 (20% target)"
    assert payroll["steps"][1]["inverse"][0]["to"] == "10.0.1.4, 10.0.1.5, 10.0.1.6, 10.0.1.7 (0% target)"
    assert [[c["to"] for c in s["changes"]] for s in hr["steps"]] == [
        ["Enabled, weight 90", "Enabled, weight 10"],
        ["Enabled, weight 50", "Enabled, weight 50"],
        ["Disabled"],
    ]  # at 100% the target keeps weight 50: alone, it carries every user
    code, text, _ = run(capsys, "plan", "--release", release_name)
    assert "  flight 1: 0% -> 20% (asked 10%)" in text


def test_plan_usage_errors(arm_stack, capsys):
    assert run(capsys, "plan", "--release", "never-applied")[0] == 2
    assert run(capsys, "plan", "--file", "/nonexistent/plan.yaml")[0] == 2


# -- promote routing verify -----------------------------------------------------------------------
def test_verify_every_provider_then_drift_on_one(arm, arm_stack, release_name, capsys):
    seed_all(arm)
    promote_everything(arm_stack, release_name)
    code, out, _ = run(capsys, "routing", "verify", "--release", release_name, "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["drift"] is False and doc["errors"] is False
    assert [(w["provider"], w["expected_percent"], w["live_percent"]) for w in doc["workloads"]] == [
        (p, 100, 100) for p in PROVIDERS
    ]

    arm.edit(
        f"{R.NET}/routeTables/rt-payroll/routes/to-payroll",
        lambda route: route["properties"].update(nextHopIpAddress="10.0.0.4"),
    )
    writes = len(arm.writes())
    code, out, _ = run(capsys, "routing", "verify", "--release", release_name, "--json")
    assert code == 1
    drifted = [w for w in json.loads(out)["workloads"] if w["drift"]]
    assert drifted == [
        {
            "workload": "routetable",
            "provider": "route-table",
            "resource": f"route table rt-payroll {RESOURCE}",
            "expected_percent": 100,
            "live_percent": 0,
            "drift": True,
            "error": None,
            "differences": [
                {
                    "resource": f"route table rt-payroll {RESOURCE}",
                    "property": "routes/to-payroll: nextHopIpAddress",
                    "from": "10.0.0.4",
                    "to": "10.1.0.4",
                }
            ],
        }
    ]
    assert len(arm.writes()) == writes  # verify never writes

    code, text, _ = run(capsys, "routing", "verify", "--release", release_name)
    assert code == 1
    assert (
        f"DRIFT  routetable          state 100%  live   0%  drift on route table rt-payroll {RESOURCE}: live 0%" in text
    )
    assert text.rstrip().endswith(f"release {release_name}: drift found")


def test_verify_reports_a_resource_it_cannot_read(arm, arm_stack, release_name, capsys):
    seed_all(arm)
    promote_everything(arm_stack, release_name)
    arm.fail("GET", "applicationgateways/agw-payroll", 403, times=5)
    code, out, _ = run(capsys, "routing", "verify", "--release", release_name, "--json")
    assert code == 1
    [failed] = [w for w in json.loads(out)["workloads"] if w["error"]]
    assert failed["workload"] == "applicationgateway" and failed["drift"] is False
    assert failed["error"].startswith(
        f"application gateway agw-payroll {RESOURCE}: access denied (403); the identity "
        "needs Microsoft.Network/applicationGateways/read"
    )


# -- the drift function ---------------------------------------------------------------------------
@pytest.fixture
def own_storage(arm, credential, tmp_path):
    """A stack on an Azurite of its own: the drift function checks every release in the account."""
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.azurite import start
    from tests.fakes import FakeClock

    azurite = start()
    base = load_settings(
        {"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string, "PROMOTE_HOME": str(tmp_path / ".promote")}
    )
    stack = Stack(arm_settings(arm, credential, base=base), clock=FakeClock())
    use_stack(stack)
    yield stack
    use_stack(None)
    azurite.stop()


def _drift_function():
    from functions.drift import bp

    app = func.FunctionApp()
    app.register_functions(bp)
    [function] = app.get_functions()
    return function


def test_the_drift_function_is_a_five_minute_timer():
    function = _drift_function()
    [binding] = [b.get_dict_repr() for b in function.get_bindings()]
    assert (function.get_function_name(), binding["type"], binding["schedule"], binding["runOnStartup"]) == (
        "drift",
        "timerTrigger",
        "0 */5 * * * *",
        False,
    )


def test_the_drift_function_records_drift_in_the_history(arm, own_storage):
    seed_all(arm)
    promote_everything(own_storage, "wave-1")
    drift = _drift_function().get_user_function()
    drift(TimerRequest())
    assert [e for e in own_storage.store.list_history("wave-1") if e.type == "drift-check"] == []

    gateway = f"{R.NET}/applicationGateways/agw-payroll"
    arm.edit(
        gateway,
        lambda gw: gw["properties"]["requestRoutingRules"][0]["properties"]["backendAddressPool"].update(
            id=f"{gateway}/backendAddressPools/pool-onprem"
        ),
    )
    drift(TimerRequest())
    drift(TimerRequest())  # the same drift is recorded once
    [entry] = [e for e in own_storage.store.list_history("wave-1") if e.type == "drift-check"]
    assert (entry.workload, entry.outcome, entry.traffic_percent) == ("applicationgateway", "ignored", 100)
    assert entry.reason == (
        f"drift on application gateway agw-payroll {RESOURCE}: live 0%, state says 100% (requestRoutingRules/"
        "rule-payroll: backendAddressPool is backendAddressPools/pool-onprem, expected backendAddressPools/pool-azure)"
        "; reported only (on_drift: report)"
    )

    arm.fail("GET", "routeTables/rt-payroll", 403, times=10)
    with pytest.raises(RuntimeError, match="drift check could not read: wave-1/routetable: route to-payroll"):
        drift(TimerRequest())
