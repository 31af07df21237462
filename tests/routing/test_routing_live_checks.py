"""`promote plan --live` and `promote apply` read the Azure resources first: what Azure or promote would refuse
is shown before the release starts (issue 10, items 1 and 3)."""

from __future__ import annotations

import json

from tests.routing import arm_resources as R
from tests.routing.test_routing_cli import run


def _plan_file(tmp_path, name: str, **revoke) -> str:
    plan = {
        "release": name,
        "model": "flight",
        "flights": [{"percent": 10}, {"percent": 50}, {"percent": 100}],
        "revoke_access": R.revoke_access(**revoke),
        "workloads": [
            {"name": "payroll", "assets": ["vm-1"], "routing": R.routing("load-balancer")},
            {"name": "web", "assets": ["vm-2"], "routing": R.routing("front-door")},
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return str(path)


def test_plan_live_names_foreign_members_and_a_taken_priority(arm, arm_stack, tmp_path, capsys, release_name):
    arm.seed(R.load_balancer(foreign=True))
    arm.seed(R.security_group())
    for doc in R.front_door():
        arm.seed(doc)
    path = _plan_file(tmp_path, release_name, priority=200)
    code, out, _ = run(capsys, "plan", "--file", path, "--live", "--json")
    assert code == 0
    doc = json.loads(out)
    payroll, web = doc["workloads"]
    assert [p.split(": refused before any change: ")[1][:32] for p in payroll["problems"]] == [
        "20% would really be 17% of the t",
        "50% would really be 44% of the t",
        "100% would really be 80% of the ",
    ]
    assert web["problems"] == []  # the standby origin has a lower priority: it gets no requests
    [clash] = doc["revoke_access"]["problems"]
    assert "priority 200 is already held by inbound rule allow-https" in clash
    code, text, _ = run(capsys, "plan", "--file", path, "--live")
    assert "live check: would be REFUSED" in text and "revoke_access: network security group nsg-payroll" in text
    assert arm.writes() == []  # looking never writes


def test_apply_refuses_a_priority_azure_would_refuse_and_warns_of_foreign_members(
    arm, arm_stack, tmp_path, capsys, release_name
):
    arm.seed(R.load_balancer(foreign=True))
    arm.seed(R.security_group())
    for doc in R.front_door():
        arm.seed(doc)
    code, _, err = run(capsys, "apply", _plan_file(tmp_path, release_name, priority=200))
    assert code == 2 and "revoke_access.priority: network security group nsg-payroll" in err
    assert release_name not in arm_stack.store.list_releases()
    code, out, err = run(capsys, "apply", _plan_file(tmp_path, release_name, priority=150))
    assert code == 0 and "registered" in out
    assert "warning: payroll: backend pool be-payroll" in err and R.MONITOR in err
    assert arm.writes() == []
