"""Facts from the migration tool and the test pipeline: assets replicated, tests passed or failed."""

from __future__ import annotations

from shared.domain.machine.step import Ruling, Step
from shared.domain.model import Outcome, Workload, WorkloadState

S = WorkloadState


def on_asset(step: Step, w: Workload) -> Ruling:
    asset = step.message.data.asset
    if asset not in w.assets:
        return Outcome.REJECTED, f"asset {asset!r} is not part of workload {w.name}", w
    if w.state in (S.PROMOTED, S.FINALIZED):
        return (
            Outcome.IGNORED,
            (
                f"asset {asset} replicated after promotion: the link to the source was severed at "
                "promotion; WARNING: changes made on the source since then are lost"
            ),
            w,
        )
    if w.state == S.ABORTED:
        return Outcome.IGNORED, "workload is aborted", w
    if w.assets[asset]:
        return Outcome.IGNORED, f"asset {asset} was already replicated", w
    w = w.evolve(assets={**w.assets, asset: True})
    done = sum(w.assets.values())
    return Outcome.APPLIED, f"asset {asset} replicated ({done}/{len(w.assets)})", w


def on_tests(step: Step, w: Workload) -> Ruling:
    passed = step.message.type == "tests-passed"
    data = step.message.data
    what = " ".join(
        x for x in (f"suite {data.suite}" if data.suite else "", f"run {data.run}" if data.run else "") if x
    )
    what = f" ({what})" if what else ""
    if w.state in (S.PROMOTED, S.ABORTED, S.FLIGHTING, S.FINALIZED):
        return Outcome.IGNORED, f"tests result{what} arrived while {w.state}; it changes nothing now", w
    if w.state == S.ROLLED_BACK:
        return Outcome.REJECTED, "workload is rolled back: send override retry before new test results", w
    if not w.all_replicated:
        pending = [a for a, done in w.assets.items() if not done]
        return (
            Outcome.REJECTED,
            (
                f"tests result{what} while replicating: {len(pending)} asset(s) not replicated yet "
                f"({', '.join(pending[:5])})"
            ),
            w,
        )
    if passed:
        if w.tests_passed:
            return Outcome.IGNORED, f"tests already passed{what}", w
        return Outcome.APPLIED, f"tests passed{what}", w.evolve(tests_passed=True)
    # an approval is given for what passes (also one given early, while replicating or testing): after a
    # failed run what comes next passes every gate again, as after retry
    withdrawn = "; approval withdrawn: approve again once tests pass" if w.approved or w.approvals else ""
    if w.state == S.READY or w.tests_passed:
        return (
            Outcome.APPLIED,
            f"tests failed{what}: back to testing{withdrawn}",
            w.evolve(
                tests_passed=False, approved=False, approvals=[], state=S.TESTING if w.state == S.READY else w.state
            ),
        )
    return (
        Outcome.APPLIED,
        f"tests failed{what}: waiting for a passing run{withdrawn}",
        w.evolve(approved=False, approvals=[]),
    )
