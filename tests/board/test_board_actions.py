"""Acting from the board (v3 §19) in a real headless Chromium against the local stack (Azurite, the local
queue, the local host deciding what the board queued): offered only to who may, in the state that allows it;
a confirmation that names the effect and asks why; the outcome history records; another site's form refused."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect

from tests.board.conftest import APPROVER, OPERATOR, drain


def at_50(demo) -> None:
    r = demo.flight
    demo.send(r, "asset-replicated", "web-shop", asset="vm-web-01")
    demo.send(r, "asset-replicated", "web-shop", asset="vm-web-02")
    demo.send(r, "tests-passed", "web-shop", suite="smoke", run="118")
    demo.send(r, "flight-healthy", "web-shop", flight=1)
    assert demo.stack.store.get_release(r).release.workloads["web-shop"].traffic_percent == 50


def test_an_operator_rolls_back_from_the_keyboard_and_sees_the_recorded_outcome(page, acting_board, demo, stack):
    at_50(demo)
    board = acting_board(OPERATOR)
    page.goto(f"{board}/releases/{demo.flight}")
    row = page.locator("tr[data-workload='web-shop']")
    expect(row.locator(".wl-actions button")).to_have_text(["Pause web-shop", "Roll back web-shop", "Abort web-shop"])
    row.get_by_role("button", name="Roll back web-shop").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/act\?action=rollback&workload=web-shop$"))
    expect(page.locator("#effect")).to_contain_text("This moves web-shop from 50% to 0%")
    expect(page.locator("#reason")).to_be_focused()  # the reason is where typing starts
    expect(page.locator("#actor")).to_have_text(OPERATOR)
    page.keyboard.press("Tab")  # a reason is required: the browser will not send the form without one
    page.locator("#confirm").press("Enter")
    expect(page).to_have_url(re.compile(r"/act\?"))
    page.locator("#reason").fill("checkout errors after 50%")
    page.locator("#confirm").press("Enter")
    expect(page).to_have_url(re.compile(f"/releases/{demo.flight}/outcome/"))
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "queued")
    assert stack.store.get_release(demo.flight).release.workloads["web-shop"].traffic_percent == 50  # only queued
    drain(stack)
    page.reload()
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "applied")
    expect(page.locator("#outcome")).to_contain_text("rolled back to 0% by hand")
    expect(page.locator("table.history")).to_contain_text("checkout errors after 50%")
    page.locator("#back").click()
    expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_contain_text("rolled-back")
    entry = [e for e in stack.store.list_history(demo.flight, "web-shop") if e.type == "override"][-1]
    assert (entry.actor, entry.actor_reason, entry.outcome) == (OPERATOR, "checkout errors after 50%", "applied")


def test_the_wrong_role_is_offered_nothing_and_a_forged_action_is_recorded_as_refused(page, acting_board, demo, stack):
    demo.staged_run()  # both workloads ready: an approver's turn
    board = acting_board(OPERATOR)
    page.goto(f"{board}/releases/{demo.staged}")
    expect(page.locator("tr[data-workload='crm'] .wl-actions button")).to_have_text(["Pause crm", "Abort crm"])
    page.goto(f"{board}/releases/{demo.staged}/act?action=approve&workload=crm")
    expect(page.locator(".not-offered")).to_contain_text(f"{OPERATOR} may not approve crm now")
    expect(page.locator("#confirm")).to_have_count(0)
    # the form of an action the operator may take, sent with action=approve: decided by the same rules
    page.goto(f"{board}/releases/{demo.staged}/act?action=pause&workload=crm")
    page.evaluate("document.querySelector('input[name=action]').value = 'approve'")
    page.locator("#reason").fill("let me approve")
    page.locator("#confirm").click()
    drain(stack)
    page.reload()
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "rejected")
    expect(page.locator("#outcome")).to_contain_text(f"{OPERATOR} may not approve: not among the release's approvers")
    assert stack.store.get_release(demo.staged).release.workloads["crm"].approved is False


def test_an_action_the_state_no_longer_allows_is_recorded_as_changing_nothing(page, acting_board, demo, stack):
    at_50(demo)
    board = acting_board(OPERATOR)
    page.goto(f"{board}/releases/{demo.flight}/act?action=pause&workload=web-shop")
    expect(page.locator("#effect")).to_contain_text("pauses web-shop at 50%")
    demo.send(demo.flight, "override", "web-shop", action="pause", actor=APPROVER, reason="someone was faster")
    page.locator("#reason").fill("looks wrong")
    page.locator("#confirm").click()
    drain(stack)
    page.reload()
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "ignored")
    expect(page.locator("#outcome")).to_contain_text("already paused (by ana@contoso.com")
    page.goto(f"{board}/releases/{demo.flight}")  # paused now: resume is offered, pause is not
    expect(page.locator("tr[data-workload='web-shop'] .wl-actions button")).to_have_text(
        ["Resume web-shop", "Roll back web-shop", "Abort web-shop"]
    )


def test_a_form_on_another_site_is_refused_and_queues_nothing(page, acting_board, demo, stack):
    at_50(demo)
    board = acting_board(OPERATOR)
    page.goto(f"{board}/releases/{demo.flight}/act?action=rollback&workload=web-shop")
    token = page.locator("input[name=token]").get_attribute("value")  # even with a valid token
    form = (
        f'<form method="post" action="{board}/releases/{demo.flight}/act">'
        f'<input name="token" value="{token}"><input name="action" value="rollback">'
        '<input name="workload" value="web-shop"><input name="reason" value="pwned">'
        '<button id="go">win a prize</button></form>'
    )

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(form.encode())

        def log_message(self, *args) -> None:
            pass

    evil = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        page.goto(f"http://localhost:{evil.server_address[1]}/")  # another origin than the board's 127.0.0.1
        with page.expect_response(re.compile("/act$")) as answer:
            page.locator("#go").click()
        assert answer.value.status == 403
        expect(page.locator("[role=alert]")).to_contain_text("cross-site request refused")
    finally:
        evil.shutdown()
        evil.server_close()
    drain(stack)
    assert stack.store.get_release(demo.flight).release.workloads["web-shop"].traffic_percent == 50
    assert not [e for e in stack.store.list_history(demo.flight) if e.type == "override"]


def test_halt_shows_a_banner_with_who_and_why_and_an_approver_lifts_it(page, acting_board, demo, stack):
    at_50(demo)
    operator, approver = acting_board(OPERATOR), acting_board(APPROVER)
    page.goto(f"{operator}/releases/{demo.flight}")
    page.get_by_role("button", name="Halt release").click()
    expect(page.locator("#effect")).to_contain_text(f"halts release {demo.flight}: pauses 1 workload")
    page.locator("#reason").fill("payments incident INC-4711")
    page.locator("#confirm").click()
    drain(stack)
    page.goto(f"{operator}/")
    banner = page.locator("#halt-banner")
    expect(banner).to_contain_text(f"Release {demo.flight} is halted by {OPERATOR}")
    expect(banner).to_contain_text("payments incident INC-4711")
    page.goto(f"{operator}/releases/{demo.flight}")
    expect(page.locator("#halt-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Unhalt release")).to_have_count(0)  # an approver's
    page.goto(f"{approver}/releases/{demo.flight}")
    page.get_by_role("button", name="Unhalt release").click()
    expect(page.locator("#effect")).to_contain_text("resumes the workloads the halt paused")
    page.locator("#reason").fill("incident closed")
    page.locator("#confirm").click()
    drain(stack)
    page.reload()
    expect(page.locator("#outcome")).to_have_attribute("data-outcome", "applied")
    page.goto(f"{approver}/releases/{demo.flight}")
    expect(page.locator("#halt-banner")).to_have_count(0)
