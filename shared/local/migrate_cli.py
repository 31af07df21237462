"""Azure Migrate's commands (contract v3 §16): `promote rehearse` (the override `rehearse`) and `promote import
csv | azure-migrate`, which write a plan (YAML, valid for `promote apply`) and apply nothing.

A CSV has a header row with at least `workload` and `machine` columns (`asset` is accepted for `machine`), one
row per machine; other columns are ignored. Bad rows are named with their line numbers (exit 2), and nothing
is written. `import azure-migrate` reads the vault's migration items: one workload per machine, or with
`--group G` one workload G of the machines tagged group=G.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path
from typing import Any

from shared.local.common import EXIT_OK, UsageError

MODELS = ("single-step", "staged", "flight")
DEFAULT_FLIGHTS = [{"percent": 10, "bake": "30m"}, {"percent": 50, "bake": "1h"}, {"percent": 100, "bake": "0s"}]


def register(sub) -> dict:
    rehearse = sub.add_parser(
        "rehearse", help="test-migrate a workload into the plan's isolated network (Azure Migrate; operators)"
    )
    rehearse.add_argument("--release", required=True, help="the release (as applied)")
    rehearse.add_argument("--workload", help="one workload; default: every workload of the release")
    rehearse.add_argument("--actor", help="who acts (required locally; on Azure your Entra ID sign-in)")
    rehearse.add_argument("--reason", required=True, help="why: kept verbatim in history as actor_reason")
    rehearse.add_argument("--id", help="CloudEvents id; default: a new UUID")
    rehearse.add_argument("--wait", nargs="?", const=30.0, type=float, metavar="S", help="wait for the outcome")

    imp = sub.add_parser("import", help="write a plan from a CSV export or an Azure Migrate vault (applies nothing)")
    kinds = imp.add_subparsers(dest="kind", required=True, metavar="{csv,azure-migrate}")
    from_csv = kinds.add_parser("csv", help="from a spreadsheet export: columns workload and machine (or asset)")
    from_csv.add_argument("file", help="the CSV file (- for standard input)")
    from_csv.add_argument("--vault", help="the Azure Migrate vault's resource id: adds source azure-migrate")
    vault = kinds.add_parser("azure-migrate", help="from a vault's migration items")
    vault.add_argument("--vault", required=True, help="the Site Recovery vault's resource id")
    vault.add_argument("--group", help="one workload of the machines tagged group=G (default: one per machine)")
    for parser in (from_csv, vault):
        parser.add_argument("--release", default="imported", help="the release name (default imported)")
        parser.add_argument("--model", choices=MODELS, default="single-step", help="default single-step")
        parser.add_argument("--routing-provider", default="local", help="the workloads' routing (default local)")
        parser.add_argument("-o", "--output", help="write the plan here (default: standard output)")
    return {"rehearse": cmd_rehearse, "import": cmd_import}


def cmd_rehearse(args) -> int:
    from shared.local.messages_cli import cmd_override

    return cmd_override(argparse.Namespace(**vars(args), action="rehearse"))


def workload_name(text: str) -> str:
    """A machine or group name as a workload name: [a-z0-9-], at most 63 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.strip().lower()).strip("-")[:63].strip("-")
    return name or "workload"


def read_csv(text: str, where: str) -> dict[str, list[str]]:
    """workload -> its machines, in file order; every bad row named with its line number (UsageError)."""
    from shared.domain.names import is_name

    reader = csv.DictReader(text.splitlines())
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    machine_col = header.get("machine") or header.get("asset")
    if "workload" not in header or machine_col is None:
        found = ", ".join(h for h in header if h) or "none"
        raise UsageError(f"{where}:1: the header needs columns workload and machine (or asset); found {found}")
    workloads: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    problems = []
    for row in reader:
        line = reader.line_num
        workload = (row.get(header["workload"]) or "").strip()
        machine = (row.get(machine_col) or "").strip()
        if not workload and not machine:
            continue  # a blank line
        if not is_name(workload):
            problems.append(f"{where}:{line}: workload {workload!r} must match [a-z0-9][a-z0-9-]{{0,62}}")
        elif not machine or any(ord(c) < 32 for c in machine) or len(machine) > 256:
            problems.append(f"{where}:{line}: machine {machine!r} must be 1-256 printable characters")
        elif machine.lower() in owner:
            problems.append(f"{where}:{line}: machine {machine} is already in workload {owner[machine.lower()]}")
        else:
            owner[machine.lower()] = workload
            workloads.setdefault(workload, []).append(machine)
    if problems:
        raise UsageError(
            "\n".join(problems[:50]) + (f"\n... and {len(problems) - 50} more" if len(problems) > 50 else "")
        )
    if not workloads:
        raise UsageError(f"{where}: no rows: nothing to import")
    return workloads


def plan_of(args: Any, workloads: dict[str, list[str]], vault: str | None) -> dict:
    plan: dict[str, Any] = {"release": args.release, "model": args.model}
    if args.model == "flight":
        plan["flights"] = DEFAULT_FLIGHTS
    if vault:
        plan["source"] = {"provider": "azure-migrate", "vault": vault, "shutdown_source": True}
    plan["workloads"] = [
        {"name": name, "assets": machines, "routing": {"provider": args.routing_provider}}
        for name, machines in workloads.items()
    ]
    return plan


def from_vault(args: Any) -> dict[str, list[str]]:
    from shared.application.bootstrap import stack

    machines = stack().migrator.machines(args.vault)
    if args.group:
        chosen = [m.name for m in machines if (m.group or "").lower() == args.group.lower()]
        if not chosen:
            raise UsageError(f"no machine of the vault is tagged group={args.group}")
        return {workload_name(args.group): chosen}
    out: dict[str, list[str]] = {}
    for m in machines:
        name = workload_name(m.name)
        while name in out:  # two machines whose names clash once made workload names
            name = f"{name[:58]}-{len(out)}"
        out[name] = [m.name]
    if not out:
        raise UsageError("the vault has no migration items: nothing to import")
    return out


def cmd_import(args) -> int:
    import yaml

    from shared.domain.errors import PlanError
    from shared.domain.plan import validate_plan

    if args.kind == "csv":
        where = "<stdin>" if args.file == "-" else args.file
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"{where}: {exc.strerror}") from None
        workloads, vault = read_csv(text, where), args.vault
    else:
        workloads, vault = from_vault(args), args.vault
    plan = plan_of(args, workloads, vault)
    try:
        validate_plan(plan)  # written only when `promote apply` would take it
    except PlanError as exc:
        raise UsageError(f"the imported plan would be refused: {exc}") from None
    text = yaml.safe_dump(plan, sort_keys=False, allow_unicode=True)
    count = sum(len(m) for m in workloads.values())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: release {args.release}, {len(workloads)} workload(s), {count} machine(s)")
        print(f"nothing is applied yet: promote apply {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK
