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


if __name__ == "__main__":  # re-draw from a run's results: python -m bench.plot bench/out/results.json [out.png]
    import json
    import sys

    plot(
        json.loads(Path(sys.argv[1]).read_text()),
        Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[1] / "docs" / "performance.png",
    )
