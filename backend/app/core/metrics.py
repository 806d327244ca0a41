"""Prometheus metrics. With several workers (gunicorn), set PROMETHEUS_MULTIPROC_DIR to a shared
empty folder so that every worker's counts are summed on each scrape.

Counters and histograms here are per process (summed across workers by the multiprocess
collector); gauges of a process's own state use `livesum`, so a dead worker's share drops out.
What the database knows (accounts by state, quota per account) is read at scrape time instead
(app/api/metrics.py): every worker answers a scrape with the same complete picture.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "oauth_proxy_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "oauth_proxy_http_request_duration_seconds",
    "Time to the start of the answer",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUTHORIZATION_SESSIONS = Counter(
    "oauth_proxy_authorization_sessions_total",
    "Authorization sessions finished, by method and outcome",
    ["method", "outcome"],
)
CREDENTIAL_RENEWALS = Counter(
    "oauth_proxy_credential_renewals_total", "Credential renewals by outcome", ["outcome"]
)

# --- the call path (observed by app/services/calls) ---
CALLS = Counter(
    "oauth_proxy_calls_total",
    "Model calls answered to the caller, by outcome: ok or the error class that ended the call "
    "(auth_expired, quota_exhausted, rate_limited, overloaded, network, bad_request, no_account)",
    ["platform", "model", "outcome"],
)
CALL_LATENCY = Histogram(
    "oauth_proxy_call_duration_seconds",
    "Time a model call took, failovers included",
    ["platform", "stream"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
UPSTREAM_ERRORS = Counter(
    "oauth_proxy_upstream_errors_total",
    "Failed attempts on a platform, by error class",
    ["platform", "kind"],
)
COST = Counter(
    "oauth_proxy_cost_total",
    "List-price cost of answered calls' tokens (priced models only), in the platform's currency",
    ["platform", "currency"],
)
FAILOVERS = Counter(
    "oauth_proxy_failovers_total", "Attempts moved on to another account", ["platform"]
)

# --- this process's browser pool ---
BROWSER_LOGINS = Gauge(
    "oauth_proxy_browser_logins",
    "Browser logins holding a pool slot (running) or queued for one (waiting)",
    ["state"],
    multiprocess_mode="livesum",
)

ALERT_NOTIFICATIONS = Counter(
    "oauth_proxy_alert_notifications_total",
    "Alert webhook deliveries by outcome (delivered, failed)",
    ["outcome"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render(extra: CollectorRegistry | None = None) -> bytes:
    """This process's metrics (or every worker's, in multiprocess mode), plus `extra`."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(PROCESS_REGISTRY)
    return body + (generate_latest(extra) if extra is not None else b"")


def route_label(scope: Scope) -> str:
    """The path with its parameters put back as `{name}`, so ids don't explode the label set;
    "unmatched" for paths no route answers."""
    if "route" not in scope and "endpoint" not in scope:
        return "unmatched"
    by_value = {str(v): k for k, v in scope.get("path_params", {}).items()}
    if not by_value:
        return str(scope["path"])
    return "/".join(
        f"{{{by_value[part]}}}" if part in by_value else part for part in scope["path"].split("/")
    )


class HttpMetricsMiddleware:
    """Counts requests by route template (not raw path: ids would explode the label set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                HTTP_LATENCY.labels(scope["method"], route_label(scope)).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            HTTP_REQUESTS.labels(scope["method"], route_label(scope), str(status)).inc()
