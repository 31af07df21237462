"""The board an operator reads at 3 a.m. (v3 §19): per release what holds it, its overdue workloads and its
attention list, releases grouped by wave with totals, each workload's deadline, the halt banner, quorum
approvals, and what to do when storage does not answer."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from types import SimpleNamespace

from shared.domain.plan import validate_plan
from tests.board.conftest import APPROVER, OPERATOR, principal
from tests.fakes import event


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def row(html: str, release: str) -> str:
    return html.split(f'<tr data-release="{release}">')[1].split("</tr>")[0]


def send(stack, release: str, type_: str, workload: str | None, n: list[int], **data) -> None:
    n[0] += 1
    stack.service.handle(event(type_, release, workload, f"{release}-{n[0]}", **data))


def test_the_releases_list_says_what_holds_each_release_what_is_overdue_and_groups_waves(board, stack, release_name):
    late, other, loose = f"{release_name}-late", f"{release_name}-other", f"{release_name}-loose"
    wave = f"{release_name[:50]}-night"  # a wave of this test's own: the Azurite holds other tests' releases
    base = {"model": "staged", "approvers": [APPROVER], "operators": [OPERATOR]}
    stack.service.apply(validate_plan({**base, "release": late, "wave": wave, "deadlines": {"approval": "1s"},
        "workloads": [{"name": "crm", "assets": ["vm-1"]}, {"name": "billing", "assets": ["vm-2"]}]}))  # fmt: skip
    stack.service.apply(validate_plan({**base, "release": other, "wave": wave,
        "workloads": [{"name": "hr", "assets": ["vm-3"]}]}))  # fmt: skip
    stack.service.apply(validate_plan({**base, "release": loose, "workloads": [{"name": "x", "assets": ["vm-4"]}]}))
    n = [0]
    for workload, asset in (("crm", "vm-1"), ("billing", "vm-2")):
        send(stack, late, "asset-replicated", workload, n, asset=asset)
        send(stack, late, "tests-passed", workload, n)
    send(stack, other, "override", "hr", n, action="pause", actor=OPERATOR, reason="DBA on call")
    time.sleep(1.2)  # the approval deadline (1s) passes
    status, html = get(f"{board}/")
    assert status == 200
    sections = {w.split('"', 2)[1]: w for w in html.split('<section class="wave"')[1:]}
    assert wave in sections and list(sections)[-1] == "-"  # named waves first, releases without one last
    assert f'data-release="{late}"' in sections[wave] and f'data-release="{other}"' in sections[wave]
    assert f'data-release="{loose}"' in sections["-"]
    totals = sections[wave].split('class="wave-totals"')[1].split("</p>")[0]
    assert "2 releases (0 finished)" in totals and "0 of 3 workloads promoted" in totals
    assert "2 overdue</span>, 2 held, 1 need attention" in totals
    held = row(html, late)
    assert f"approval of 2 workloads by {APPROVER}" in held
    assert 'data-overdue="2"' in held and "2 overdue: crm (since" in held and "billing" in held
    paused = row(html, other)
    assert "1 paused: hr" in paused and 'data-attention="1"' in paused and "DBA on call" in paused
    status, html = get(f"{board}/releases/{late}")
    cell = html.split('<tr data-workload="crm">')[1].split("</tr>")[0]
    assert 'class="wl-deadline overdue"' in cell and "(approval) <strong>OVERDUE</strong>" in cell


def test_quorum_approvals_and_a_halt_of_everything_show_on_the_board(board, stack, release_name):
    stack.service.apply(validate_plan({"release": release_name, "model": "single-step",
        "approvers": [APPROVER, "bob@contoso.com"], "approval": {"mode": "manual", "quorum": 2},
        "workloads": [{"name": "payroll", "assets": ["vm-1"]}]}))  # fmt: skip
    n = [0]
    send(stack, release_name, "asset-replicated", "payroll", n, asset="vm-1")
    send(stack, release_name, "tests-passed", "payroll", n)
    send(stack, release_name, "override", "payroll", n, action="approve", actor=APPROVER, reason="CAB-1")
    _, html = get(f"{board}/releases/{release_name}")
    assert f"1 of 2 approvals ({APPROVER})" in html.split('<tr data-workload="payroll">')[1].split("</tr>")[0]
    assert 'id="halt-banner"' not in html
    stack.store.set_halt({"by": OPERATOR, "reason": "stop the line: DNS outage", "at": "2026-12-07T03:00:00Z"})
    try:
        for path in ("/", f"/releases/{release_name}", f"/releases/{release_name}/report"):
            _, html = get(board + path)
            banner = html.split('id="halt-banner"')[1].split("</section>")[0]
            assert f'Everything is halted</strong>\nby <span class="halted-by">{OPERATOR}</span>' in banner
            assert "stop the line: DNS outage" in banner and "new releases start paused" in banner
    finally:
        stack.store.set_halt(None)


def _local_board_raising(error: Exception) -> tuple[int, str]:
    """What `promote board` answers for the index when reading it raises `error`."""
    import threading

    from shared.local.board import make_server

    class Failing:
        def handle(self, *args, **kwargs):
            raise error

    server = make_server(SimpleNamespace(board=lambda base: Failing()), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        return get(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()


def test_with_storage_down_the_board_says_what_to_do():
    status, text = _local_board_raising(ConnectionRefusedError("[Errno 111] Connection refused"))
    assert status == 503 and "Start it (`promote dev`" in text and "nothing was changed" in text
    assert "ConnectionRefusedError" not in text


def test_on_azure_with_storage_down_the_board_says_what_to_do(azure_board, stack, monkeypatch):
    class Down:
        def handle(self, *args, **kwargs):
            raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setattr(stack, "board", lambda base: Down())
    request = urllib.request.Request(azure_board, headers={"X-MS-CLIENT-PRINCIPAL": principal(APPROVER)})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected 503")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    assert status == 503 and "cannot read its storage account" in text and "Nothing was changed" in text
    assert "ConnectionRefusedError" not in text


def test_a_defect_on_a_page_is_not_blamed_on_storage():
    """Only a storage that does not answer reads "board unavailable: ... Start it": a defect is a 500 that says
    where its trace is, so nobody restarts Azurite for a bug."""
    status, text = _local_board_raising(AttributeError("'SimpleNamespace' object has no attribute 'type'"))
    assert status == 500 and "promote board's log" in text and "Start it" not in text
