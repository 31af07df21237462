"""`pytest --twice tests/integration`: each test under the path runs twice in a row, against the same Azurite.

A test must pass when what an earlier run of it left in storage is still there: `make mutation` runs the
same tests for thousands of mutants, and a test that trips over its own leftovers (a fixed release name,
a row it expects to be alone in a table) would fail there without any mutant to blame, counting the mutant
killed. `make test` runs the Azurite tiers so. The second run is a whole new run of the test (its function
fixtures are torn down and set up again: a new release name, a new stack), in the same process, on the
session's Azurite, right after the first; only the second run's result is reported, and the first's too
when it fails.
"""

from __future__ import annotations

import pytest
from _pytest.runner import runtestprotocol

OPTION = "twice"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        f"--{OPTION}",
        action="append",
        default=[],
        metavar="PATH",
        help="run each test under PATH (e.g. tests/integration) twice in a row against the same Azurite",
    )


def _twice(item: pytest.Item) -> bool:
    paths = [p.rstrip("/") for p in item.config.getoption(OPTION)]
    return any(item.nodeid == p or item.nodeid.startswith((p + "/", p + "::")) for p in paths)


def _twin(item: pytest.Function) -> pytest.Function:
    """Another item for the same test: the first run tears down as if it came next, so that the test's own
    fixtures end and the module's and session's (the Azurite) stay."""
    return pytest.Function.from_parent(
        item.parent,
        name=item.name,
        callspec=getattr(item, "callspec", None),
        callobj=item.obj,
        fixtureinfo=item._fixtureinfo,
        originalname=item.originalname,
    )


def _note(reports: list[pytest.TestReport], text: str) -> None:
    for report in reports:
        if report.failed:
            report.sections.append(("--twice", text))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not isinstance(item, pytest.Function) or not _twice(item):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    first = runtestprotocol(item, log=False, nextitem=_twin(item))
    if any(report.failed for report in first):
        _note(first, "the first run of this test failed")
        for report in first:
            item.ihook.pytest_runtest_logreport(report=report)
    second = runtestprotocol(item, log=False, nextitem=nextitem)
    _note(second, "the second run of this test, against what the first left in the same Azurite, failed")
    for report in second:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
