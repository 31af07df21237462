"""Typed errors of the domain. Callers branch on the type, never on None/False."""

from __future__ import annotations


class PromoteError(Exception):
    """Base of every error promote raises on purpose."""


class PlanError(PromoteError):
    """The plan is invalid; `problems` names each one as (field path, reason)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = "\n".join(f"  {path or '(plan)'}: {reason}" for path, reason in problems)
        super().__init__(f"invalid plan ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}")


class PlanChangeRefused(PromoteError):
    """A changed plan was applied while its release is in progress."""


class MessageError(PromoteError):
    """A message cannot be understood (bad JSON, not CloudEvents, bad data)."""


class UnknownRelease(PromoteError):
    """A message or command names a release that was never applied."""

    def __init__(self, release: str):
        self.release = release
        super().__init__(f"release {release!r} was never applied")


class ConflictError(PromoteError):
    """Another writer changed the release between our read and our commit."""


class SeenElsewhere(PromoteError):
    """A commit found its message's de-duplication marker already written: the id was used before, by a
    message of another scope of the release (another shard's workload, or the release itself)."""


class RoutingError(PromoteError):
    """A routing provider could not read or change the network; names the resource."""


class ReleaseExists(PromoteError):
    """create_release raced with another writer that created it first."""


class DeliveryError(PromoteError):
    """A notification was not accepted by its receiver. The message never names the receiver's URL."""
