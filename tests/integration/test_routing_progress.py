"""Routing progress on a real Azurite (contract §15): while a staged release's promotion moves its workloads'
Azure routing as one budgeted batch, `promote status` shows done / total and an ETA, read from a small row the
batch writes every few seconds (never once a write, never the release record a decision commits); once the
move is over, status, the board and the release's `promoted` notice say how long it took."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from shared.adapters.routing_progress import PROGRESS_ROW
from shared.domain.plan import validate_plan
from shared.local.cli import main
from tests.fakes import event
from tests.routing import arm_resources as res

APPROVER = "ana@contoso.com"
N = 20  # workloads; at 5 writes a second with a burst of 1 the move takes about 4 s


class SlowRouters:
    """A router factory whose Azure writes take a while, as a Network operation does (no coalescing: a unit per
    workload, each a write from the budget)."""

    def __init__(self):
        self.applied: list[str] = []
        self.shares: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, release, workload, routing):
        routers = self

        class Router:
            def problems(self, percents):
                return []

            def apply(self, percent):
                if self.read() == percent:  # already in place: written again by no router
                    return []
                time.sleep(0.05)
                with routers.lock:
                    routers.applied.append(workload)
                    routers.shares[workload] = percent
                return [f"{workload}: pool -> {percent}%"]

            def read(self):
                return routers.shares.get(workload, 0)

        return Router()


def plan(name: str) -> dict:
    return {
        "release": name,
        "model": "staged",
        "approval": "auto",
        "approvers": [APPROVER],
        "budgets": {"arm_writes_per_s": 5, "arm_write_burst": 1},
        "notify": [{"kind": "webhook", "url_setting": "PROGRESS_TEST_HOOK_URL", "on": ["promoted"]}],
        "workloads": [
            {
                "name": f"w{i:02d}",
                "assets": [f"vm-{i}"],
                "routing": res.routing("load-balancer", load_balancer=f"lb-{i}"),
            }
            for i in range(N)
        ],
    }


def status_text(name: str, capsys) -> str:
    assert main(["status", "--release", name]) == 0
    return capsys.readouterr().out


@pytest.fixture
def counted(settings):
    """A stack on the session's Azurite (the one the command uses) that notes every PUT it sends."""
    from shared.application.bootstrap import Stack, use_stack

    puts: list[str] = []
    s = Stack(
        settings, request_hook=lambda r: puts.append(r.http_request.url) if r.http_request.method == "PUT" else None
    )
    s.puts = puts  # type: ignore[attr-defined]
    use_stack(s)
    yield s
    use_stack(None)


