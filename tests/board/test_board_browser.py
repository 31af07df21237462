"""The board in a real headless Chromium (Playwright): what an operator sees and does."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.board.conftest import OPERATOR, principal


def test_a_release_page_shows_states_shares_and_what_each_workload_waits_for(page, board, demo):
    demo.up_to_rollback()
    demo.staged_run()
    page.goto(f"{board}/")
    expect(page.locator(f"tr[data-release='{demo.flight}'] td").nth(1)).to_have_text("rolled-back")
    expect(page.locator(f"tr[data-release='{demo.staged}'] td").nth(1)).to_have_text("awaiting-approval")
    page.get_by_role("link", name=demo.staged).click()
    expect(page).to_have_url(re.compile(f"/releases/{demo.staged}$"))
    for workload in ("crm", "billing"):
        row = page.locator(f"tr[data-workload='{workload}']")
        expect(row.locator(".wl-state")).to_have_text("ready")
        expect(row.locator(".wl-share")).to_have_text("0%")
        expect(row.locator(".wl-waiting")).to_contain_text("approval by one of ana@contoso.com")
    refused = page.locator("table.history tr[data-outcome='rejected']")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("mallory@evil.example")
    expect(refused).to_contain_text("let me in")


def test_the_timeline_has_a_point_per_share_change_and_marks_the_rollback_and_the_override_with_its_reason(
    page, board, demo
):
    demo.up_to_rollback()
    demo.retry_and_promote()
    page.goto(f"{board}/releases/{demo.flight}")
    expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("promoted")
    expect(page.locator("tr[data-workload='web-shop'] .wl-share")).to_have_text("100%")
    # shares recorded: 0 (replicating) 10 50 0 (rollback) 10 50 100: a point for each change
    points = page.locator("#timeline-web-shop svg circle.share-point")
    expect(points).to_have_count(7)
    assert [points.nth(i).get_attribute("data-share") for i in range(7)] == ["0", "10", "50", "0", "10", "50", "100"]
    expect(page.locator("#timeline-web-shop svg g.mark-rollback")).to_have_count(1)
    expect(page.locator("#timeline-web-shop svg g.mark-alert")).to_have_count(0)  # the alert *is* the rollback
    rollback = page.locator("#timeline-web-shop tr.mark-row[data-kind='rollback']")
    expect(rollback).to_contain_text("HTTP 5xx above 2%")
    override = page.locator("#timeline-web-shop tr.mark-row[data-kind='override']")
    expect(override).to_contain_text(OPERATOR)
    expect(override).to_contain_text("fixed the connection pool")
    expect(page.locator("#timeline-web-shop svg g.mark-verdict")).to_have_count(4)
    # the chart has a text alternative that says the same
    svg = page.locator("#timeline-web-shop svg")
    expect(svg).to_have_attribute("role", "img")
    expect(page.locator("#timeline-web-shop figcaption")).to_contain_text("then 100% at")


def test_the_page_updates_itself_without_a_reload(page, board, demo):
    page.goto(f"{board}/releases/{demo.flight}")
    expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("replicating")
    page.evaluate("window.__sameDocument = 'yes'")
    demo.up_to_rollback()
    expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("rolled-back", timeout=15_000)
    expect(page.locator("#timeline-web-shop svg g.mark-rollback")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") == "yes"  # the same document: nothing reloaded


def test_history_filters_by_workload_and_outcome_with_the_keyboard(page, board, demo):
    demo.staged_run()
    page.goto(f"{board}/releases/{demo.staged}")
    page.locator("select[name='workload']").focus()
    page.keyboard.press("ArrowDown")  # all -> crm
    page.locator("select[name='outcome']").select_option("applied")
    page.locator("select[name='outcome']").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Filter button
    expect(page).to_have_url(re.compile(r"workload=crm&outcome=applied"))
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i).locator("td").nth(1)).to_have_text("crm")
        expect(rows.nth(i).locator("td").nth(3)).to_have_text("applied")


def test_the_azure_routes_refuse_an_unauthenticated_request_and_serve_a_signed_in_one(page, azure_board, demo):
    # a page: sent to sign in (tests/board/test_board_sign_in.py follows the flow)
    navigate = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
    sent = page.request.get(azure_board, headers=navigate, max_redirects=0)
    assert (
        sent.status == 302 and sent.headers["location"] == "/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fboard%2F"
    )
    refused = page.request.get(azure_board)  # anything but a page: 401
    assert refused.status == 401 and "sign-in required" in refused.text()
    bad = {"X-MS-CLIENT-PRINCIPAL": "bm90IGpzb24="}  # base64, but not a principal
    assert page.request.get(azure_board + f"releases/{demo.flight}", headers=bad).status == 401
    page.context.set_extra_http_headers({"X-MS-CLIENT-PRINCIPAL": principal()})
    response = page.goto(azure_board)
    assert response is not None and response.status == 200
    page.get_by_role("link", name=demo.flight).click()
    expect(page).to_have_url(re.compile(f"/api/board/releases/{demo.flight}$"))
    expect(page.locator("tr[data-workload='web-shop'] .wl-state")).to_have_text("replicating")


def test_a_long_page_is_navigable_with_the_keyboard_sections_fold_and_a_name_filter(page, board, stack, release_name):
    from shared.domain.plan import validate_plan
    from tests.fakes import event

    names = [f"payroll-{i:02d}" for i in range(8)] + [f"crm-{i:02d}" for i in range(5)]
    stack.service.apply(validate_plan({"release": release_name, "model": "single-step", "operators": [OPERATOR],
        "workloads": [{"name": n, "assets": ["vm"]} for n in names]}))  # fmt: skip
    stack.service.handle(event("override", release_name, "crm-03", "p1", action="pause", actor=OPERATOR, reason="x"))
    page.goto(f"{board}/releases/{release_name}")
    # 13 workloads: the paused one's timeline is open, the others folded
    expect(page.locator("#tl-open-crm-03")).to_have_attribute("open", "")
    expect(page.locator("#tl-open-payroll-02")).not_to_have_attribute("open", "")
    # a workload's link opens its folded timeline
    page.locator("tr[data-workload='payroll-02'] th a").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#tl-open-payroll-02")).to_have_attribute("open", "")
    expect(page.locator("#timeline-payroll-02 svg")).to_be_visible()
    # a section folds from the keyboard and stays folded when the page updates itself
    page.locator("#sec-history > summary").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sec-history")).not_to_have_attribute("open", "")
    stack.service.handle(event("asset-replicated", release_name, "crm-00", "r1", asset="vm"))
    expect(page.locator("tr[data-workload='crm-00'] .wl-state")).to_have_text("testing", timeout=15_000)
    expect(page.locator("#sec-history")).not_to_have_attribute("open", "")
    # the name filter, typed and sent with the keyboard, keeps the state filter's form
    page.locator("#workload-q").focus()
    page.keyboard.type("crm")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=crm"))
    expect(page.locator("table.workloads tbody tr")).to_have_count(5)
    expect(page.locator("#page-of")).to_contain_text("whose name contains “crm”")
    expect(page.locator("#tl-open-crm-01")).to_have_attribute("open", "")  # a short page opens every timeline


def test_the_timeline_is_to_scale_with_ticks_and_the_pause_as_a_span(page, board, stack, release_name):
    from shared.domain.plan import validate_plan
    from tests.fakes import event

    stack.service.apply(validate_plan({"release": release_name, "model": "single-step", "operators": [OPERATOR],
        "workloads": [{"name": "web", "assets": ["vm"]}]}))  # fmt: skip
    stack.service.handle(event("override", release_name, "web", "p1", action="pause", actor=OPERATOR, reason="x"))
    page.goto(f"{board}/releases/{release_name}")
    svg = page.locator("#timeline-web svg")
    expect(svg.locator("g.tick")).not_to_have_count(0)
    labels = svg.locator("g.tick text").all_text_contents()
    assert labels and all(re.fullmatch(r"\d\d:\d\d(:\d\d)?", label) for label in labels), labels
    expect(svg.locator("g.span-paused[data-open='true']")).to_have_count(1)
    expect(page.locator("#timeline-web figcaption")).to_contain_text("Spans: paused from")


def test_a_keyboard_user_keeps_their_place_and_unsent_choices_while_the_page_updates_itself(
    page, board, stack, release_name
):
    from shared.domain.plan import validate_plan
    from tests.fakes import event

    stack.service.apply(validate_plan({"release": release_name, "model": "single-step", "operators": [OPERATOR],
        "workloads": [{"name": "web", "assets": ["vm"]}]}))  # fmt: skip
    page.goto(f"{board}/releases/{release_name}")
    state = page.locator("tr[data-workload='web'] .wl-state")
    # the history section folded from the keyboard: the focus stays on its heading across an update
    page.locator("#sec-history > summary").focus()
    page.keyboard.press("Enter")
    stack.service.handle(event("asset-replicated", release_name, "web", "r1", asset="vm"))
    expect(state).to_have_text("testing", timeout=15_000)
    assert page.evaluate("document.activeElement === document.querySelector('#sec-history > summary')")
    # a state chosen with the keyboard but not sent yet, and the history's outcome, survive an update; so does
    # the focus on the history's Filter button (no id of its own)
    page.locator("#workload-state").focus()
    page.keyboard.press("ArrowDown")  # any -> the first state
    chosen = page.locator("#workload-state").input_value()
    assert chosen
    page.locator("#sec-history > summary").press("Enter")  # open it again
    page.locator("select[name='outcome']").select_option("applied")
    page.locator("#sec-history button[type='submit']").focus()
    stack.service.handle(event("tests-passed", release_name, "web", "t1"))
    expect(state).not_to_have_text("testing", timeout=15_000)
    assert page.locator("#workload-state").input_value() == chosen
    assert page.locator("select[name='outcome']").input_value() == "applied"
    assert page.evaluate("document.activeElement === document.querySelector(\"#sec-history button[type='submit']\")")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"outcome=applied"))


def test_a_timeline_that_comes_to_need_a_look_opens_while_the_page_updates_itself(page, board, stack, release_name):
    from shared.domain.plan import validate_plan
    from tests.fakes import event

    names = [f"app-{i:02d}" for i in range(12)]  # a long page: only the timelines that need a look are open
    stack.service.apply(validate_plan({"release": release_name, "model": "single-step", "operators": [OPERATOR],
        "workloads": [{"name": n, "assets": ["vm"]} for n in names]}))  # fmt: skip
    page.goto(f"{board}/releases/{release_name}")
    expect(page.locator("#tl-open-app-03")).not_to_have_attribute("open", "")
    page.locator("#sec-history > summary").press("Enter")  # the person folds the history
    page.locator("#tl-open-app-07 > summary").press("Enter")  # and opens one timeline, then folds it again
    page.locator("#tl-open-app-07 > summary").press("Enter")
    page.locator("#tl-open-app-09 > summary").press("Enter")  # and opens another
    stack.service.handle(event("override", release_name, "app-03", "p1", action="pause", actor=OPERATOR, reason="x"))
    expect(page.locator("tr[data-workload='app-03'] .wl-state")).to_contain_text("paused", timeout=15_000)
    expect(page.locator("#tl-open-app-03")).to_have_attribute("open", "")  # paused at 3 a.m.: it opens
    expect(page.locator("#sec-history")).not_to_have_attribute("open", "")  # what the person chose stays
    expect(page.locator("#tl-open-app-07")).not_to_have_attribute("open", "")
    expect(page.locator("#tl-open-app-09")).to_have_attribute("open", "")


def test_a_malformed_link_to_the_page_breaks_nothing(page, board, stack, release_name):
    from shared.domain.plan import validate_plan

    stack.service.apply(validate_plan({"release": release_name, "model": "single-step",
        "workloads": [{"name": f"app-{i:02d}", "assets": ["vm"]} for i in range(12)]}))  # fmt: skip
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{board}/releases/{release_name}#%E0%A4%A")  # not UTF-8 once decoded: decodeURIComponent throws
    page.locator("tr[data-workload='app-04'] th a").click()
    expect(page.locator("#tl-open-app-04")).to_have_attribute("open", "")
    assert errors == []
