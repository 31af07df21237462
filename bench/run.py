"""promote's benchmark (issue 5): events/s and storage requests per event against the floor, cold import, memory.

    .venv/bin/python bench/run.py            # the full run (make bench): about 2.5 minutes on 2 cores
    .venv/bin/python bench/run.py --quick    # a short form for CI

It starts its own in-memory Azurite, applies one flight plan per release, drives every workload's whole life
cycle through the `events` function that function_app.py registers (sequentially and with concurrent workers,
one worker per release at a time, like Service Bus sessions), and measures in the same run, with the same
TableClient, the floor: the storage work a state change cannot avoid, done raw. Requests are counted on the
wire (an SDK pipeline hook). It prints a table and, as its last line, one JSON object; it exits 1 when a target
of issue 5 is missed (the reasons are printed above the JSON line). Details: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import coldstart  # noqa: E402
from bench import lifecycle as lifecycle_module  # noqa: E402
from bench.lifecycle import (  # noqa: E402
    Driver,
    RunStats,
    Shape,
    Workers,
    apply_all,
    check_promoted,
    chunks,
    combine,
    drive_duplicates,
    drive_releases,
    long_release,
)
from bench.meter import BenchCounter, MemoryProbe, memory_snapshot  # noqa: E402

TARGETS = {
    "ratio": 0.8,
    "requests_per_event": 2,
    "extra_per_duplicate": 1,
    "cold_import_ms": 250.0,
    "memory_growth": 0.10,
    "elapsed_s": 300.0,
}
JSON_KEYS = (
    "events_per_s",
    "floor_events_per_s",
    "ratio",
    "storage_requests_per_event",
    "storage_requests_per_duplicate",
    "p50_ms",
    "p99_ms",
    "cold_import_ms",
    "peak_rss_mb",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--releases", type=int, default=200, help="releases driven at --workers, the headline run (200)")
    p.add_argument("--workloads", type=int, default=5, help="workloads per release (5)")
    p.add_argument("--assets", type=int, default=2, help="assets per workload (2)")
    p.add_argument("--workers", type=int, default=4, help="concurrent workers of the headline run (4)")
    p.add_argument("--sweep", default="1,2,4,8", help="concurrency levels plotted (1,2,4,8)")
    p.add_argument(
        "--sweep-releases", type=int, default=40, help="releases driven at each sweep level other than --workers (40)"
    )
    p.add_argument(
        "--floor-releases", type=int, default=16, help="release-shaped partitions per floor variant and level (16)"
    )
    p.add_argument(
        "--rounds", type=int, default=5, help="the headline level alternates promote and floor in this many rounds (5)"
    )
    p.add_argument(
        "--duplicate-every",
        type=int,
        default=10,
        help="after the life cycles, redeliver every N-th message of the headline releases (10)",
    )
    p.add_argument("--import-runs", type=int, default=7, help="fresh interpreters timed for the cold import (7)")
    p.add_argument("--no-long", action="store_true", help="skip the release that passes the 512-id window")
    p.add_argument(
        "--profile", action="store_true", help="also cProfile 10 sequential releases and write bench/out/profile.txt"
    )
    p.add_argument("--quick", action="store_true", help="a short form for CI (about 40 s)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="results, logs (git-ignored)")
    p.add_argument("--png", type=Path, default=REPO / "docs" / "performance.png", help="the plot")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    if args.quick:
        args.releases, args.sweep, args.sweep_releases, args.floor_releases, args.rounds = 24, "1,4", 8, 8, 2
        args.import_runs = min(args.import_runs, 3)
    args.levels = sorted({int(x) for x in args.sweep.split(",") if x.strip()} | {args.workers})
    return args


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    shape = Shape(workloads=args.workloads, assets=args.assets)
    phases: dict[str, float] = {}

    def phase(name: str, t0: float) -> None:
        phases[name] = round(time.perf_counter() - t0, 1)
        print(f"  [{time.perf_counter() - started:6.1f}s] {name}: {phases[name]}s", file=sys.stderr, flush=True)

    # 1. Cold import first, while nothing else runs on the machine.
    t0 = time.perf_counter()
    cold = coldstart.measure(REPO, args.import_runs, args.out)
    phase("cold import", t0)

    from bench.floor import Floor, Templates
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import RELEASES_TABLE, ROUTING_TABLE, load_settings
    from shared.domain.model import SEEN_WINDOW
    from shared.local import azurite
    from shared.local.localhost import registered_function

    t0 = time.perf_counter()
    az = azurite.start()  # in memory, free ports
    phase("azurite", t0)
    lifecycle_module.CPU.storage_pid = az.process.pid if az.process else None
    try:
        counter = BenchCounter()
        stack = Stack(
            load_settings(
                {"PROMOTE_STORAGE_CONNECTION_STRING": az.connection_string, "PROMOTE_HOME": str(args.out / ".promote")}
            ),
            request_hook=counter,
        )
        use_stack(stack)  # the registered function now uses this stack (and its counted clients)
        counter.category("setup")
        state_table, routing_table = stack.table(RELEASES_TABLE), stack.table(ROUTING_TABLE)
        stack.store  # noqa: B018 - tables exist and clients are built, as in a warm function app
        function = registered_function("events")
        pool = Workers(max(args.levels))
        memory = MemoryProbe()
        driver = Driver(function, counter, memory, stack.service)

        warm = [f"bench-warm-{i:03d}" for i in range(max(args.levels))]
        by_level = {
            n: (
                [f"bench-{i:04d}" for i in range(args.releases)]
                if n == args.workers
                else [f"bench-c{n}-{i:04d}" for i in range(args.sweep_releases)]
            )
            for n in args.levels
        }
        profiled = [f"bench-prof-{i:03d}" for i in range(10)] if args.profile else []
        t0 = time.perf_counter()
        apply_all(
            stack.service,
            warm + [r for n in args.levels for r in by_level[n]] + profiled + ([] if args.no_long else ["bench-long"]),
            shape,
            counter,
        )
        phase("apply plans", t0)

        # 2. Warm-up at the highest concurrency (connections, threads, caches). The floor's entities are copies
        #    of what this real life cycle wrote.
        t0 = time.perf_counter()
        warmup = pool.run("warmup", max(args.levels), warm, drive_releases(driver, shape, "warmup"))
        floor = Floor(state_table, routing_table, counter, shape, Templates.from_release(state_table, warm[0]))
        problems = finish(stack, counter, warm)
        phase("warm-up", t0)

        # 3. Each concurrency level: promote, then the two floors right after (same conditions); at the headline
        #    level in rounds, each followed by redeliveries of every N-th message of the round's releases. After
        #    a round its partitions are deleted: Azurite answers a query by testing every entity of the table
        #    (Azure seeks the partition), so a table left to grow would tax promote's range read more and more.
        #    The headline level runs first, so both memory marks (1,000 and 10,000 messages) fall in runs at
        #    the headline concurrency, after the warm-up at the highest one.
        levels, dup_parts = [], []
        for n in [args.workers] + [n for n in args.levels if n != args.workers]:
            t0 = time.perf_counter()
            label = "headline" if n == args.workers else f"sweep-{n}"
            rounds = args.rounds if n == args.workers else 1
            floor_total = floor_count(args, n)
            parts: dict[str, list[RunStats]] = {"ours": [], "r": [], "s": []}
            for i, ours_part in enumerate(chunks(by_level[n], rounds)):
                r_part = [f"floor-r{n}-{i}-{k:03d}" for k in range(floor_total // rounds)]
                s_part = [f"floor-s{n}-{i}-{k:03d}" for k in range(floor_total // rounds)]
                floor.prepare(r_part + s_part)
                parts["ours"].append(pool.run(label, n, ours_part, drive_releases(driver, shape, "event")))
                parts["r"].append(floor.run(pool, "floor-routing", n, r_part, routing=True))
                parts["s"].append(floor.run(pool, "floor-state", n, s_part, routing=False))
                if n == args.workers:
                    dup_parts.append(
                        pool.run("duplicates", n, ours_part, drive_duplicates(driver, shape, args.duplicate_every))
                    )
                problems += finish(stack, counter, ours_part, r_part + s_part)
            ours = combine(label, n, parts["ours"])
            floor_routing = combine("floor-routing", n, parts["r"])
            floor_state = combine("floor-state", n, parts["s"])
            levels.append(
                {
                    "workers": n,
                    "headline": n == args.workers,
                    "releases": len(by_level[n]),
                    "ours_per_s": ours.per_s,
                    "floor_per_s": floor_routing.per_s,
                    "floor_state_per_s": floor_state.per_s,
                    "ours": ours.summary(),
                    "floor": floor_routing.summary(),
                    "floor_state": floor_state.summary(),
                    "_ours": ours,
                }
            )
            phase(f"{n} worker(s): {ours.messages} events at {ours.per_s:.1f}/s, floor {floor_routing.per_s:.1f}/s", t0)
        dups = combine("duplicates", args.workers, dup_parts)

        # 4. A release that passes the window of recent ids kept in its release row.
        long_stats: dict[str, RunStats] = {}
        if not args.no_long:
            t0 = time.perf_counter()
            long_stats = long_release(driver, shape, "bench-long", SEEN_WINDOW)
            phase("long release", t0)
        end_memory = memory_snapshot(memory.handled)

        # 5. Time and order (issue 13): windows and deadlines cost nothing per event; what `after` costs.
        from bench import time_cost

        t0 = time.perf_counter()
        time_figures = time_cost.measure(az.connection_string)
        phase("time and order", t0)

        profile = run_profile(driver, shape, profiled, args.out) if args.profile else None
        pool.close()

        # 6. Telemetry's cost (issue 28): events/s with it off and on (last: it sets the global tracer provider).
        from bench import telemetry as telemetry_bench

        t0 = time.perf_counter()
        telemetry_figures = telemetry_bench.measure(az.connection_string, 12 if args.quick else 40)
        phase("telemetry", t0)
    finally:
        use_stack(None)
        az.stop()

    # -- figures ---------------------------------------------------------------------------------------
    levels.sort(key=lambda row: row["workers"])
    lifecycle = RunStats("lifecycle", 0)
    lifecycle.merge(warmup)
    for row in levels:
        lifecycle.merge(row["_ours"])
    head = next(row for row in levels if row["headline"])
    ratio = head["ours_per_s"] / head["floor_per_s"]
    ratio_state = head["ours_per_s"] / head["floor_state_per_s"]
    samples = memory.samples
    first, last = samples.get(1_000), samples.get(10_000) or end_memory
    growth = (last["peak_rss_mb"] - first["peak_rss_mb"]) / first["peak_rss_mb"] if first else None
    beyond = long_stats.get("event-beyond-window")
    dup_beyond = long_stats.get("duplicate-beyond-window")
    config = {
        "releases": args.releases,
        "sweep_releases": args.sweep_releases,
        "workloads": args.workloads,
        "assets": args.assets,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "quick": args.quick,
    }
    if not args.no_plot and not args.quick:  # --quick (CI) leaves the committed plot alone
        from bench.plot import plot

        plot({"config": config, "levels": levels}, args.png)
    elapsed = time.perf_counter() - started

    result = {
        "events_per_s": round(head["ours_per_s"], 1),
        "floor_events_per_s": round(head["floor_per_s"], 1),
        "ratio": round(ratio, 3),
        "storage_requests_per_event": round(lifecycle.mean("storage_per_message"), 3),
        "storage_requests_per_duplicate": round(dups.mean("storage_per_message"), 3),
        "p50_ms": round(head["ours"]["p50_ms"], 2),
        "p99_ms": round(head["ours"]["p99_ms"], 2),
        "cold_import_ms": round(cold["median_ms"], 1),
        "peak_rss_mb": end_memory["peak_rss_mb"],
        "workers": args.workers,
        "releases": args.releases,
        "workloads": args.workloads,
        "events": head["ours"]["messages"],
        "duplicates": dups.messages,
        "floor_state_only_events_per_s": round(head["floor_state_per_s"], 1),
        "ratio_state_only": round(ratio_state, 3),
        "routing_requests_per_event": round(lifecycle.mean("routing_per_message"), 3),
        "storage_scans": counter.scans(),
        "storage_requests_per_event_beyond_window": round(beyond.mean("storage_per_message"), 3) if beyond else None,
        "storage_requests_per_duplicate_beyond_window": round(dup_beyond.mean("storage_per_message"), 3)
        if dup_beyond
        else None,
        "peak_rss_mb_at_1000": first["peak_rss_mb"] if first else None,
        "peak_rss_mb_at_10000": samples[10_000]["peak_rss_mb"] if 10_000 in samples else None,
        "messages_handled": memory.handled,
        "sweep_events_per_s": {str(r["workers"]): round(r["ours_per_s"], 1) for r in levels},
        "elapsed_s": round(elapsed, 1),
    }
    missed = check_targets(result, lifecycle, dups, beyond, dup_beyond, growth, samples, memory.handled, problems)
    result["time_and_order"] = time_figures
    if time_figures["requests_per_event_with_windows_and_deadlines"] != 2:
        missed.append(
            f"time and order: {time_figures['requests_per_event_with_windows_and_deadlines']} storage "
            "requests per lifecycle event of a release with windows and deadlines (target 2)"
        )
    result["telemetry"] = telemetry_figures
    missed += telemetry_bench.missed(telemetry_figures)
    result["targets_met"] = not missed

    report = render(
        args,
        shape,
        levels,
        lifecycle,
        dups,
        long_stats,
        cold,
        samples,
        end_memory,
        growth,
        counter,
        phases,
        result,
        missed,
        profile,
    )
    report += "\n\n" + "\n".join(time_cost.lines(time_figures))
    report += "\n\n" + "\n".join(telemetry_bench.lines(telemetry_figures))
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.txt").write_text(report + "\n" + json.dumps(result) + "\n")
    for row in levels:
        row.pop("_ours")
    details = {
        "config": config,
        "levels": levels,
        "duplicates": dups.summary(),
        "cold_import": cold,
        "memory": {"samples": samples, "end": end_memory},
        "phases": phases,
        "long_release": {k: v.summary() for k, v in long_stats.items()},
        "requests_by_category": {f"{c}|{t}|{k}": n for (c, t, k), n in sorted(counter.detail.items())},
        "transaction_bytes": {c: round(counter.batch_bytes[c] / counter.batches[c]) for c in counter.batches},
        "result": result,
    }
    (args.out / "results.json").write_text(json.dumps(details, indent=2, default=str))
    for reason in missed:
        print(f"TARGET MISSED: {reason}")
    print(json.dumps(result))
    return 1 if missed else 0


def finish(stack, counter: BenchCounter, releases: list[str], others: list[str] = ()) -> list[str]:
    """Check every workload of `releases` got promoted, then delete their partitions (and `others`)."""
    from shared.application.config import RELEASES_TABLE

    counter.category("verify")
    problems = check_promoted(stack.store, releases)
    counter.category("cleanup")
    table = stack.table(RELEASES_TABLE)
    for name in list(releases) + list(others):
        keys = [
            {"PartitionKey": r["PartitionKey"], "RowKey": r["RowKey"]}
            for r in table.query_entities(f"PartitionKey eq '{name}'", select=["PartitionKey", "RowKey"])
        ]
        for i in range(0, len(keys), 100):  # a transaction holds at most 100 operations
            table.submit_transaction([("delete", k) for k in keys[i : i + 100]])
    return problems


def floor_count(args: argparse.Namespace, workers: int) -> int:
    """Release-shaped floor partitions at a level: at least --floor-releases, a whole number per worker (and,
    at the headline level, per worker and round), so no worker idles while another finishes."""
    unit = workers * (args.rounds if workers == args.workers else 1)
    return max(unit, -(-args.floor_releases // unit) * unit)


def check_targets(result, lifecycle, dups, beyond, dup_beyond, growth, samples, handled, problems) -> list[str]:
    missed = []
    if problems:
        missed.append(f"life cycles did not complete ({len(problems)} workloads), e.g. {problems[:3]}")
    if set(lifecycle.outcomes) != {"applied"}:
        missed.append(f"lifecycle events should all be applied: {dict(lifecycle.outcomes)}")
    if set(dups.outcomes) - {"duplicate"}:
        missed.append(f"redeliveries should all be duplicates: {dict(dups.outcomes)}")
    if result["ratio"] < TARGETS["ratio"]:
        missed.append(
            f"ratio {result['ratio']:.3f} < {TARGETS['ratio']} (promote {result['events_per_s']}/s, "
            f"floor {result['floor_events_per_s']}/s at {result['workers']} workers)"
        )
    n = TARGETS["requests_per_event"]
    for name, stats in (("lifecycle event", lifecycle), ("lifecycle event beyond the 512-id window", beyond)):
        if stats is None:
            continue
        if (
            set(stats.storage_per_message) != {n}
            or set(stats.reads_per_message) != {1}
            or set(stats.transactions_per_message) != {1}
        ):
            missed.append(
                f"{name}: storage requests per message {dict(stats.storage_per_message)} "
                f"(reads {dict(stats.reads_per_message)}, transactions {dict(stats.transactions_per_message)}); "
                f"target exactly {n} = 1 read + 1 transaction"
            )
    for name, stats in (("duplicate", dups), ("duplicate beyond the 512-id window", dup_beyond)):
        if stats is not None and max(stats.storage_per_message) > n + TARGETS["extra_per_duplicate"]:
            missed.append(
                f"{name}: storage requests per message {dict(stats.storage_per_message)}; "
                f"target at most {n + TARGETS['extra_per_duplicate']}"
            )
    if result["storage_scans"]:
        missed.append(f"{result['storage_scans']} table scans; target 0")
    if result["cold_import_ms"] >= TARGETS["cold_import_ms"]:
        missed.append(f"cold import {result['cold_import_ms']} ms >= {TARGETS['cold_import_ms']} ms")
    if growth is None:
        missed.append(f"memory: only {handled} messages handled, fewer than the 1,000 of the first sample")
    elif growth > TARGETS["memory_growth"]:
        upto = "10,000" if 10_000 in samples else f"{handled:,} (the end)"
        missed.append(f"peak RSS grew {growth:.1%} from 1,000 to {upto} messages; target within 10%")
    if result["elapsed_s"] >= TARGETS["elapsed_s"]:
        missed.append(f"the bench took {result['elapsed_s']} s; target under {TARGETS['elapsed_s']:.0f} s")
    return missed


def render(
    args,
    shape,
    levels,
    lifecycle,
    dups,
    long_stats,
    cold,
    samples,
    end_memory,
    growth,
    counter,
    phases,
    result,
    missed,
    profile,
) -> str:
    from shared.application.config import RELEASES_TABLE, ROUTING_TABLE

    L: list[str] = []
    add = L.append
    add("")
    add(
        f"promote bench: Python {platform.python_version()}, {os.cpu_count()} CPUs, Azurite in memory; "
        f"flight 10/50/100 bake 0s, {shape.workloads} workloads x {shape.assets} assets per release, routing local; "
        f"{len(shape.steps())} messages per workload life cycle ({shape.events_per_release} per release)"
    )
    add("")
    add("Throughput and latency of lifecycle events (floor: the same storage work done raw with the same client)")
    add(
        f"{'workers':>8} {'releases':>8} {'events':>7} {'events/s':>9} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} |"
        f" {'floor/s':>8} {'fl p50':>7} {'fl p99':>7} {'ratio':>6} | {'state-only floor/s':>18} {'ratio':>6}"
    )
    for row in levels:
        o, f = row["ours"], row["floor"]
        mark = "*" if row["headline"] else " "
        add(
            f"{row['workers']:>7}{mark} {row['releases']:>8} {o['messages']:>7} {row['ours_per_s']:>9.1f} "
            f"{o['p50_ms']:>7.2f} {o['p90_ms']:>7.2f} {o['p99_ms']:>7.2f} | {row['floor_per_s']:>8.1f} "
            f"{f['p50_ms']:>7.2f} {f['p99_ms']:>7.2f} {row['ours_per_s'] / row['floor_per_s']:>6.3f} | "
            f"{row['floor_state_per_s']:>18.1f} {row['ours_per_s'] / row['floor_state_per_s']:>6.3f}"
        )
    add(
        f"  * headline (--workers {args.workers}). floor = per event 1 read of the release row + 1 transaction of"
        " the same size; 'floor' adds the local routing provider's read + write for the same traffic changes"
    )
    add("")
    add("CPU per event (ms): this Python process (all threads) and the Azurite process; 2 CPUs are the budget")
    add(
        f"{'workers':>8} | {'promote py':>10} {'azurite':>8} | {'floor py':>9} {'azurite':>8} | "
        f"{'state-only py':>13} {'azurite':>8}"
    )
    for row in levels:
        o, f, fs = row["ours"], row["floor"], row["floor_state"]
        add(
            f"{row['workers']:>8} | {o['cpu_python_ms_per_message']:>10.2f} {o['cpu_storage_ms_per_message']:>8.2f} | "
            f"{f['cpu_python_ms_per_message']:>9.2f} {f['cpu_storage_ms_per_message']:>8.2f} | "
            f"{fs['cpu_python_ms_per_message']:>13.2f} {fs['cpu_storage_ms_per_message']:>8.2f}"
        )
    add("")
    add(
        f"Requests per message, counted on the wire (SDK pipeline hook): state table {RELEASES_TABLE}, "
        f"routing table {ROUTING_TABLE}"
    )
    add(f"{'':34} {'messages':>8} {'state':>6} {'reads':>6} {'txns':>5} {'routing':>8}  state requests per message")
    rows = [("lifecycle events", lifecycle), ("duplicates (redelivered ids)", dups)]
    rows += [
        (name, long_stats[key])
        for name, key in (
            ("beyond 512-id window: fill", "long-fill"),
            ("beyond 512-id window: events", "event-beyond-window"),
            ("beyond 512-id window: duplicates", "duplicate-beyond-window"),
        )
        if key in long_stats
    ]
    for name, stats in rows:
        add(
            f"{name:34} {stats.messages:>8} {stats.mean('storage_per_message'):>6.3f} "
            f"{stats.mean('reads_per_message'):>6.3f} {stats.mean('transactions_per_message'):>5.3f} "
            f"{stats.mean('routing_per_message'):>8.3f}  {dict(sorted(stats.storage_per_message.items()))}"
        )
    kinds = {
        k: dict(counter.by(k, RELEASES_TABLE))
        for k in ("event", "duplicate", "event-beyond-window", "duplicate-beyond-window", "floor-state")
    }
    add("  by kind: " + "; ".join(f"{k}: {v}" for k, v in kinds.items() if v))
    add(f"  routing (lifecycle): {dict(counter.by('event', ROUTING_TABLE))}; scans anywhere: {counter.scans()}")
    tb = {c: round(counter.batch_bytes[c] / counter.batches[c]) for c in ("event", "floor-state") if counter.batches[c]}
    add(f"  mean transaction body: promote {tb.get('event')} bytes, floor {tb.get('floor-state')} bytes")
    add("")
    add(
        f"Cold import of function_app: median {cold['median_ms']:.1f} ms of {cold['runs']} fresh interpreters "
        f"(min {cold['min_ms']:.1f}, max {cold['max_ms']:.1f}; whole process {cold['process_median_ms']:.0f} ms); "
        f"{cold['modules']} modules; heavy SDKs imported: {', '.join(cold['heavy_imported']) or 'none'}"
    )
    add("  largest: " + ", ".join(f"{n} {ms} ms" for n, ms in cold["top"]))
    add("")
    mem = "; ".join(
        f"after {n:,} messages: peak RSS {s['peak_rss_mb']} MB, RSS {s['rss_mb']} MB, "
        f"{s['python_blocks']:,} Python blocks"
        for n, s in sorted(samples.items())
    )
    add(
        f"Memory: {mem}; at the end ({end_memory['messages']:,}): peak RSS {end_memory['peak_rss_mb']} MB"
        + (f"; growth {growth:+.1%}" if growth is not None else "")
    )
    add("")
    add("Phases (s): " + ", ".join(f"{k} {v}" for k, v in phases.items()))
    if profile:
        add("")
        add(profile)
    add("")
    add("Targets (issue 5):")
    add(f"  ratio >= {TARGETS['ratio']}: {result['ratio']:.3f} (state-only floor: {result['ratio_state_only']:.3f})")
    add(
        f"  storage requests per lifecycle event == 2 (1 read + 1 txn): {result['storage_requests_per_event']}"
        + (
            f", beyond the window {result['storage_requests_per_event_beyond_window']}"
            if result["storage_requests_per_event_beyond_window"] is not None
            else ""
        )
    )
    add(
        f"  storage requests per duplicate <= 3: {result['storage_requests_per_duplicate']}"
        + (
            f", beyond the window {result['storage_requests_per_duplicate_beyond_window']}"
            if result["storage_requests_per_duplicate_beyond_window"] is not None
            else ""
        )
        + f"; scans == 0: {result['storage_scans']}"
    )
    add(f"  cold import < 250 ms: {result['cold_import_ms']} ms")
    upto = "10,000" if 10_000 in samples else f"{end_memory['messages']:,} (all this run handled)"
    add(f"  peak RSS within 10% from 1,000 to {upto} messages: " + (f"{growth:+.1%}" if growth is not None else "n/a"))
    add(f"  whole bench < 300 s: {result['elapsed_s']} s")
    add("  => all met" if not missed else f"  => {len(missed)} missed")
    return "\n".join(L)


def run_profile(driver: Driver, shape: Shape, releases: list[str], out: Path) -> str:
    """cProfile of sequential life cycles: where a message's time goes, grouped by origin."""
    import cProfile
    import io
    import pstats
    from collections import Counter

    stats = RunStats("profile", 1)
    profiler = cProfile.Profile()  # profiles the calling thread only: the life cycles run on this one
    t0 = time.perf_counter()
    profiler.enable()
    drive_releases(driver, shape, "profile")(releases, stats)
    profiler.disable()
    stats.wall_s = time.perf_counter() - t0
    groups: Counter[str] = Counter()
    for (filename, _, _), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        if filename.startswith(str(REPO / "shared")) or filename.startswith(str(REPO / "functions")):
            groups["promote (shared/, functions/)"] += tottime
        elif filename.startswith(str(REPO / "bench")):
            groups["the bench's own driver"] += tottime
        elif "site-packages" in filename and f"{os.sep}azure{os.sep}" in filename:
            groups["azure SDKs (core, data-tables, functions)"] += tottime
        elif "site-packages" in filename:
            groups["requests / urllib3 / pydantic / other packages"] += tottime
        elif filename.startswith("~") or filename.startswith("<built-in"):
            groups["built-ins (socket I/O, locks, json, ...)"] += tottime
        else:
            groups["standard library (http.client, email, ...)"] += tottime
    total = sum(groups.values())
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(r"shared|functions", 30)
    out.mkdir(parents=True, exist_ok=True)
    (out / "profile.txt").write_text(text.getvalue())
    profiler.dump_stats(str(out / "profile.pstats"))
    lines = [
        f"Profile of {stats.messages} sequential messages ({stats.per_s:.1f}/s under the profiler), "
        f"own time by origin (bench/out/profile.txt):"
    ]
    lines += [f"  {name:48} {t:7.2f} s {t / total:6.1%}" for name, t in groups.most_common()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
