"""Screenshots of acting from the board (v3 §19) for docs/board.md: a demo-like run on a private Azurite, the
local board server started as an operator and as an approver (`promote board --actor`), the local host
deciding what the board queued, and the system Chromium through Playwright.

    .venv/bin/python tools/board_action_screenshots.py   # writes docs/board-act-*.png and docs/board-halted.png
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.board.conftest import APPROVER, CHROMIUM, CHROMIUM_ARGS, OPERATOR, DemoRun, drain  # noqa: E402

SHOTS = ("board-act-buttons.png", "board-act-confirm.png", "board-act-outcome.png", "board-halted.png")


def main() -> int:
    from playwright.sync_api import sync_playwright

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.domain.plan import validate_plan
    from shared.local.azurite import start
    from shared.local.board import make_server

    azurite = start()
    servers = []
    try:
        stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}))
        use_stack(stack)
        demo = DemoRun(stack, "wave-1207")
        demo.apply()
        r = demo.flight
        demo.send(r, "asset-replicated", "web-shop", asset="vm-web-01")
        demo.send(r, "asset-replicated", "web-shop", asset="vm-web-02")
        demo.send(r, "tests-passed", "web-shop", suite="smoke", run="118")
        demo.send(r, "flight-healthy", "web-shop", flight=1)  # web-shop at 50%
        demo.staged_run()
        for name, deadlines in (("wave-1207-payroll", {"approval": "1s"}), ("wave-1207-hr", None)):
            plan = {"release": name, "model": "single-step", "wave": "night-1", "operators": [OPERATOR],
                    "approvers": [APPROVER, "bob@contoso.com"],
                    "approval": {"mode": "manual", "quorum": 2} if deadlines else "manual",
                    "workloads": [{"name": name.split("-")[-1], "assets": ["vm-1"]}]}  # fmt: skip
            if deadlines:
                plan["deadlines"] = deadlines
            stack.service.apply(validate_plan(plan))
            demo.send(name, "asset-replicated", name.split("-")[-1], asset="vm-1")
            demo.send(name, "tests-passed", name.split("-")[-1])
            if deadlines:
                demo.send(name, "override", "payroll", action="approve", actor=APPROVER, reason="CAB-77")
        time.sleep(1.2)  # payroll's approval deadline passes

        def board(actor: str) -> str:
            server = make_server(stack, "127.0.0.1", 0, actor)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            return f"http://127.0.0.1:{server.server_address[1]}"

        operator, approver = board(OPERATOR), board(APPROVER)
        docs = REPO / "docs"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 560}, device_scale_factor=1)
            page.goto(f"{approver}/releases/{demo.staged}")
            page.locator("table.workloads").screenshot(path=str(docs / SHOTS[0]))
            page.goto(f"{operator}/releases/{r}")
            page.get_by_role("button", name="Roll back web-shop").click()
            page.locator("#reason").fill("checkout errors after 50%: INC-4711")
            page.screenshot(path=str(docs / SHOTS[1]))
            page.locator("#confirm").click()
            drain(stack)
            page.reload()
            page.screenshot(path=str(docs / SHOTS[2]))
            page.goto(f"{operator}/releases/{demo.staged}")
            page.get_by_role("button", name="Halt release").click()
            page.locator("#reason").fill("payments incident INC-4712: stop the line")
            page.locator("#confirm").click()
            drain(stack)
            page.set_viewport_size({"width": 1400, "height": 640})
            page.goto(f"{operator}/")
            page.screenshot(path=str(docs / SHOTS[3]), full_page=True)
            browser.close()
    finally:
        for server in servers:
            server.shutdown()
        azurite.stop()
    print("wrote " + ", ".join(f"docs/{s}" for s in SHOTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
