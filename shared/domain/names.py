"""The name of a release or a workload (the contract's pattern), defined once."""

from __future__ import annotations

import re

# As the contract writes it; pydantic's regex engine (Rust) anchors `$` at the very end of the text.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def is_name(value: object) -> bool:
    """Whether `value` is a valid name. fullmatch: Python's `$` would also accept a trailing newline."""
    return isinstance(value, str) and _NAME.fullmatch(value) is not None
