"""W3C trace context on promote's messages (the CloudEvents distributed-tracing extension), pure.

One trace per release: a release's trace id and the id of its root span are derived from its name alone, so
every host that handles one of its messages, in any process, puts its span in the same trace without storing
or reading anything. No span is exported under the root id: it stands for the release, and the spans of
messages that arrive without a trace context of that release hang under it.

`SENDING` holds the context of the span whose work sends messages now (set by the service's telemetry while it
handles a message): a message built then carries it as `traceparent`, so the handling of what promote schedules
or sends becomes a child of the span that scheduled or sent it. Outside any span (the judge's rounds, the
command line, telemetry off) a message carries its release's root context.
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from dataclasses import dataclass

# version 00 exactly; a later version may append fields after the flags (W3C trace context, section 3.2.4)
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
MAX_TRACESTATE = 512  # the W3C limit a vendor must propagate at least; longer lists are dropped, not cut
_TRACESTATE = re.compile(r"^[\x20-\x7e]*$")


@dataclass(frozen=True)
class TraceContext:
    trace_id: int
    span_id: int
    sampled: bool = True
    state: str | None = None  # tracestate, passed on as received

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{'01' if self.sampled else '00'}"

    def attributes(self) -> dict[str, str]:
        """The CloudEvents extension attributes that carry this context."""
        return {"traceparent": self.traceparent, **({"tracestate": self.state} if self.state else {})}


def release_context(release: str) -> TraceContext:
    """The root of a release's trace: ids from the name (sha256), the same on every host, never zero."""
    digest = hashlib.sha256(f"promote/release/{release}".encode()).digest()
    return TraceContext(int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1)


def parse(traceparent: object, tracestate: object = None) -> TraceContext | None:
    """A message's trace context, or None when it has none or an invalid one (never an error: a bad
    traceparent must not cost a message its handling)."""
    if not isinstance(traceparent, str):
        return None
    found = _TRACEPARENT.match(traceparent.strip().lower())
    if not found:
        return None
    version, trace, span, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest) or set(trace) == {"0"} or set(span) == {"0"}:
        return None
    state = tracestate if isinstance(tracestate, str) and len(tracestate) <= MAX_TRACESTATE else None
    state = state.strip() if state and _TRACESTATE.match(state) else None
    return TraceContext(int(trace, 16), int(span, 16), bool(int(flags, 16) & 1), state or None)


SENDING: ContextVar[TraceContext | None] = ContextVar("promote_sending_trace", default=None)


def for_message(release: object) -> dict[str, str]:
    """The trace attributes of a message being built now for `release`."""
    context = SENDING.get()
    if context is None and isinstance(release, str) and release:
        context = release_context(release)
    return context.attributes() if context is not None else {}
