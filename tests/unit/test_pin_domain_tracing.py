"""W3C trace context parsing (shared/domain/tracing.py): the tracestate length limit on both sides, and the
sampled flag read from the flags byte as hexadecimal."""

from __future__ import annotations

from shared.domain.tracing import MAX_TRACESTATE, TraceContext, parse

TRACE, SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def _parent(flags: str) -> str:
    return f"00-{TRACE}-{SPAN}-{flags}"


def test_a_tracestate_of_the_limit_is_kept_and_one_longer_is_dropped():
    assert MAX_TRACESTATE == 512
    at_limit = "k=" + "v" * 510
    assert parse(_parent("01"), at_limit) == TraceContext(int(TRACE, 16), int(SPAN, 16), True, at_limit)
    assert parse(_parent("01"), at_limit + "v") == TraceContext(int(TRACE, 16), int(SPAN, 16), True, None)


def test_the_sampled_flag_is_the_lowest_bit_of_the_hexadecimal_flags():
    sampled = {flags: parse(_parent(flags)).sampled for flags in ("00", "01", "10", "11", "0b", "fe", "ff")}
    assert sampled == {"00": False, "01": True, "10": False, "11": True, "0b": True, "fe": False, "ff": True}
