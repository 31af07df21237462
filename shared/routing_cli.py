"""`promote plan` and `promote routing verify` (routing visibility). Registers its commands into the CLI."""
from __future__ import annotations


def register(sub) -> dict:
    """Add this module's subcommands to the `promote` parser; return {command name: handler(args) -> exit code}."""
    return {}
