"""The board's outcome page (board/acting.py outcome): an action id of one character is an id; an action
recorded only as a duplicate, or only as ignored, leads with that outcome; the page about a halted release
shows its halt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.model import HistoryEntry
from tests.unit.test_pin_board_pages import app
from tests.unit.test_pin_status import NOW


def main(page) -> list[str]:
    html = page.body.decode()
    return html[html.index("<main") : html.index("</main>")].split("\n")


def test_a_one_character_id_is_an_actions_id():
    page = app().handle("releases/wave-9/outcome/x", {})
    assert page.status == 200
    assert main(page)[1] == "<h1>Queued</h1>"
    assert app().handle("releases/wave-9/outcome/x.y", {}).status == 400


@pytest.mark.parametrize("outcome", ["duplicate", "ignored"])
def test_an_action_recorded_only_as_one_outcome_leads_with_it(outcome):
    board = app()
    board.reads.history["wave-9"].append(
        HistoryEntry(NOW - timedelta(minutes=1), "ev-9", "override", outcome, "already paused", "api", "flighting",
                     "flighting", 10, actor="ana@contoso.com")
    )  # fmt: skip
    page = board.handle("releases/wave-9/outcome/ev-9", {"workload": ["api"]})
    assert main(page)[1:3] == [
        f'<h1>Outcome: <span class="outcome outcome-{outcome}">{outcome}</span></h1>',
        f'<p id="outcome" data-outcome="{outcome}" role="status">api: {outcome}: already paused</p>',
    ]


def test_the_outcome_page_of_a_halted_release_shows_its_halt():
    body = app().handle("releases/wave-8/outcome/ev-1", {}).body.decode()
    assert '<p data-halted="wave-8"><strong>Release <a href="/releases/wave-8">wave-8</a> is halted</strong>' in body
    assert app().handle("releases/wave-9/outcome/ev-1", {}).body.decode().count("data-halted=") == 0
