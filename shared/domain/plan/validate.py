"""validate_plan: a plan is validated once, at apply time, with every problem named by its field path; the
rules that span fields are checked on the raw document too, so they are named alongside the fields' own."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from pydantic import ValidationError

from shared.domain.errors import PlanError
from shared.domain.plan.health import CHECK_PROVIDERS
from shared.domain.plan.model import Plan, increasing_problems, repeated
from shared.domain.plan.routing import PROVIDERS, ROUTING, ApplicationGatewayRouting, LoadBalancerRouting, Routing
from shared.domain.plan.shares import ALL_OR_NOTHING, pool_addresses, realisable_share
from shared.domain.plan.time import zone_problem

# The plan is kept in the release record, deflated when large (an entity holds 1 MiB, its text in UTF-16, and
# the record holds the shards' pending summaries too: half of it is left for them), and its assets in the
# workload rows, a shard of which one transaction (4 MiB) rewrites. A 5,000-workload plan with a routing
# section a workload is 2,000,000-2,800,000 characters of JSON, 190,000-280,000 stored.
MAX_PLAN_CHARS = 5_000_000  # the plan as JSON: what every host parses when it first reads the release
MAX_STORED_PLAN_CHARS = 300_000  # the plan as the release record stores it: JSON, deflated, in base64 (600 KB)
MAX_ASSET_CHARS = 1_000_000  # every asset name of the plan, together
Problem = tuple[str, str]  # (field path, reason)


def _loc(loc: tuple) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif (
            part in PROVIDERS
            or part in CHECK_PROVIDERS
            or part in ("function-after[_check(), str]",)
            or "[" in str(part)
        ):
            continue  # pydantic's union-branch / validator labels are not field names
        else:
            path += f".{part}" if path else str(part)
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind, msg = error.get("type"), error.get("msg", "")
    if kind in ("union_tag_invalid", "union_tag_not_found") and "checks" in error.get("loc", ()):
        return f"provider must be one of: {', '.join(CHECK_PROVIDERS)}"
    if kind == "union_tag_invalid":
        return f"unknown provider {error['input'].get('provider')!r}; expected one of: {', '.join(PROVIDERS)}"
    if kind == "union_tag_not_found":
        return f"provider is required; one of: {', '.join(PROVIDERS)}"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    return msg.removeprefix("Value error, ")


def _cross_field_problems(raw: dict[str, Any], plan: Plan | None) -> list[Problem]:
    """Rules that span fields; checked on the raw plan too, so they are named alongside field errors."""
    problems: list[Problem] = []
    model = raw.get("model")
    flights = raw.get("flights")
    if model == "flight" and flights is None:
        problems.append(("flights", "the flight model needs flights (e.g. 10%, 50%, 100%)"))
    if model in ("single-step", "staged") and flights is not None:
        problems.append(("flights", f"flights are only for the flight model, not {model}"))
    approval = raw.get("approval") or ("manual" if model == "staged" else "auto")
    if isinstance(approval, dict):
        approval = approval.get("mode", "manual")
        quorum = raw["approval"].get("quorum", 1)
        if isinstance(quorum, int) and quorum > len(raw.get("approvers") or []):
            problems.append(("approval.quorum", f"a quorum of {quorum} needs that many approvers in `approvers`"))
    if approval == "manual" and not raw.get("approvers"):
        problems.append(("approvers", "manual approval needs at least one approver"))
    listed: list[Any] = raw["workloads"] if isinstance(raw.get("workloads"), list) else []
    judged = raw.get("health") or any(isinstance(w, dict) and w.get("health") for w in listed)
    if model in ("single-step", "staged") and judged:
        problems.append(("health", f"health judges flights; the {model} model has none"))
    if raw.get("on_deadline") == "rollback" and model != "flight":
        problems.append(("on_deadline", f"rollback acts on flights; the {model} model has none (use notify or pause)"))
    if isinstance(raw.get("after"), list) and raw.get("release") in raw["after"]:
        problems.append(("after", "a release cannot wait for itself"))
    problems += _raw_problems(raw) if plan is None else []
    percents = plan.flight_percents if plan is not None else _raw_percents(flights)
    if model != "flight" or not percents:
        return problems
    for i, routing in _routings(raw, plan):
        problems += _share_problems(f"workloads[{i}].routing", routing, percents)
    return problems


def _share_problems(path: str, routing: Routing, percents: list[int]) -> list[Problem]:
    """Flights a workload's routing cannot realise, or would realise as the same share twice."""
    if routing.provider in ALL_OR_NOTHING and not (
        isinstance(routing, ApplicationGatewayRouting) and routing.flight_pool
    ):
        return [
            (
                f"{path}.provider",
                f"{routing.provider} can only realise 0% or 100%; flights "
                f"{', '.join(f'{p}%' for p in percents[:-1])} need local, traffic-manager, front-door, "
                "load-balancer, or application-gateway with a flight_pool",
            )
        ]
    problems: list[Problem] = []
    shares = [realisable_share(routing, p) for p in percents]
    for percent, share in zip(percents, shares, strict=True):
        if share is None or (percent < 100 and share in (0, 100)):
            sources, targets = _addresses(routing)
            problems.append(
                (
                    path,
                    f"{routing.provider} with {sources} source and {targets} target addresses cannot realise "
                    f"{percent}% (nearest {share}%); add addresses or change the flights",
                )
            )
    known = [s for s in shares if s is not None]
    # Flights out of order are named as such (`flights`); only increasing ones can collide on one share.
    increasing = all(a < b for a, b in pairwise(percents))
    if increasing and len(known) == len(shares) and any(b <= a for a, b in pairwise(known)):
        problems.append(
            (
                path,
                f"{routing.provider} realises flights {percents} as {shares}: two flights would "
                "route the same share; add addresses or change the flights",
            )
        )
    return problems


