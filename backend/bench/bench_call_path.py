"""The call path side by side with LiteLLM proxy (`make bench`, issues #8 and #19).

One after another on 127.0.0.1, each alone with the upstream: nginx answering fixed OpenAI
replies (the upstream, called directly), LiteLLM proxy 1.110.2 in front of it, and the service in
front of it through its whole call path (API key, account selection, quota, usage) — on the
embedded SQLite database (uvicorn), then on PostgreSQL + Redis with gunicorn's uvicorn workers,
one and two. wrk drives each for a fixed time: non-streaming at 32 connections, at one
connection (p50 latency), streaming 20 and 200 chunks at 8 connections (CPU per stream from
/proc: the marginal cost of a chunk is the difference over the 180 chunks between them), and on
the service non-streaming on platforms with a `rate_limit` of 30,000 and 1,000,000 a minute.
RSS and the time from spawn to the first answer are read too; LiteLLM proxy and the SQLite
service then answer Anthropic's /v1/messages and OpenAI's /v1/responses, whole and streamed
(surfaces.py), and the SQLite service holds 1,000 slow streams open (slow_section.py).
`--requests 100000` adds a soak of the service with its RSS half-way and at the end. The load
generator shares the machine's CPUs with the target: compare rows, not machines.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import nginx_upstream
import redis
import service_target
import slow_section
import surfaces
import wrk_load
from litellm_reference import (
    MASTER_KEY,
    PLAIN_MODEL,
    RESPONSES_PLAIN_MODEL,
    RESPONSES_STREAM_MODEL,
    STREAM_MODEL,
)
from litellm_reference import command as litellm_command
from litellm_reference import endpoints as litellm_endpoints
from litellm_reference import environment as litellm_environment
from processes import (
    cpu_seconds,
    free_port,
    rss_mb,
    seconds_to_first_answer,
    spawned,
    wait_until_up,
)
from report import Figures, RateLimited, Skipped, render
from wrk_load import Calls, Endpoint, LoadResult

TARGETS = ("litellm", "sqlite", "postgres", "postgres-2w")
MESSAGES = [{"role": "user", "content": "Tell me something short for the benchmark."}]
UPSTREAM_KEY = "sk-bench-upstream-0000"
SOAK_SLICE_S = 30  # the soak runs in slices so that RSS can be read between them


@dataclass(frozen=True)
class Plan:
    seconds: int
    warmup_seconds: int
    soak_requests: int
    work: Path
    service_env: dict[str, str]
    """Settings to try on the service (`--service-env NAME=VALUE`)."""


def measure(
    name: str,
    pid: int,
    calls: Calls,
    startup_s: float,
    plan: Plan,
    *,
    workers: int = 1,
    soak: bool = False,
) -> Figures:
    every = [calls.plain, calls.stream, calls.stream200, *calls.rate_limited.values()]
    for endpoint in every:  # connection pools, lazy imports, first-call caches
        wrk_load.run(endpoint, connections=8, seconds=plan.warmup_seconds)
    throughput = wrk_load.run(calls.plain, connections=32, seconds=plan.seconds)
    latency = wrk_load.run(calls.plain, connections=1, seconds=plan.seconds)
    streamed, cpu_per_stream = _streams(pid, calls.stream, plan)
    streamed200, cpu_per_stream200 = _streams(pid, calls.stream200, plan)
    figures = Figures(
        name=name,
        startup_s=startup_s,
        plain=throughput,
        latency=latency,
        stream=streamed,
        cpu_us_per_stream=cpu_per_stream,
        stream200=streamed200,
        cpu_us_per_stream200=cpu_per_stream200,
        rss_mib=rss_mb(pid),
        workers=workers,
        rate_limited=_rate_limited(pid, calls, plan),
    )
    if soak and plan.soak_requests:
        run_soak(figures, pid, calls.plain, plan.soak_requests)
    _progress(figures)
    return figures


RATE_LIMIT_ROUNDS = 3


def _rate_limited(pid: int, calls: Calls, plan: Plan) -> dict[int, RateLimited]:
    """Non-streaming at 32 connections without a limit (0) and on each rate-limited platform,
    in turns (RATE_LIMIT_ROUNDS rounds sharing `plan.seconds` each, each round in another
    order), so that the machine's other work weighs on all alike; and the CPU per call of each."""
    if not calls.rate_limited:
        return {}
    endpoints = {0: calls.plain, **calls.rate_limited}
    runs: dict[int, list[LoadResult]] = {limit: [] for limit in endpoints}
    cpu = dict.fromkeys(endpoints, 0.0)
    seconds = max(1, round(plan.seconds / RATE_LIMIT_ROUNDS))
    limits = list(endpoints)
    for turn in range(RATE_LIMIT_ROUNDS):
        # Each round starts one further along, so no row always runs first or last in a round
        # (with a fixed order the later rows met more of a load rising during the run).
        for limit in limits[turn % len(limits) :] + limits[: turn % len(limits)]:
            endpoint = endpoints[limit]
            before = cpu_seconds(pid)
            runs[limit].append(wrk_load.run(endpoint, connections=32, seconds=seconds))
            cpu[limit] += cpu_seconds(pid) - before
    found = {}
    for limit, results in runs.items():
        result = wrk_load.combined(results)
        per_call = cpu[limit] * 1e6 / result.requests if result.requests else math.nan
        found[limit] = RateLimited(result, per_call)
    return found


