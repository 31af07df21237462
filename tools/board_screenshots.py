"""Screenshots of the board for the README: a demo-like run on a private Azurite, the local board server,
and the system Chromium through Playwright.

    .venv/bin/python tools/board_screenshots.py      # writes docs/board-releases.png and docs/board-release.png
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.board.conftest import CHROMIUM, CHROMIUM_ARGS, DemoRun  # noqa: E402


def main() -> int:
    from playwright.sync_api import sync_playwright

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.azurite import start
    from shared.local.board import make_server

    azurite = start()
    try:
        stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}))
        use_stack(stack)
        demo = DemoRun(stack, "wave-1127")
        demo.apply()
        demo.up_to_rollback()
        demo.retry_and_promote()
        demo.staged_run()
        server = make_server(stack, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 420}, device_scale_factor=1)
            page.goto(f"{base}/")
            page.screenshot(path=str(REPO / "docs" / "board-releases.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 1180})
            page.goto(f"{base}/releases/{demo.flight}")
            page.screenshot(path=str(REPO / "docs" / "board-release.png"))
            browser.close()
        server.shutdown()
    finally:
        azurite.stop()
    print("wrote docs/board-releases.png and docs/board-release.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
