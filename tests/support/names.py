"""Names for what a test creates in storage (releases, ids), unique across runs and processes.

A test may run many times against one Azurite: `make mutation` runs each mutant's tests in a process forked
from one parent, so anything derived from a per-process counter repeats; a second `pytest` run against a
reused Azurite (PROMOTE_TEST_AZURITE_PORTS) starts its counters again. A random part makes a name new every
time, and the test's own name in front keeps it readable in a failure or on the board.
"""

from __future__ import annotations

import re
import uuid

from shared.domain.names import NAME_PATTERN

_PATTERN = re.compile(NAME_PATTERN)
_NOT_NAME = re.compile(r"[^a-z0-9]+")
BASE_LENGTH = 40  # leaves room for the random part and a test's own suffixes ("-b") within 63 characters
RANDOM_LENGTH = 10  # hex digits: a clash needs about 10^6 names, a run creates a few thousand


def unique_name(label: str) -> str:
    """`label` squeezed into the release-name charset ([a-z0-9][a-z0-9-]{0,62}), plus a random part."""
    base = _NOT_NAME.sub("-", label.lower()).strip("-")[:BASE_LENGTH].strip("-") or "t"
    name = f"{base}-{uuid.uuid4().hex[:RANDOM_LENGTH]}"
    assert _PATTERN.fullmatch(name), name
    return name
