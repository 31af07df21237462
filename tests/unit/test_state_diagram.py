"""Every transition observed in generated runs is an edge of the README's state diagram (and the diagram names
exactly the states the code has): the picture users read cannot drift from the machine."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.domain.model import WorkloadState
from tests.unit.test_properties import APPROVER, PLANS, WORKLOADS, _happy_path, run

README = Path(__file__).resolve().parents[2] / "README.md"


def diagram_edges(text: str) -> set[tuple[str, str]]:
    """(from, to) of every `a --> b` line of the README's mermaid stateDiagram, states named as in the contract."""
    [block] = re.findall(r"```mermaid\n(stateDiagram-v2\n.*?)```", text, re.S)
    edges = set()
    for source, target in re.findall(r"^\s*(\S+)\s*-->\s*([^\s:]+)", block, re.M):
        if "[*]" not in (source, target):
            edges.add((source.replace("_", "-"), target.replace("_", "-")))
    return edges


EDGES = diagram_edges(README.read_text())


def reachable(state: str) -> set[str]:
    """The states a path of diagram edges leads to from `state`."""
    found, todo = set(), [state]
    while todo:
        for source, target in EDGES:
            if source == todo[-1] and target not in found:
                found.add(target)
                todo.insert(0, target)
        todo.pop()
    return found


def _is_resume(body: dict) -> bool:
    return body["type"] == "override" and body["data"]["action"] == "resume"


def test_the_diagram_names_every_state_and_only_those():
    named = {s for edge in EDGES for s in edge}
    assert named == {s.value for s in WorkloadState}


def test_the_parser_reads_edges_with_and_without_labels():
    text = "```mermaid\nstateDiagram-v2\n    [*] --> a_b\n    a_b --> c: why / how\n    c --> a_b\n```\n"
    assert diagram_edges(text) == {("a-b", "c"), ("c", "a-b")}


# The happy path twice (so that a retried workload can get far again), with a few disturbances inserted at
# random points: the undo edges (aborts, rollbacks, retries, failing tests in ready, trouble in a flight) are
# then reached in most runs, and every edge of the diagram in any hundred of them.
UNDO = ["abort", "rollback", "retry", "pause", "resume", "advance", "finalize"]


@st.composite
def disturbance(draw) -> tuple:
    name = draw(st.sampled_from(WORKLOADS))
    kind = draw(st.sampled_from(UNDO + ["tests-failed", "flight-unhealthy", "alert"]))
    if kind == "flight-unhealthy":
        return kind, name, {"flight": draw(st.integers(1, 3))}
    if kind in ("tests-failed", "alert"):
        return kind, name, {}
    return "override", draw(st.sampled_from([name, name, None])), {"action": kind, "actor": APPROVER, "reason": "r"}


@st.composite
def runs(draw) -> tuple[str, list[tuple]]:
    kind = draw(st.sampled_from(sorted(PLANS) + ["flight", "flight"]))  # flights have the most edges
    late_approval = draw(st.booleans())  # no approve in the first pass: manual releases wait long in `ready`
    steps = [
        (t, w, d)
        for n in range(2)
        for t, w, _, d in _happy_path()
        if not (n == 0 and late_approval and d.get("action") == "approve")
    ]
    for at, step in sorted(
        draw(st.lists(st.tuples(st.sampled_from(range(len(steps) + 1)), disturbance()), min_size=3, max_size=10)),
        key=lambda x: -x[0],
    ):
        steps.insert(at, step)
    return kind, [(t, w, "" if t == "tick" else f"run-{i}", d) for i, (t, w, d) in enumerate(steps)]


def test_every_observed_transition_is_an_edge_of_the_readme_diagram_and_every_edge_is_observed():
    observed: set[tuple[str, str]] = set()

    @settings(
        max_examples=2 * settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )  # generation draws ~70 messages: see test_properties
    @given(runs())
    def check(case):
        kind, steps = case
        _, _, observations = run(kind, steps)
        for body, before, after, *_ in observations:
            for name in WORKLOADS:
                b, a = before.workloads[name], after.workloads[name]
                if b.state != a.state or (a.state == "flighting" and a.flight != b.flight):
                    edge = (b.state.value, a.state.value)
                    if edge not in EDGES and _is_resume(body):
                        # resume re-evaluates facts recorded while paused (README): it may take several edges
                        # at once (replicating -> testing -> ready -> flighting); each must be in the diagram
                        assert edge[1] in reachable(edge[0]), f"{kind}: resume moved {name} {edge}: no such path"
                        continue
                    assert edge in EDGES, (
                        f"{kind}: {body['type']} {body.get('data')} moved {name} {edge}, "
                        "which the README's diagram does not show"
                    )
                    observed.add(edge)

    check()
    # The fixed 200 examples of make test reach every edge, so the property is checked on each of them; random
    # ones (make test-random) miss an edge now and then, and make mutation's 20 do, which says nothing of the
    # machine.
    if settings.default.derandomize and settings.default.max_examples >= 100:
        assert EDGES - observed == set(), "diagram edges no generated run took (the generator misses them)"
