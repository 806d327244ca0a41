"""The call path side by side with LiteLLM proxy (`make bench`, issue #8).

One after another on 127.0.0.1, each alone with the upstream: nginx answering a fixed OpenAI
reply (the upstream, called directly), LiteLLM proxy 1.110.2 in front of it, and the service in
front of it through its whole call path (API key, account selection, quota, usage) — on the
embedded SQLite database, then on PostgreSQL + Redis. wrk drives each for a fixed time:
non-streaming at 32 connections, at one connection (p50 latency), and streaming 20 chunks at 8
connections, while /proc gives CPU per streamed chunk, RSS, and the time from spawn to the first
answer. `--requests 100000` adds a soak of the service with its RSS half-way and at the end.
The load generator shares the machine's CPUs with the target: compare rows, not machines.
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
import wrk_load
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
from report import Figures, Skipped, render
from wrk_load import Endpoint

TARGETS = ("litellm", "sqlite", "postgres")
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
    endpoints: tuple[Endpoint, Endpoint],
    startup_s: float,
    plan: Plan,
    *,
    soak: bool = False,
) -> Figures:
    plain, stream = endpoints
    for endpoint in endpoints:  # connection pools, lazy imports, first-call caches
        wrk_load.run(endpoint, connections=8, seconds=plan.warmup_seconds)
    throughput = wrk_load.run(plain, connections=32, seconds=plan.seconds)
    latency = wrk_load.run(plain, connections=1, seconds=plan.seconds)
    cpu_before = cpu_seconds(pid)
    streamed = wrk_load.run(stream, connections=8, seconds=plan.seconds)
    cpu_s = cpu_seconds(pid) - cpu_before
    chunks = streamed.ok_requests * nginx_upstream.CHUNKS
    figures = Figures(
        name=name,
        startup_s=startup_s,
        plain=throughput,
        latency=latency,
        stream=streamed,
        cpu_us_per_chunk=cpu_s * 1e6 / chunks if chunks else math.nan,
        rss_mib=rss_mb(pid),
    )
    if soak and plan.soak_requests:
        run_soak(figures, pid, plain, plan.soak_requests)
    _progress(figures)
    return figures


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
        f"{figures.stream.rate:,.1f} streams/s at c=8, {figures.cpu_us_per_chunk:.1f} µs CPU per "
        f"chunk, RSS {figures.rss_mib:.0f} MiB",
        file=sys.stderr,
    )


def bench_upstream(
    process: subprocess.Popen[bytes], upstream: str, spawned_at: float, plan: Plan
) -> Figures:
    body = {"model": nginx_upstream.MODEL, "messages": MESSAGES}
    plain = Endpoint(f"{upstream}{nginx_upstream.PLAIN_PREFIX}/chat/completions", body, "sk-b")
    stream = Endpoint(
        f"{upstream}{nginx_upstream.STREAM_PREFIX}/chat/completions",
        {**body, "stream": True},
        "sk-b",
    )
    startup = seconds_to_first_answer(process, plain, spawned_at)
    return measure("upstream direct (nginx)", process.pid, (plain, stream), startup, plan)


def bench_litellm(upstream: str, plan: Plan) -> Figures:
    port = free_port()
    argv = litellm_command(upstream, port, plan.work)
    endpoints = litellm_endpoints(f"http://127.0.0.1:{port}", MESSAGES)
    spawned_at = time.monotonic()
    log = plan.work / "litellm-proxy.log"
    with spawned(argv, log=log, env=litellm_environment(plan.work)) as process:
        startup = seconds_to_first_answer(process, endpoints[0], spawned_at)
        return measure("LiteLLM proxy 1.110.2", process.pid, endpoints, startup, plan)


def bench_service(
    name: str, database: service_target.Database, upstream: str, plan: Plan
) -> Figures:
    """Set up through the API on a first run, then measure a restart and the calls."""
    folder = plan.work / re.sub(r"\W+", "-", database.label.lower())
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
    endpoints = service_target.endpoints(base, api_key, MESSAGES)
    spawned_at = time.monotonic()
    with spawned(service_target.command(port), log=log, env=env, cwd=cwd) as process:
        startup = seconds_to_first_answer(process, endpoints[0], spawned_at)
        return measure(name, process.pid, endpoints, startup, plan, soak=True)


def bench_postgres(upstream: str, plan: Plan, admin_url: str, redis_url: str) -> Figures | Skipped:
    """The service on a scratch PostgreSQL database (dropped after) and Redis."""
    name = "service (PostgreSQL + Redis)"
    scratch = f"oauth_proxy_bench_{secrets.token_hex(4)}"
    try:
        service_target.clear_redis(redis_url)
        url = service_target.create_postgres_database(admin_url, scratch)
    except (OSError, asyncpg.PostgresError, redis.RedisError) as exc:
        return Skipped(name, f"PostgreSQL ({admin_url}) or Redis ({redis_url}): {exc}")
    try:
        database = service_target.Database("postgres", url, redis_url)
        return bench_service(name, database, upstream, plan)
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
        if "postgres" in args.targets:
            found = bench_postgres(upstream, plan, args.postgres_admin_url, args.redis_url)
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