def _addresses(routing: Routing) -> tuple[int, int]:
    if isinstance(routing, (LoadBalancerRouting, ApplicationGatewayRouting)):
        sources, targets = pool_addresses(routing)
        return len(sources), len(targets)
    return 0, 0


def _raw_percents(flights: Any) -> list[int]:
    """The flight percents of a plan that failed validation, if every flight has a valid one."""
    percents = _whole_percents(flights)
    return percents if all(1 <= p <= 100 for p in percents) else []


def _whole_percents(flights: Any) -> list[int]:
    """The flight percents of a plan that failed validation, if every flight gives a whole number, in range or
    not: [0, 60, 50] is out of order as well as starting at an invalid 0%, and both are named."""
    if not isinstance(flights, list) or not flights:
        return []
    percents = [f.get("percent") if isinstance(f, dict) else None for f in flights]
    whole = [p for p in percents if isinstance(p, int) and not isinstance(p, bool)]
    return whole if len(whole) == len(percents) else []


def _routings(raw: dict[str, Any], plan: Plan | None) -> list[tuple[int, Routing]]:
    """(index, routing) of each workload whose routing is valid, from the plan or, if it failed, one by one."""
    if plan is not None:
        return [(i, w.routing) for i, w in enumerate(plan.workloads)]
    found = []
    workloads = raw.get("workloads")
    for i, w in enumerate(workloads if isinstance(workloads, list) else []):
        routing = w.get("routing", {"provider": "local"}) if isinstance(w, dict) else None
        try:
            found.append((i, ROUTING.validate_python(routing)))
        except ValidationError:
            continue  # named by the plan's own errors
    return found


def _raw_problems(raw: dict[str, Any]) -> list[Problem]:
    """Checks of whole lists that pydantic skips once an item of the list failed: named all the same."""
    problems: list[Problem] = [("flights", p) for p in increasing_problems(_whole_percents(raw.get("flights")))]
    listed = raw.get("workloads")
    workloads: list[Any] = listed if isinstance(listed, list) else []
    names: list[str] = [w["name"] for w in workloads if isinstance(w, dict) and isinstance(w.get("name"), str)]
    dupes = repeated(names)
    if dupes:
        problems.append(("workloads", f"duplicate workload names: {', '.join(dupes)}"))
    for i, w in enumerate(workloads):
        assets = w.get("assets") if isinstance(w, dict) else None
        if isinstance(assets, list):
            twice = repeated([a for a in assets if isinstance(a, str)])
            if twice:
                problems.append((f"workloads[{i}].assets", f"duplicate assets: {', '.join(twice)}"))
    return problems


def _finishing_problems(plan: Plan) -> list[Problem]:
    """Cross-field rules of §8 on a validated plan."""
    problems: list[Problem] = []
    shared = plan.decommission
    if shared is not None and shared.provider == "azure-vm":
        users = [w.name for w in plan.workloads if w.decommission is None]
        if len(users) > 1:
            problems.append(
                (
                    "decommission.source_vms",
                    f"the release-wide source_vms would power off the same "
                    f"servers for {len(users)} workloads ({', '.join(users[:5])}); give each workload "
                    "its own decommission.source_vms",
                )
            )
    return problems


