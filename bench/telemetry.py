"""Telemetry's cost (issue 28), part of `make bench` (bench/run.py's last section): events/s through the
registered `events` function on Azurite, with telemetry off and on, for fresh releases timed in turn.

    .venv/bin/python bench/telemetry.py [--releases 40]

"On" is what PROMOTE_OTEL sets up, with an exporter that encodes every span batch as OTLP would (protobuf) and
drops it: a span per message and metrics from its entries; measured also with the Azure SDKs' own spans (about
seven a message). Target: promote's telemetry within 5% of the events/s without. Prints a table, then JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGET_OVERHEAD = 0.05
WORKLOADS = 3
STEPS = (("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}), ("flight-healthy", {"flight": 1}),
         ("flight-healthy", {"flight": 2}))  # fmt: skip


def plan(name: str) -> dict:
    return {
        "release": name,
        "model": "flight",
        "flights": [{"percent": 50, "bake": "0s"}, {"percent": 100, "bake": "0s"}],
        "workloads": [{"name": f"w{i}", "assets": ["vm-1"]} for i in range(WORKLOADS)],
    }


def providers():
    """What PROMOTE_OTEL=otlp builds (shared/application/telemetry_setup.py), exporting to an encoder."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from shared.application.telemetry_setup import guarded_spans, local_sampler

    class Encoding(SpanExporter):
        spans = 0

        def export(self, spans):
            encode_spans(spans).SerializeToString()
            Encoding.spans += len(spans)
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider(sampler=local_sampler())
    tracer_provider.add_span_processor(BatchSpanProcessor(guarded_spans(Encoding())))
    return tracer_provider, MeterProvider(metric_readers=[InMemoryMetricReader()]), Encoding


def measure(connection_string: str, releases: int = 40) -> dict:
    """`releases` releases each way (off; promote's telemetry; and the Azure SDKs' spans too), in turn (a random
    order within each turn), each timed alone; the spans a release made are exported (flushed) inside its own
    time. Per-release medians keep the figure steady on a machine that other work shares."""
    import random
    import statistics

    import opentelemetry.trace as trace
    from azure.core.settings import settings

    from shared.application import telemetry
    from shared.application.bootstrap import Stack, use_stack
    from shared.application.config import load_settings
    from shared.domain.plan import validate_plan
    from shared.local.localhost import registered_function, service_bus_message
    from tests.fakes import event

    tracer_provider, meter_provider, exported = providers()
    trace.set_tracer_provider(tracer_provider)  # the Azure SDKs' spans: through the global provider
    stack = Stack(load_settings({"PROMOTE_STORAGE_CONNECTION_STRING": connection_string}))
    use_stack(stack)
    function = registered_function("events")
    tag, shuffle = uuid.uuid4().hex[:6], random.Random(28)
    modes = ("off", "on", "sdk")  # on: promote's spans and metrics; sdk: and the Azure SDKs' spans
    wall: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}

    def drive(name: str) -> None:
        for w in range(WORKLOADS):
            for i, (kind, data) in enumerate(STEPS):
                body = event(kind, name, f"w{w}", f"{name}-{w}-{i}", **data).encode()
                function(service_bus_message(body, message_id=f"{w}-{i}", delivery_count=1, enqueued=None))

    def one(mode: str, name: str) -> None:
        stack.service.apply(validate_plan(plan(name)))
        if mode != "off":
            telemetry.install(tracer_provider, meter_provider)
            settings.tracing_enabled = mode == "sdk"  # azure-core's own OpenTelemetry spans
        t0, c0 = time.perf_counter(), time.process_time()
        drive(name)
        if mode != "off":
            tracer_provider.force_flush()  # its spans' export counts in its own time
        wall[mode].append(time.perf_counter() - t0)
        cpu[mode].append(time.process_time() - c0)
        telemetry.off()
        settings.tracing_enabled = False

    try:
        for i in range(3):  # warm-up: connections, caches, the first spans
            one("sdk", f"tel-{tag}-warm-{i}")
        wall, cpu = {m: [] for m in modes}, {m: [] for m in modes}
        for i in range(releases):
            for mode in shuffle.sample(modes, len(modes)):
                one(mode, f"tel-{tag}-{mode}-{i:03d}")
    finally:
        telemetry.reset()
        settings.tracing_enabled = False
        use_stack(None)
    per_release = WORKLOADS * len(STEPS)
    rate = {m: per_release / statistics.median(wall[m]) for m in modes}
    cpu_ms = {m: round(statistics.median(cpu[m]) / per_release * 1000, 2) for m in modes}
    return {
        "events_per_s_off": round(rate["off"], 1),
        "events_per_s_on": round(rate["on"], 1),
        "events_per_s_with_sdk_spans": round(rate["sdk"], 1),
        "overhead": round(1 - rate["on"] / rate["off"], 3),
        "overhead_with_sdk_spans": round(1 - rate["sdk"] / rate["off"], 3),
        "cpu_ms_per_event": cpu_ms,
        "events_each": releases * per_release,
        "spans_exported": exported.spans,
        "target_overhead": TARGET_OVERHEAD,
    }


def lines(figures: dict) -> list[str]:
    cpu = figures["cpu_ms_per_event"]
    return [
        "Telemetry (issue 28): events/s through the `events` function (medians of releases timed one by one, the",
        "modes in turn; an exporter encodes every span as OTLP would, inside the release's time)",
        f"  off                              {figures['events_per_s_off']:>7.1f}/s  CPU {cpu['off']:>6.2f} ms/event",
        f"  on: promote's spans and metrics  {figures['events_per_s_on']:>7.1f}/s  CPU {cpu['on']:>6.2f} ms/event  "
        f"overhead {figures['overhead']:.1%} (target within {figures['target_overhead']:.0%})",
        f"  on, and the Azure SDKs' spans    {figures['events_per_s_with_sdk_spans']:>7.1f}/s  CPU {cpu['sdk']:>6.2f} "
        f"ms/event  overhead {figures['overhead_with_sdk_spans']:.1%}",
        f"  {figures['events_each']} events each way, {figures['spans_exported']} spans exported",
    ]


def missed(figures: dict) -> list[str]:
    if figures["overhead"] > TARGET_OVERHEAD:
        return [f"telemetry costs {figures['overhead']:.1%} of events/s (target within {TARGET_OVERHEAD:.0%})"]
    return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/telemetry.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--releases", type=int, default=40, help="releases each way (40)")
    args = p.parse_args(argv)
    from shared.local import azurite

    az = azurite.start()
    try:
        figures = measure(az.connection_string, args.releases)
    finally:
        az.stop()
    print("\n".join(lines(figures)))
    for reason in missed(figures):
        print(f"TARGET MISSED: {reason}")
    print(json.dumps(figures))
    return 1 if missed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
