"""The release page on the real Azurite (v3 §19, §16): a health panel with the judge's latest values, each
workload's latest rehearsal, and the workloads filtered by a piece of their name."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from shared.application.board.release_page import rehearsal_of
from shared.application.bootstrap import Stack
from shared.application.config import JUDGE_TABLE, RELEASES_TABLE
from shared.domain.health import CheckResult, JudgeRecord
from shared.domain.plan import validate_plan
from shared.domain.times import ms
from shared.local.board import board_app
from tests.fakes import FakeClock, event
from tests.migrate.fake_migrator import FakeMigrator

OPERATOR = "ops@contoso.com"
SUB = "00000000-0000-0000-0000-000000000000"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg-mig/providers/Microsoft.RecoveryServices/vaults/vault-mig"
VNET = f"/subscriptions/{SUB}/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks/vnet-test"


def html_of(app, path: str, query: dict | None = None) -> str:
    page = app.handle(path, query or {})
    assert page.status == 200, page.body
    return page.body.decode()


def flighting(settings, name: str) -> Stack:
    stack = Stack(settings, clock=FakeClock())
    plan = {
        "release": name,
        "model": "flight",
        "operators": [OPERATOR],
        "flights": [{"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
        "health": {
            "interval": "5s",
            "checks": [
                {"name": "errors", "provider": "local", "max": 1.0, "min_samples": 50},
                {"name": "latency", "provider": "local", "max": 300, "min": 1},
            ],
        },
        "workloads": [{"name": "shop", "assets": ["vm-1"]}, {"name": "cart", "assets": ["vm-2"]}],
    }
    stack.service.apply(validate_plan(plan))
    for w, asset in (("shop", "vm-1"), ("cart", "vm-2")):
        stack.service.handle(event("asset-replicated", name, w, f"r-{w}", asset=asset))
        stack.service.handle(event("tests-passed", name, w, f"t-{w}"))
    return stack


def test_the_health_panel_shows_the_judges_latest_values_per_check(settings, release_name):
    stack = flighting(settings, release_name)
    shop = stack.store.get_release(release_name).release.workloads["shop"]
    assert shop.state == "flighting"
    at = stack.clock.now() + timedelta(seconds=5)
    results = [
        CheckResult(name="errors", value=0.31, samples=400, max=1.0, min_samples=50, passed=True, outcome="passed"),
        CheckResult(name="latency", value=420, samples=400, max=300, min=1, passed=False, outcome="failed", in_a_row=2),
    ]
    record = JudgeRecord(
        "shop", shop.attempt, shop.flight, ms(shop.flight_started_at), evaluation=3, at=at, results=results
    )
    stack.judge_records.save(release_name, record)

    html = html_of(board_app(stack), f"releases/{release_name}")
    panel = re.search(r'<details class="section" id="sec-health" open>.*?</details>', html, re.S)
    assert panel, "no health panel"
    panel_html = panel.group(0)
    errors = re.search(
        r'<tr data-workload="shop" data-check="errors" data-outcome="passed">(.*?)</tr>', panel_html, re.S
    )
    assert errors and "0.31" in errors.group(1) and "≤ 1" in errors.group(1) and "400 (needs 50)" in errors.group(1)
    assert "2026-11-26 22:00:05Z" in errors.group(1) and "(evaluation 3)" in errors.group(1)
    latency = re.search(r'data-check="latency" data-outcome="failed">(.*?)</tr>', panel_html, re.S)
    assert latency and "420" in latency.group(1) and "≤ 300 and ≥ 1" in latency.group(1)
    assert "failed, 2 in a row" in latency.group(1)
    # cart flies too, and the judge has not looked at it yet in this flight
    assert re.search(r'<tr data-workload="cart">.*?not evaluated yet in this flight \(every 5s\)', panel_html, re.S)


def test_without_the_judges_records_the_panel_says_so_and_a_release_not_judged_has_none(settings, release_name):
    stack = flighting(settings, release_name)
    bare = type(board_app(stack))(stack.store, stack.board("/").reads, stack.clock)  # not given the judge's records
    html = html_of(bare, f"releases/{release_name}")
    assert "Not shown: the judge&#39;s records are not read by this board" in html
    assert "Traceback" not in html and "Error" not in html
    stack.service.apply(
        validate_plan(
            {"release": release_name + "-s", "model": "single-step", "workloads": [{"name": "a", "assets": ["x"]}]}
        )
    )
    assert 'id="sec-health"' not in html_of(board_app(stack), f"releases/{release_name}-s")


def test_a_flight_release_page_reads_the_judge_once_whatever_the_number_of_flighting_workloads(settings, release_name):
    from shared.application.bootstrap import Stack as Counting

    flighting(settings, release_name)
    requests: list[str] = []
    stack = Counting(settings, request_hook=lambda r: requests.append(r.http_request.url))
    stack.table(RELEASES_TABLE), stack.table(JUDGE_TABLE)
    requests.clear()
    html_of(board_app(stack), f"releases/{release_name}")
    judged = [u for u in requests if f"/{JUDGE_TABLE}(" in u or f"/{JUDGE_TABLE}?" in u]
    assert len(judged) == 1, judged


def test_each_workload_shows_its_latest_rehearsal(settings, release_name):
    stack = Stack(settings, clock=FakeClock())
    vault = FakeMigrator()
    vault.add("vm-a", "vm-b")
    stack.service.migrator = vault
    plan = {
        "release": release_name,
        "model": "single-step",
        "operators": [OPERATOR],
        "source": {"provider": "azure-migrate", "vault": VAULT},
        "rehearsal": {"network": VNET, "required": True, "max_age": "14d", "cleanup_after": "4h"},
        "workloads": [
            {"name": "rehearsed", "assets": ["a"], "machines": ["vm-a"]},
            {"name": "fresh", "assets": ["b"], "machines": ["vm-b"]},
        ],
    }
    stack.service.apply(validate_plan(plan))
    n = iter(range(100))

    def send(type_: str, workload: str, **data) -> None:
        result = stack.service.handle(event(type_, release_name, workload, f"{release_name}-{next(n)}", **data))
        assert result.outcome == "applied", result

    def watch() -> None:
        from shared.application import migrate_watch

        published: list[dict] = []
        migrate_watch.poll(stack.store, vault, published.append, stack.clock.now())
        for e in published:
            stack.service.handle(json.dumps(e))

    watch()
    send("override", "rehearsed", action="rehearse", actor=OPERATOR, reason="dry run")
    vault.finish("test-migrate")
    watch()
    stack.clock.advance(60)
    send("rehearsal-passed", "rehearsed", suite="smoke", run="42")

    html = html_of(board_app(stack), f"releases/{release_name}")
    cell = re.search(r'<td class="wl-rehearsal" data-rehearsal="passed">(.*?)</td>', html, re.S)
    assert cell, "no passed rehearsal shown"
    assert "2026-11-26 22:00:00Z" in cell.group(1) and f"by {OPERATOR}" in cell.group(1)
    assert 'data-match="yes"' in cell.group(1) and "smoke" in cell.group(1)
    assert '<td class="wl-rehearsal" data-rehearsal="none">none yet</td>' in html


def test_a_rehearsal_of_another_plan_says_so():
    from tests.unit.test_machine import Driver
    from tests.unit.test_migrate import migrate_plan

    d = Driver(migrate_plan())
    w = d.wl().evolve(rehearsal_hash="0123456789abcdef", rehearsal_verdict="passed", rehearsal_at=d.w.clock.now())
    shown = rehearsal_of(d.release, w)
    assert shown is not None and shown["state"] == "passed" and shown["matches"] is False
    assert shown["current"] != "0123456789abcdef"


def test_the_workloads_filter_by_a_piece_of_their_name_with_the_state(settings, release_name):
    stack = Stack(settings)
    names = ["payroll-api", "payroll-db", "crm-web", "old-payroll-batch"]
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "workloads": [{"name": n, "assets": ["x"]} for n in names],
            }
        )
    )
    stack.service.handle(event("asset-replicated", release_name, "payroll-db", "r1", asset="x"))
    app = board_app(stack)
    html = html_of(app, f"releases/{release_name}", {"q": ["payroll"]})
    assert re.findall(r'<tr data-workload="([^"]+)"', html) == ["payroll-api", "payroll-db", "old-payroll-batch"]
    assert "1-3 of 3 whose name contains “payroll”" in html and 'value="payroll"' in html
    both = html_of(app, f"releases/{release_name}", {"q": ["payroll"], "state": ["testing"]})
    assert re.findall(r'<tr data-workload="([^"]+)"', both) == ["payroll-db"]
    assert html_of(app, f"releases/{release_name}", {"q": ["nothing"]}).count("<tr data-workload=") == 0
    long = app.handle(f"releases/{release_name}", {"q": ["x" * 65]})
    assert long.status == 400 and b"at most 64 characters" in long.body


def test_a_flight_release_without_health_checks_has_no_panel_and_no_read_of_the_judge(settings, release_name):
    from shared.application.bootstrap import Stack as Counting

    stack = Stack(settings, clock=FakeClock())
    flights = [{"percent": 50}, {"percent": 100}]  # no `health:`: its verdicts are sent from outside
    workloads = [{"name": "shop", "assets": ["vm"]}]
    plan = {"release": release_name, "model": "flight", "flights": flights, "workloads": workloads}
    stack.service.apply(validate_plan(plan))
    stack.service.handle(event("asset-replicated", release_name, "shop", "r", asset="vm"))
    stack.service.handle(event("tests-passed", release_name, "shop", "t"))
    assert stack.store.get_release(release_name).release.workloads["shop"].state == "flighting"
    requests: list[str] = []
    counting = Counting(settings, request_hook=lambda r: requests.append(r.http_request.url))
    counting.table(RELEASES_TABLE)
    requests.clear()
    html = html_of(board_app(counting), f"releases/{release_name}")
    assert 'id="sec-health"' not in html and "No judged workload" not in html
    assert not [u for u in requests if JUDGE_TABLE in u or u.endswith("/Tables")], requests