def _streams(pid: int, endpoint: Endpoint, plan: Plan) -> tuple[LoadResult, float]:
    """Streaming at 8 connections, and the target's CPU (µs) per whole stream."""
    cpu_before = cpu_seconds(pid)
    streamed = wrk_load.run(endpoint, connections=8, seconds=plan.seconds)
    cpu_s = cpu_seconds(pid) - cpu_before
    return streamed, cpu_s * 1e6 / streamed.ok_requests if streamed.ok_requests else math.nan


def run_soak(figures: Figures, pid: int, plain: Endpoint, total: int) -> None:
    """Non-streaming at 32 connections until `total` requests; RSS half-way and at the end."""
    served, rate = 0, max(figures.plain.rate, 1.0)
    for goal in (total // 2, total):
        while served < goal:
            seconds = min(SOAK_SLICE_S, max(1, math.ceil((goal - served) / rate)))
            result = wrk_load.run(plain, connections=32, seconds=seconds)
            if not result.requests:
                raise RuntimeError(f"{figures.name} answered nothing during the soak")
            served += result.requests
            figures.soak_errors.update(result.errors)
            rate = max(result.rate, 1.0)
        figures.soak_rss_mib[served] = rss_mb(pid)
        rss = figures.soak_rss_mib[served]
        print(f"  soak: {served:,} requests, RSS {rss:.0f} MiB", file=sys.stderr)


def _progress(figures: Figures) -> None:
    print(
        f"{figures.name}: first answer after {figures.startup_s:.2f} s; "
        f"{figures.plain.rate:,.1f} req/s at c=32, p50 {figures.latency.p50_ms:.2f} ms at c=1, "
        f"{figures.stream.rate:,.1f} streams/s at c=8, {figures.cpu_us_per_stream:,.0f} µs CPU a "
        f"stream, {figures.cpu_us_per_stream200:,.0f} µs a 200-chunk one "
        f"({figures.marginal_us_per_chunk:.1f} µs a chunk more), RSS {figures.rss_mib:.0f} MiB",
        file=sys.stderr,
    )


def bench_upstream(
    process: subprocess.Popen[bytes], upstream: str, spawned_at: float, plan: Plan
) -> Figures:
    body = {"model": nginx_upstream.MODEL, "messages": MESSAGES}

    def call(prefix: str, *, stream: bool = False) -> Endpoint:
        url = f"{upstream}{prefix}/chat/completions"
        return Endpoint(url, body | ({"stream": True} if stream else {}), "sk-b")

    calls = Calls(
        call(nginx_upstream.PLAIN_PREFIX),
        call(nginx_upstream.STREAM_PREFIX, stream=True),
        call(nginx_upstream.STREAM200_PREFIX, stream=True),
    )
    startup = seconds_to_first_answer(process, calls.plain, spawned_at)
    return measure("upstream direct (nginx)", process.pid, calls, startup, plan)


def bench_litellm(upstream: str, plan: Plan) -> Figures:
    port = free_port()
    argv = litellm_command(upstream, port, plan.work)
    endpoints = litellm_endpoints(f"http://127.0.0.1:{port}", MESSAGES)
    spawned_at = time.monotonic()
    log = plan.work / "litellm-proxy.log"
    with spawned(argv, log=log, env=litellm_environment(plan.work)) as process:
        startup = seconds_to_first_answer(process, endpoints.plain, spawned_at)
        figures = measure("LiteLLM proxy 1.110.2", process.pid, endpoints, startup, plan)
        base = f"http://127.0.0.1:{port}"
        apis = [
            surfaces.messages_calls(base, MASTER_KEY, PLAIN_MODEL, STREAM_MODEL),
            surfaces.responses_calls(
                base, MASTER_KEY, RESPONSES_PLAIN_MODEL, RESPONSES_STREAM_MODEL
            ),
        ]
        figures.surfaces = surfaces.measure(apis, plan.seconds, plan.warmup_seconds)
        return figures


def bench_service(
    name: str, database: service_target.Database, upstream: str, plan: Plan, workers: int = 0
) -> Figures:
    """Set up through the API on a first run, then measure a restart and the calls. `workers`:
    gunicorn with that many, else one uvicorn worker."""
    folder = plan.work / re.sub(r"\W+", "-", name.lower()).strip("-")
    folder.mkdir()
    env = {**service_target.environment(folder, database), **plan.service_env}
    service_target.initialise(folder, env, upstream)
    log, cwd = folder / "service.log", service_target.BACKEND
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with spawned(service_target.command(port), log=log, env=env, cwd=cwd):
        wait_until_up(f"{base}/readyz")
        api_key = service_target.enrol(base, UPSTREAM_KEY)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    calls = service_target.endpoints(base, api_key, MESSAGES)
    if workers:
        env |= service_target.gunicorn_environment(port, workers, folder)
    if workers > 1:  # the rate limits' rows once per database
        calls = Calls(calls.plain, calls.stream, calls.stream200)
    spawned_at = time.monotonic()
    with spawned(service_target.command(port, workers), log=log, env=env, cwd=cwd) as process:
        startup = seconds_to_first_answer(process, calls.plain, spawned_at)
        figures = measure(
            name, process.pid, calls, startup, plan, workers=max(1, workers), soak=workers < 2
        )
        if not database.url:
            figures.surfaces = surfaces.measure(
                service_target.surface_calls(base, api_key), plan.seconds, plan.warmup_seconds
            )
            figures.slow = _slow_streams(process.pid, base, api_key, folder)
        return figures


def _slow_streams(pid: int, base: str, api_key: str, folder: Path) -> slow_section.SlowFigures:
    platforms = service_target.STREAM_PLATFORMS
    models = tuple(
        f"{platforms[prefix]}/{nginx_upstream.MODEL}"
        for prefix in (nginx_upstream.LONG_PREFIX, nginx_upstream.STREAM_PREFIX)
    )
    long_platform = platforms[nginx_upstream.LONG_PREFIX]
    books = slow_section.sqlite_books(folder / "oauth_proxy.db", long_platform)
    url = f"{base}/v1/chat/completions"
    return slow_section.measure(pid, url, api_key, (models[0], models[1]), books)


def bench_postgres(
    upstream: str, plan: Plan, admin_url: str, redis_url: str, workers: int
) -> Figures | Skipped:
    """The service on a scratch PostgreSQL database (dropped after) and Redis, on gunicorn."""
    name = f"service (PostgreSQL + Redis), {workers} worker" + ("s" if workers > 1 else "")
    scratch = f"oauth_proxy_bench_{secrets.token_hex(4)}"
    try:
        service_target.clear_redis(redis_url)
        url = service_target.create_postgres_database(admin_url, scratch)
    except (OSError, asyncpg.PostgresError, redis.RedisError) as exc:
        return Skipped(name, f"PostgreSQL ({admin_url}) or Redis ({redis_url}): {exc}")
    try:
        database = service_target.Database("postgres", url, redis_url)
        return bench_service(name, database, upstream, plan, workers)
    finally:
        service_target.drop_postgres_database(admin_url, scratch)


def run(args: argparse.Namespace, plan: Plan) -> str:
    rows: list[Figures] = []
    skipped: list[Skipped] = []
    port = free_port()
    upstream = f"http://127.0.0.1:{port}"
    argv = nginx_upstream.command(port, plan.work)
    spawned_at = time.monotonic()
    env = {"PATH": os.environ.get("PATH", "")}
    with spawned(argv, log=plan.work / "nginx.log", env=env) as nginx:
        direct = bench_upstream(nginx, upstream, spawned_at, plan)
        rows.append(direct)
        reference = bench_litellm(upstream, plan) if "litellm" in args.targets else None
        if reference:
            rows.append(reference)
        if "sqlite" in args.targets:
            sqlite = service_target.Database("sqlite")
            rows.append(bench_service("service (SQLite)", sqlite, upstream, plan))
        for target, workers in (("postgres", 1), ("postgres-2w", 2)):
            if target in args.targets:
                found = bench_postgres(
                    upstream, plan, args.postgres_admin_url, args.redis_url, workers
                )
                if isinstance(found, Skipped):
                    skipped.append(found)
                else:
                    rows.append(found)
    return render(rows, skipped, upstream=direct, reference=reference)


def _targets(text: str) -> set[str]:
    chosen = set(text.split(","))
    if unknown := chosen - set(TARGETS):
        raise argparse.ArgumentTypeError(f"unknown targets: {', '.join(sorted(unknown))}")
    return chosen


def _setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per scenario")
    parser.add_argument(
        "--requests", type=int, default=0, help="soak the service this many requests (0: none)"
    )
    parser.add_argument(
        "--targets",
        type=_targets,
        default=set(TARGETS),
        help=f"which of {','.join(TARGETS)} to run besides the upstream (default: all)",
    )
    parser.add_argument(
        "--postgres-admin-url",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a database to create and drop the scratch database from",
    )
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/14", help="emptied first: the bench's own"
    )
    parser.add_argument(
        "--service-env",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the service, e.g. LOG_LEVEL=WARNING (repeatable)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs of a good run")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="oauth-proxy-bench-"))
    plan = Plan(args.duration, args.warmup, args.requests, work, dict(args.service_env))
    print(
        f"{os.cpu_count()} CPUs shared by wrk and the target; {plan.seconds} s per run; "
        f"logs in {work}",
        file=sys.stderr,
    )
    started, load_before = time.monotonic(), os.getloadavg()[0]
    try:
        table = run(args, plan)
    except BaseException:
        print(f"the bench failed: logs kept in {work}", file=sys.stderr)
        raise
    print(table)
    print(
        f"\n{os.cpu_count()} CPUs, {plan.seconds} s per run, {time.monotonic() - started:.0f} s in "
        f"all; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other work "
        "on the machine slows every row)"
    )
    if args.keep_logs:
        print(f"logs in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
