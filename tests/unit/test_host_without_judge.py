"""A local host built without a judge (judging left to other processes, as the reliability run's judge block
does) still runs its rounds: the Azure Migrate watcher wrapped around the judge must not call a judge it lacks."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from shared.application.migrate_watch import alongside


class NoReleases:
    def list_releases(self) -> list[str]:
        return []


def test_a_round_without_a_judge_runs_the_watcher_and_publishes_nothing():
    published: list[dict] = []
    stack = SimpleNamespace(
        clock=SimpleNamespace(now=lambda: datetime(2026, 12, 7, tzinfo=UTC)),
        store=NoReleases(),
        migrator=None,
        publisher=SimpleNamespace(publish=published.append),
    )
    run = alongside(None, stack)()
    assert run.published == [] and run.next_due is None and run.judged == 0
    assert published == []


def test_a_round_with_a_judge_returns_the_judges_run():
    from shared.application.judge import JudgeRun

    stack = SimpleNamespace(
        clock=SimpleNamespace(now=lambda: datetime(2026, 12, 7, tzinfo=UTC)),
        store=NoReleases(),
        migrator=None,
        publisher=SimpleNamespace(publish=lambda event: None),
    )
    mine = JudgeRun(judged=3)
    assert alongside(lambda: mine, stack)() is mine
