"""Why a rollback, retry or abort is refused once the source is (being) turned off
(shared/domain/machine/rules/finish.py `refused_after_finalize`), in full: with the moment, or `-` when the
record has none."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.machine.rules.finish import refused_after_finalize
from shared.domain.model import Workload, WorkloadState

AT = datetime(2026, 12, 7, 9, 30, 15, 250000, tzinfo=UTC)


def test_a_finalized_workload_names_who_and_when():
    w = Workload("w1", state=WorkloadState.FINALIZED, finalized_by="ana@contoso.com", finalized_at=AT)
    assert refused_after_finalize("rollback", w) == (
        "rollback refused: finalized by ana@contoso.com at 2026-12-07T09:30:15Z: the source is decommissioned; "
        "there is no source to return to"
    )
    assert refused_after_finalize("abort", w.evolve(finalized_at=None)) == (
        "abort refused: finalized by ana@contoso.com at -: the source is decommissioned; there is no source to "
        "return to"
    )


def test_a_requested_finalize_names_who_and_when():
    w = Workload("w1", state=WorkloadState.PROMOTED, finalize_requested_by="ana@contoso.com", finalize_requested_at=AT)
    assert refused_after_finalize("retry", w) == (
        "retry refused: finalize requested by ana@contoso.com at 2026-12-07T09:30:15Z; the source may already be "
        "partly off"
    )
    assert refused_after_finalize("retry", w.evolve(finalize_requested_at=None)) == (
        "retry refused: finalize requested by ana@contoso.com at -; the source may already be partly off"
    )
    assert refused_after_finalize("retry", w.evolve(finalize_requested_by=None)) is None