def _zone_problems(raw: dict[str, Any], named: list[Problem]) -> list[Problem]:
    """A window's timezone the model loads but another host may read differently (or not at all). Refused here,
    at apply, and not by the model, which still reads releases stored with one before this rule."""
    windows = raw.get("windows")
    zone = windows.get("timezone") if isinstance(windows, dict) else None
    if not isinstance(zone, str) or any(path == "windows.timezone" for path, _ in named):
        return []
    problem = zone_problem(zone)
    return [("windows.timezone", problem)] if problem else []


def stored_chars(text: str) -> int:
    """Characters the release record takes for a plan of this JSON: deflated, in base64."""
    return 4 * -(-len(zlib.compress(text.encode(), 6)) // 3)


def _size_problems(plan: Plan) -> list[Problem]:
    """A plan too big to keep: as JSON, as stored, or its asset names."""
    text = json.dumps(plan.canonical(), separators=(",", ":"))
    split = "split the release"
    if len(text) > MAX_PLAN_CHARS:
        return [("", f"the plan is {len(text):,} characters as JSON; the limit is {MAX_PLAN_CHARS:,} ({split})")]
    problems: list[Problem] = []
    if (stored := stored_chars(text)) > MAX_STORED_PLAN_CHARS:
        problems.append(
            (
                "",
                f"the plan takes {stored:,} characters stored (deflated); the limit is {MAX_STORED_PLAN_CHARS:,} "
                f"({split}, or shorten names and asset names)",
            )
        )
    if (assets := sum(len(a) for w in plan.workloads for a in w.assets)) > MAX_ASSET_CHARS:
        problems.append(
            (
                "workloads",
                f"the asset names take {assets:,} characters in all; the limit is {MAX_ASSET_CHARS:,} "
                f"({split}, or shorten asset names)",
            )
        )
    return problems


def validate_plan(raw: Any) -> Plan:
    """Validate a parsed plan document; raise PlanError naming every problem."""
    if not isinstance(raw, dict):
        raise PlanError([("", f"a plan is a mapping of fields, got {type(raw).__name__}")])
    problems: list[Problem] = []
    plan: Plan | None = None
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as exc:
        problems.extend((_loc(e["loc"]), _message(e)) for e in exc.errors())
    problems.extend(p for p in _cross_field_problems(raw, plan) if p not in problems)
    problems.extend(_zone_problems(raw, problems))
    if plan is not None:
        problems.extend(_finishing_problems(plan))
    if plan is not None:
        problems.extend(_size_problems(plan))
    if problems:
        raise PlanError(problems)
    assert plan is not None
    return plan


def load_plan_text(text: str, *, filename: str = "plan") -> Plan:
    """Parse YAML or JSON text (JSON is YAML) and validate it. A JSON document is read by the JSON parser
    (a 5,000-workload plan in milliseconds, not the YAML parser's seconds); anything it refuses is read as YAML,
    which names the problem and its line."""
    import yaml  # imported here: only apply needs it

    raw = _strict_json(text)
    if raw is _NOT_JSON:
        try:
            raw = yaml.load(text, Loader=_unique_keys_loader())  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise PlanError([("", f"{filename} is not valid YAML or JSON: {exc}")]) from None
    return validate_plan(raw)


_NOT_JSON: Any = object()


def _strict_json(text: str) -> Any:
    """The document if `text` is one JSON object read as YAML would read it (no key twice, no NaN or Infinity),
    else _NOT_JSON."""
    if not text.lstrip().startswith("{"):
        return _NOT_JSON

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        doc = dict(pairs)
        if len(doc) != len(pairs):
            raise ValueError("a key given twice")  # the YAML parser names it, with its line
        return doc

    def refuse(constant: str) -> Any:
        raise ValueError(constant)  # NaN and Infinity are not JSON: YAML reads them as text

    try:
        return json.loads(text, object_pairs_hook=unique, parse_constant=refuse)
    except ValueError:
        return _NOT_JSON


def _unique_keys_loader() -> Any:
    """A yaml SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""
    import yaml

    base = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader  # libyaml: ten times faster

    class UniqueKeyLoader(base):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                except TypeError:  # an unhashable key: the base class names that problem
                    break
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader
