"""`promote metrics put` (contract §10): feed the `local` health provider. Registers its command into the CLI."""

from __future__ import annotations

import math


def register(sub) -> dict:
    metrics = sub.add_parser("metrics", help="values for the `local` health provider (runs, tests, the demo)")
    actions = metrics.add_subparsers(dest="metrics_action", required=True, metavar="ACTION")
    put = actions.add_parser("put", help="record a check's latest value and how many samples it stands on")
    put.add_argument("--release", required=True, help="the release (as applied)")
    put.add_argument("--workload", required=True, help="the workload of the release")
    put.add_argument("--check", required=True, help="the name of a `local` check in the plan's health section")
    put.add_argument("--value", required=True, type=float, help="the measured value (a finite number)")
    put.add_argument(
        "--samples",
        required=True,
        type=int,
        help="how many samples the value is measured over (0: no data, inconclusive)",
    )
    return {"metrics": cmd_metrics}


def cmd_metrics(args) -> int:
    from shared.local.common import UsageError, checked_stack, now

    if not math.isfinite(args.value):
        raise UsageError("--value must be a finite number")
    if args.samples < 0:
        raise UsageError("--samples cannot be negative")
    s = checked_stack()
    plan = s.store.get_release(args.release).release.plan  # UnknownRelease -> exit 2
    if plan.workload(args.workload) is None:
        raise UsageError(f"workload {args.workload!r} is not part of release {args.release}")
    health = plan.health_of(args.workload)
    local = [c.name for c in (health.checks if health else []) if c.provider == "local"]
    if args.check not in local:
        raise UsageError(
            f"{args.release}/{args.workload} has no local check {args.check!r}"
            + (f" (its local checks: {', '.join(local)})" if local else " (it has no local checks)")
        )
    s.local_metrics.put(args.release, args.workload, args.check, args.value, args.samples, now())
    print(f"{args.release}/{args.workload} {args.check} = {args.value:g} over {args.samples} samples")
    return 0
