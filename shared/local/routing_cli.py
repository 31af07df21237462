"""`promote plan` and `promote routing verify` (routing visibility). Registers its commands into the CLI.

Exit status: 0 success (verify: no drift), 1 drift found or a resource could not be read, 2 bad usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> dict:
    """Add this module's subcommands to the `promote` parser; return {command name: handler(args) -> exit code}."""
    plan = sub.add_parser("plan", help="the exact network changes each step of a release makes, and their inverse")
    source = plan.add_mutually_exclusive_group(required=True)
    source.add_argument("--release", help="an applied release")
    source.add_argument("--file", help="a plan file not applied yet (YAML or JSON; - for standard input)")
    plan.add_argument("--json", action="store_true", help="one JSON object instead of text")
    plan.add_argument(
        "--live",
        action="store_true",
        help="also read the Azure resources: what Azure or promote "
        "would refuse (members the plan does not name, a security rule priority already taken)",
    )

    routing = sub.add_parser("routing", help="routing checks against the live network")
    actions = routing.add_subparsers(dest="routing_action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify",
        help="live share vs. the share the state says, per workload (exit 1 when any drifts or cannot be read)",
    )
    verify.add_argument("--release", required=True, help="the release (as applied)")
    verify.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    return {"plan": cmd_plan, "routing": cmd_routing}


def cmd_plan(args) -> int:
    from shared.domain.budget import calls_ahead
    from shared.domain.routing import change_plan, change_plan_text, notes_text

    if args.release:
        from shared.local.common import checked_stack

        release = checked_stack().store.get_release(args.release).release
        plan, doc = release.plan, change_plan(release.plan, release)
    else:
        plan, release = _read_plan(args.file), None
        doc = change_plan(plan)
    if args.live:
        from shared.adapters.routing import live_notes
        from shared.application.bootstrap import stack

        _add_live_problems(doc, live_problems(plan, stack().settings))
        live_notes(doc, plan, stack().settings)  # what a share means there, beyond refusals (issue 25)
    azure = calls_ahead(plan, release if args.release else None)  # contract §15: the moves still ahead
    doc["azure"] = azure.to_json()
    print(json.dumps(doc) if args.json else change_plan_text(doc) + _live_text(doc) + notes_text(doc) + f"\n\n{azure}")
    return 0


def live_problems(plan, settings) -> dict[str | None, list[str]]:
    """Workload (None: revoke_access) -> what Azure or promote would refuse, read from the live resources.
    Only Azure resources are read (no local storage needed); one that cannot be read is named as such
    (`could not check ...`)."""
    from shared.adapters.routing import access_revoker, router_factory
    from shared.domain.errors import PromoteError

    routers, revoker = router_factory(lambda: None, settings), access_revoker(lambda: None, settings)
    from shared.domain.routing import release_steps
    from shared.domain.shares import realisable_share

    found: dict[str | None, list[str]] = {}
    for w in plan.workloads:
        if w.routing.provider == "local":
            continue
        percents = [realisable_share(w.routing, p) for _, p in release_steps(plan)]
        try:
            found[w.name] = routers(plan.release, w.name, w.routing).problems([p for p in percents if p is not None])
        except PromoteError as exc:
            found[w.name] = [f"could not check: {exc}"]
    if plan.revoke_access and plan.revoke_access.provider != "local":
        try:
            found[None] = revoker.problems(plan.release, plan.revoke_access)
        except PromoteError as exc:
            found[None] = [f"could not check: {exc}"]
    return found


def _add_live_problems(doc: dict, found: dict[str | None, list[str]]) -> None:
    for w in doc["workloads"]:
        w["problems"] = found.get(w["name"], [])
    if doc["revoke_access"] is not None:
        doc["revoke_access"]["problems"] = found.get(None, [])


def _live_text(doc: dict) -> str:
    problems = [(w["name"], p) for w in doc["workloads"] for p in w.get("problems", [])]
    problems += [("revoke_access", p) for p in (doc["revoke_access"] or {}).get("problems", [])]
    if not any("problems" in w for w in doc["workloads"]):
        return ""
    if not problems:
        return "\n\nlive check: nothing Azure or promote would refuse"
    return "\n\nlive check: would be REFUSED\n" + "\n".join(f"  {name}: {p}" for name, p in problems)


def _read_plan(name: str):
    from shared.domain.plan import load_plan_text
    from shared.local.common import UsageError

    if name == "-":
        return load_plan_text(sys.stdin.read(), filename="<stdin>")
    path = Path(name)
    if not path.is_file():
        raise UsageError(f"plan file {name} does not exist")
    return load_plan_text(path.read_text(encoding="utf-8"), filename=name)


def cmd_routing(args) -> int:
    from shared.application.drift import verify_release
    from shared.local.common import checked_stack

    stack = checked_stack()
    release = stack.store.get_release(args.release).release
    checks = verify_release(release, stack.service.routers)
    failed = any(c.drift or c.error for c in checks)
    if args.json:
        print(
            json.dumps(
                {
                    "release": release.name,
                    "drift": any(c.drift for c in checks),
                    "errors": any(c.error for c in checks),
                    "workloads": [c.to_json() for c in checks],
                }
            )
        )
    else:
        width = max(len(c.workload) for c in checks)
        for c in checks:
            mark = "ERROR" if c.error else "DRIFT" if c.drift else "ok"
            live = "-" if c.live_percent is None else f"{c.live_percent}%"
            print(f"{mark:<5}  {c.workload:<{width}}  state {c.expected_percent:>3}%  live {live:>4}  {c.summary()}")
        print(
            f"release {release.name}: "
            + (
                "drift found"
                if any(c.drift for c in checks)
                else "could not read every resource"
                if failed
                else "no drift"
            )
        )
    return 1 if failed else 0
