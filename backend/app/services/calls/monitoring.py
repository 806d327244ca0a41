"""The call path's Prometheus counts: calls by outcome, their duration, upstream errors by class,
and failovers. Model labels are limited to the platform's listed models (anything else is
"other"), so callers naming arbitrary models cannot grow the label set without bound."""

from __future__ import annotations

import time

from app.core.metrics import CALL_LATENCY, CALLS, FAILOVERS, UPSTREAM_ERRORS
from app.models import PlatformConfig


def call_ended(
    platform: PlatformConfig, model: str, outcome: str, started: float, stream: bool
) -> None:
    listed = platform.litellm_config.get("available_models") or []
    label = model if model in listed else "other"
    CALLS.labels(platform.platform_id, label, outcome).inc()
    CALL_LATENCY.labels(platform.platform_id, str(stream).lower()).observe(
        time.monotonic() - started
    )


def attempt_failed(platform: PlatformConfig, kind: str) -> None:
    UPSTREAM_ERRORS.labels(platform.platform_id, kind).inc()


def failed_over(platform: PlatformConfig) -> None:
    FAILOVERS.labels(platform.platform_id).inc()
