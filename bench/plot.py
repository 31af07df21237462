"""docs/performance.png: throughput against concurrency (promote and the floors) and latency percentiles."""

from __future__ import annotations

from pathlib import Path


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = results["levels"]
    workers = [row["workers"] for row in levels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3), constrained_layout=True)

    series = [
        ("promote (registered events function)", "ours_per_s", "o-", "#1f77b4"),
        ("floor: state read + txn + local routing I/O", "floor_per_s", "s--", "#2ca02c"),
        ("floor: state read + txn only", "floor_state_per_s", "^:", "#7f7f7f"),
    ]
    for label, key, style, color in series:
        values = [row[key] for row in levels]
        left.plot(workers, values, style, color=color, label=label)
        if key == "ours_per_s":
            for x, y in zip(workers, values, strict=True):
                left.annotate(
                    f"{y:.0f}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, -13),
                    ha="center",
                    fontsize=8,
                    color=color,
                )
    left.set_xscale("log", base=2)
    left.set_xticks(workers, [str(w) for w in workers])
    left.set_xlabel("concurrent workers (one release each at a time, like Service Bus sessions)")
    left.set_ylabel("events per second")
    left.set_ylim(bottom=0)
    left.grid(alpha=0.3)
    left.legend(fontsize=8, loc="lower right")
    left.set_title("Throughput vs concurrency", fontsize=10)

    for pct, style in (("p50_ms", "o-"), ("p90_ms", "s-"), ("p99_ms", "^-")):
        right.plot(
            workers,
            [row["ours"][pct] for row in levels],
            style,
            color="#1f77b4",
            alpha={"p50_ms": 1.0, "p90_ms": 0.7, "p99_ms": 0.45}[pct],
            label=f"promote {pct[:3]}",
        )
    for pct, style in (("p50_ms", "o--"), ("p99_ms", "^--")):
        right.plot(
            workers,
            [row["floor"][pct] for row in levels],
            style,
            color="#2ca02c",
            alpha={"p50_ms": 1.0, "p99_ms": 0.45}[pct],
            label=f"floor {pct[:3]}",
        )
    right.set_xscale("log", base=2)
    right.set_xticks(workers, [str(w) for w in workers])
    right.set_xlabel("concurrent workers")
    right.set_ylabel("latency per message (ms)")
    right.set_ylim(bottom=0)
    right.grid(alpha=0.3)
    right.legend(fontsize=8, ncol=2, loc="upper left")
    right.set_title("Latency percentiles", fontsize=10)

    cfg = results["config"]
    fig.suptitle(
        f"promote bench: {cfg['releases']} releases at {cfg['workers']} workers, "
        f"{cfg['sweep_releases']} at each other level; {cfg['workloads']} workloads x {cfg['assets']} assets "
        f"per release\n(flight 10/50/100, bake 0s, local routing); Azurite in memory, {cfg['cpus']} CPUs",
        fontsize=9.5,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_scale(rows: list[dict], path: Path) -> None:
    """docs/performance-scale.png (bench/scale.py): what a message costs as a release grows from 49 to 5,000
    workloads: requests per lifecycle event, a release-level move's transactions and time, reads and memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["n"] for r in rows]
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.3), constrained_layout=True)

    for key, style, alpha in (("median", "o-", 1.0), ("p99", "s--", 0.7), ("max", "^:", 0.5)):
        left.plot(sizes, [r["requests_per_event"][key] for r in rows], style, color="#1f77b4", alpha=alpha, label=key)
    left.axhline(2, color="#2ca02c", lw=1, ls="--", label="target: 2 (1 read + 1 transaction)")
    left.set_xscale("log")
    left.set_xticks(sizes, [f"{n:,}" for n in sizes])
    left.set_ylim(0, max(4, max(r["requests_per_event"]["max"] for r in rows) + 1))
    left.set_xlabel("workloads in the release")
    left.set_ylabel("storage requests per lifecycle event")
    left.grid(alpha=0.3)
    left.legend(fontsize=8, loc="upper left")
    left.set_title("A workload's event (every event of the run)", fontsize=10)

    moves = [next(m for m in r["moves"] if m["label"].startswith("tests-passed")) for r in rows]
    for key, style, color, label in (
        ("visible_s", "o-", "#1f77b4", "decision visible (commit point)"),
        ("total_s", "s-", "#d62728", "every shard caught up"),
        ("routing_s", "^:", "#7f7f7f", "of which routing (local provider)"),
    ):
        middle.plot(sizes, [max(m[key], 1e-3) for m in moves], style, color=color, label=label)
    for n, m in zip(sizes, moves, strict=True):
        middle.annotate(
            f"{m['transactions']} txns",
            (n, m["total_s"]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
            color="#d62728",
        )
    middle.axhline(1, color="#1f77b4", lw=0.8, ls="--", alpha=0.6)
    middle.axhline(10, color="#d62728", lw=0.8, ls="--", alpha=0.6)
    middle.set_xscale("log")
    middle.set_yscale("log")
    middle.set_xticks(sizes, [f"{n:,}" for n in sizes])
    middle.set_xlabel("workloads in the release")
    middle.set_ylabel("seconds after the message")
    middle.grid(alpha=0.3)
    middle.legend(fontsize=8, loc="upper left")
    middle.set_title("The staged release's promotion (targets at 5,000: 1 s, 10 s)", fontsize=10)

    right.plot(sizes, [r["status"]["requests"] for r in rows], "o-", color="#1f77b4", label="status (requests)")
    right.plot(sizes, [r["summaries"]["requests"] for r in rows], "s-", color="#2ca02c", label="summaries (requests)")
    right.plot(
        sizes, [r["board_release_page"]["requests"] for r in rows], "^-", color="#d62728", label="board page (requests)"
    )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xticks(sizes, [f"{n:,}" for n in sizes])
    right.set_xlabel("workloads in the release")
    right.set_ylabel("storage requests")
    right.grid(alpha=0.3)
    twin = right.twinx()
    twin.plot(sizes, [r["memory"]["peak_rss_mb"] for r in rows], "D--", color="#9467bd", label="peak RSS (MB)")
    twin.set_ylabel("peak RSS of the host (MB)")
    twin.set_ylim(bottom=0)
    lines = right.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    right.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    right.set_title("Reads people make, and memory", fontsize=10)

    fig.suptitle(
        "promote bench, scale section: a staged and a flight release of N workloads (shards of 97), one host, "
        "Azurite in memory",
        fontsize=9.5,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":  # re-draw from a run's results: python -m bench.plot bench/out/results.json [out.png]
    import json
    import sys

    if Path(sys.argv[1]).name == "scale.json":  # python -m bench.plot bench/out/scale.json [out.png]
        plot_scale(
            json.loads(Path(sys.argv[1]).read_text())["rows"],
            Path(sys.argv[2])
            if len(sys.argv) > 2
            else Path(__file__).resolve().parents[1] / "docs" / "performance-scale.png",
        )
        sys.exit(0)
    plot(
        json.loads(Path(sys.argv[1]).read_text()),
        Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[1] / "docs" / "performance.png",
    )
