"""What the Monitor sources share: the SDK's retry policy without 429 (a throttle is left to the judge's budget,
which waits it out in a later round instead of sleeping in this one), and reading a refusal."""

from __future__ import annotations

import email.utils
import re
import time
from typing import Any

THROTTLED = (429, 529)  # 529: the metrics backend's own throttling ("How to migrate ... to the getBatch API")


def retry_policy(options: dict) -> Any:
    """azure-core's RetryPolicy with the options given, retrying 408 and 5xx as usual but never 429/529."""
    from azure.core.pipeline.policies import RetryPolicy

    class NoThrottleRetry(RetryPolicy):
        def is_retry(self, settings: Any, response: Any) -> bool:
            if response.http_response.status_code in THROTTLED:
                return False  # with or without Retry-After: the budget waits it out, not this round
            return super().is_retry(settings, response)

    keys = ("retry_total", "retry_backoff_factor", "retry_backoff_max", "retry_connect", "retry_read")
    return NoThrottleRetry(**{k: v for k, v in options.items() if k in keys})


def throttled(exc: Exception) -> bool:
    return getattr(exc, "status_code", None) in THROTTLED


def retry_after(exc: Exception) -> float | None:
    """A refusal's Retry-After in seconds (delta-seconds or an HTTP date; else the milliseconds headers azure-core
    also reads); None when it has none, or none that is a figure (`inf` or `nan` would stop every later call)."""
    response = getattr(exc, "response", None)
    headers = {str(k).lower(): str(v).strip() for k, v in (getattr(response, "headers", None) or {}).items()}
    value = headers.get("retry-after")
    if value:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, IndexError):
            return None
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if re.fullmatch(r"\d+(\.\d+)?", headers.get(name, "")):
            return float(headers[name]) / 1000
    return None


def error(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    head = f"HTTP {status}" if status else type(exc).__name__
    return f"{head}: {text[0] if text else ''}"[:300]
