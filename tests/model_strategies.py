"""Hypothesis strategies for the model's records, drawn field by field from the dataclasses' own types, so a
field added to the model is drawn too (a field of a new type fails here until it has a strategy)."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from shared.domain.model import Op, Outcome, Workload, WorkloadState

TEXT = st.text(max_size=40)
# Edm.DateTime holds 1601-01-01 to 9999-12-31 (UTC); promote keeps every time in UTC
TIMES = st.datetimes(min_value=datetime(1601, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC))
NAMES = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)  # workload and release names
BY_TYPE: dict[Any, st.SearchStrategy] = {
    bool: st.booleans(),
    int: st.integers(min_value=0, max_value=2**31 - 1),  # Edm.Int32: the SDK refuses more
    str: TEXT,
    float: st.floats(allow_nan=False, allow_infinity=False),
    datetime: TIMES,
    WorkloadState: st.sampled_from(WorkloadState),
    Outcome: st.sampled_from(Outcome),
    Op: st.sampled_from(Op),  # v3 §16: an Azure Migrate operation's state
    dict[str, bool]: st.dictionaries(TEXT, st.booleans(), max_size=8),
    # approvals: who approved and when (an ISO text), as the quorum rule records them
    list[str]: st.lists(TEXT, max_size=4),
    list[dict]: st.lists(st.fixed_dictionaries({"by": TEXT, "at": TEXT}), max_size=4),
}


def of_type(hint: Any) -> st.SearchStrategy:
    args = typing.get_args(hint)
    if type(None) in args:
        [inner] = [a for a in args if a is not type(None)]
        return st.none() | of_type(inner)
    assert hint in BY_TYPE, f"a model field of type {hint}: add a strategy for it to BY_TYPE"
    return BY_TYPE[hint]


def workloads(name: st.SearchStrategy[str] = NAMES) -> st.SearchStrategy[Workload]:
    """Any workload: every field drawn from its type."""
    hints = typing.get_type_hints(Workload)
    fields = {f.name: of_type(hints[f.name]) for f in dataclasses.fields(Workload) if f.name != "name"}
    return st.builds(Workload, name=name, **fields)