def test_status_shows_a_moves_progress_while_it_goes_on_and_the_time_it_took(counted, release_name, capsys):
    stack, puts = counted, counted.puts
    stack.service.routers = SlowRouters()
    stack.service.apply(validate_plan(plan(release_name)))
    for i in range(N):
        stack.service.handle(event("asset-replicated", release_name, f"w{i:02d}", f"a{i}", asset=f"vm-{i}"))
    for i in range(N - 1):
        stack.service.handle(event("tests-passed", release_name, f"w{i:02d}", f"t{i}"))
    assert "routing" not in status_text(release_name, capsys), "no move yet: nothing to show"

    began = time.monotonic()
    last = threading.Thread(
        target=stack.service.handle, args=(event("tests-passed", release_name, f"w{N - 1:02d}", f"t{N - 1}"),)
    )
    last.start()  # the last workload ready: the release's promotion moves every workload as one batch
    seen = []
    while last.is_alive():
        seen += [line for line in status_text(release_name, capsys).splitlines() if line.startswith("routing")]
        time.sleep(0.2)
    last.join()
    took = time.monotonic() - began

    during = [re.fullmatch(r"routing: (\d+) / 20 workloads \((\d+) / 20 Azure writes\), ETA (\d+ s|any moment)", s)
              for s in seen]  # fmt: skip
    assert any(m and 0 < int(m.group(1)) < N for m in during), f"progress shown during the move: {seen}"
    written = [u for u in puts if PROGRESS_ROW in u]
    assert 1 <= len(written) <= took / 3 + 1 < N, f"a few progress writes, not one a write: {len(written)}"

    text = status_text(release_name, capsys)
    line = next(s for s in text.splitlines() if s.startswith("routing"))
    assert re.fullmatch(r"routing took \d s \(20 workloads, 20 Azure writes\)", line), line
    assert main(["status", "--release", release_name, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["routing_progress"]
    assert (doc["done"], doc["total"], doc["eta"]) == (N, N, None)
    assert 3.0 <= doc["took_s"] <= took, "the move's own time: at 4.75 writes a second, 19 writes after the first"

    board = stack.board("/").handle(f"releases/{release_name}", {}).body.decode()
    assert re.search(r'<p id="routing-progress">routing took \d s \(20 workloads, 20 Azure writes\)</p>', board)
    promoted = [n for item in stack.outbox.list_release(release_name) for n in item.notices if n["kind"] == "promoted"]
    assert len(promoted) == 1 and re.search(
        r"routing of 20 workloads: 20 Azure writes in \d\.\ds", promoted[0]["reason"]
    )
    history = stack.store.list_history(release_name)
    assert any(re.search(r"routing of 20 workloads: 20 Azure writes in \d\.\ds", e.reason) for e in history)


def test_no_progress_row_is_a_status_without_routing_progress(stack, release_name, capsys):
    stack.service.apply(validate_plan(plan(release_name)))
    assert main(["status", "--release", release_name, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["routing_progress"] is None
    assert stack.routing_progress.read(release_name) is None


def ready_release(stack, name: str, **fields) -> None:
    stack.service.apply(validate_plan(plan(name) | fields))
    for i in range(N):
        stack.service.handle(event("asset-replicated", name, f"w{i:02d}", f"a{i}", asset=f"vm-{i}"))
    for i in range(N - 1):
        stack.service.handle(event("tests-passed", name, f"w{i:02d}", f"t{i}"))


def test_a_redelivered_message_that_reasserts_the_routing_keeps_the_time_the_move_took(stack, release_name):
    stack.service.routers = SlowRouters()
    # a redelivery puts every workload's routing back to its share: a release-wide message's, all of them
    ready_release(stack, release_name, on_drift="reapply", operators=["ops@contoso.com"])
    assert stack.service.handle(event("tests-passed", release_name, f"w{N - 1:02d}", f"t{N - 1}")).outcome == "applied"
    rollback = event("override", release_name, None, "rb", action="rollback", actor="ops@contoso.com", reason="CAB")
    assert stack.service.handle(rollback).outcome == "applied"
    took = stack.routing_progress.read(release_name)
    assert took is not None and took.took_s is not None and took.took_s >= 3.0
    assert stack.service.handle(rollback).outcome == "duplicate"  # every routing in place
    assert stack.routing_progress.read(release_name) == took


class FailingRouters(SlowRouters):
    """Azure refuses the 13th write of the move for good; what was moved is put back."""

    def __call__(self, release, workload, routing):
        inner = super().__call__(release, workload, routing)
        routers, apply = self, inner.apply

        def failing(percent):
            with routers.lock:
                count = len(routers.applied)
            if percent == 100 and count >= 12:
                from shared.domain.errors import RoutingError

                raise RoutingError(f"{workload}: the backend pool is locked")
            return apply(percent)

        inner.apply = failing
        return inner


def test_a_move_that_fails_part_way_and_is_put_back_is_shown_as_failed_not_as_under_way(stack, release_name, capsys):
    from shared.application.bootstrap import use_stack

    stack.service.routers = FailingRouters()
    ready_release(stack, release_name)
    stack.service.handle(event("tests-passed", release_name, f"w{N - 1:02d}", f"t{N - 1}"))
    assert {w.state for w in stack.store.get_release(release_name).release.workloads.values()} != {"promoted"}
    found = stack.routing_progress.read(release_name)
    assert found is not None and found.failed and found.done < N
    use_stack(stack)
    try:
        line = next(s for s in status_text(release_name, capsys).splitlines() if s.startswith("routing"))
    finally:
        use_stack(None)
    assert re.fullmatch(r"routing failed after \d+ / 20 workloads \(\d+ / 20 Azure writes\) in \d s: put back", line)
