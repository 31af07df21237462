"""Who acted, and why: actor matching and the operator's reason. Pure.

Actor names compare case-insensitively (Entra ID user principal names do); a plan's `approvers` and
`operators` may also name Entra ID groups as `group:<object-id>`, matched against the group object ids
of an authenticated principal (never against a name, so `--actor group:...` matches nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GROUP_PREFIX = "group:"
GROUP_ENTRY = re.compile(r"^group:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The operator's reason is kept verbatim up to this many characters; a longer one is cut there and ends
# with CLIPPED_MARK, so a reader sees it was cut. History rows and the board stay a readable size.
ACTOR_REASON_LIMIT = 500
CLIPPED_MARK = "…"


@dataclass(frozen=True)
class Principal:
    """Whoever sends an override. `authenticated`: the name and groups come from Entra ID (App Service
    authentication's client principal), not from the message."""

    name: str
    groups: tuple[str, ...] = ()
    authenticated: bool = False


def is_group_entry(entry: str) -> bool:
    return entry[: len(GROUP_PREFIX)].lower() == GROUP_PREFIX


def entitlement(entries: Iterable[str], principal: Principal) -> str | None:
    """The plan entry that lets `principal` act: its own name (any case) or a `group:<object-id>` it is a
    member of; None if no entry does."""
    # lower(), not casefold(): Entra ID compares names ignoring case, it does not fold 'ß' into 'ss'
    name = principal.name.lower()
    groups = {g.lower() for g in principal.groups}
    for entry in entries:
        if is_group_entry(entry):
            if entry[len(GROUP_PREFIX) :].lower() in groups:
                return entry
        elif entry.lower() == name:
            return entry
    return None


def clip_actor_reason(text: str | None) -> str | None:
    """The operator's reason as history keeps it: verbatim, at most ACTOR_REASON_LIMIT characters."""
    if text is None:
        return None
    if len(text) <= ACTOR_REASON_LIMIT:
        return text
    return text[: ACTOR_REASON_LIMIT - len(CLIPPED_MARK)] + CLIPPED_MARK
