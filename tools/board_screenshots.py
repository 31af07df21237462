"""Screenshots of the board for the README and docs/board.md: a demo-like run on a private Azurite, spread over
an hour of a stepped clock (so the timelines, drawn to scale, show it), the local board server, and the system
Chromium through Playwright.

    .venv/bin/python tools/board_screenshots.py      # writes docs/board-releases.png and docs/board-release.png
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.board.conftest import CHROMIUM, CHROMIUM_ARGS, OPERATOR, DemoRun  # noqa: E402
from tests.fakes import FakeClock  # noqa: E402

STEP = 240  # seconds between the demo's messages


class SteppedDemo(DemoRun):
    """The demo with time passing between its messages, and a pause of the flight before its last step."""

    def send(self, release: str, type_: str, workload: str | None, **data) -> None:
        self.stack.clock.advance(STEP)
        super().send(release, type_, workload, **data)

    def retry_and_promote(self) -> None:
        r = self.flight
        self.send(r, "override", "web-shop", action="retry", actor=OPERATOR, reason="fixed the connection pool")
        self.send(r, "tests-passed", "web-shop", suite="smoke", run="119")
        self.send(r, "flight-healthy", "web-shop", flight=1)
        self.send(r, "override", "web-shop", action="pause", actor=OPERATOR, reason="DBA checks replication")
        self.stack.clock.advance(3 * STEP)
        self.send(r, "override", "web-shop", action="resume", actor=OPERATOR, reason="replication fine")
        for flight in (2, 3):
            self.send(r, "flight-healthy", "web-shop", flight=flight)


def wave(demo: DemoRun, name: str) -> None:
    """Two releases of a wave, part promoted: the releases page forecasts when the wave ends."""
    from shared.domain.plan import validate_plan

    for release, n in ((f"{name}-hr", 6), (f"{name}-erp", 4)):
        plan = {"release": release, "model": "single-step", "wave": name, "operators": [OPERATOR],
                "workloads": [{"name": f"app-{i}", "assets": ["vm"]} for i in range(n)]}  # fmt: skip
        demo.stack.service.apply(validate_plan(plan))
    for release, done in ((f"{name}-hr", 3), (f"{name}-erp", 1)):
        for i in range(done):
            demo.send(release, "asset-replicated", f"app-{i}", asset="vm")
            demo.send(release, "tests-passed", f"app-{i}")


def small(path: Path) -> None:
    """A page is a few flat colours: a 128-colour palette keeps it legible at a third of the bytes (Pillow
    comes with matplotlib, which the benchmarks' plots use)."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=128).save(path, optimize=True)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.local.azurite import start
    from shared.local.board import make_server

    azurite = start()
    try:
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string}), clock=clock)
        use_stack(stack)
        demo = SteppedDemo(stack, "wave-1127")
        demo.apply()
        wave(demo, "night-2")
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
            page.set_viewport_size({"width": 1280, "height": 720})
            page.goto(f"{base}/releases/{demo.flight}#timelines-h")
            page.locator("#timeline-web-shop").scroll_into_view_if_needed()
            page.screenshot(path=str(REPO / "docs" / "board-release.png"))
            browser.close()
        server.shutdown()
    finally:
        azurite.stop()
    for name in ("board-releases.png", "board-release.png"):
        small(REPO / "docs" / name)
    print("wrote docs/board-releases.png and docs/board-release.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
