"""The call path's first benchmark (`make bench`).

Starts a fast local OpenAI-format upstream (a fixed answer; 20 chunks when streamed) and the
service (uvicorn, one worker, SQLite) with one account on it, then drives both with the same
bounded load from this process and prints requests per second and latency, the service next to
the upstream called directly. Everything stays on 127.0.0.1; each run is bounded by time and
request count. On a small machine the load generator, the service and the upstream share the
CPUs: compare the two columns rather than reading the numbers as absolute.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BACKEND = Path(__file__).resolve().parents[1]
REPLY = " ".join(f"word{i}" for i in range(40))  # a 40-word answer, sent as 20 chunks
PROMPT = [{"role": "user", "content": "Tell me something short for the benchmark."}]
SCENARIOS = [  # (name, stream, concurrency)
    ("non-streaming", False, 32),
    ("non-streaming", False, 1),
    ("streaming", True, 8),
]


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(url: str, deadline_s: float = 120) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


async def load(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: dict[str, object],
    *,
    concurrency: int,
    duration_s: float,
    max_requests: int,
) -> Result:
    latencies: list[float] = []
    errors = 0
    started = 0
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        nonlocal errors, started
        while time.perf_counter() < deadline and started < max_requests:
            started += 1
            begin = time.perf_counter()
            try:
                if body.get("stream"):
                    async with client.stream("POST", url, json=body, headers=headers) as response:
                        async for _ in response.aiter_raw():
                            pass
                        ok = response.status_code == 200
                else:
                    response = await client.post(url, json=body, headers=headers)
                    ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - begin) * 1000)
            else:
                errors += 1

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(len(latencies), errors, time.perf_counter() - begin, latencies)


def prepare_service(base: str) -> str:
    """A user, an account on the bench platform, and an API key: returns the key."""
    with httpx.Client(base_url=base, timeout=30) as http:
        user = {"username": "bench", "password": "a long bench password"}
        http.post("/api/v1/auth/register", json=user).raise_for_status()
        token = http.post("/api/v1/auth/login", json=user).json()["data"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        bound = {
            "platform": "bench",
            "account_name": "bench",
            "method": "api_key",
            "credentials": {"api_key": "sk-bench-0000000000000000"},
        }
        http.post("/api/v1/oauth/initiate", json=bound, headers=auth).raise_for_status()
        made = http.post("/api/v1/auth/api-keys", json={"name": "bench"}, headers=auth)
        made.raise_for_status()
        return str(made.json()["data"]["key"])


async def measure(service: str, upstream: str, key: str, duration_s: float, cap: int) -> None:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        targets = {
            "upstream": (f"{upstream}/v1/chat/completions", {"Authorization": "Bearer sk-b"}),
            "service": (f"{service}/v1/chat/completions", {"Authorization": f"Bearer {key}"}),
        }
        # Warm up both (the service's first call waits for litellm to load).
        for url, headers in targets.values():
            for stream in (False, True):
                body = {"model": "bench/bench-model", "messages": PROMPT, "stream": stream}
                for _ in range(20):
                    await load(
                        client, url, headers, body, concurrency=1, duration_s=60, max_requests=1
                    )
        rows = []
        for name, stream, concurrency in SCENARIOS:
            results = {}
            for target, (url, headers) in targets.items():
                body = {"model": "bench/bench-model", "messages": PROMPT, "stream": stream}
                results[target] = await load(
                    client, url, headers, body,
                    concurrency=concurrency, duration_s=duration_s, max_requests=cap,
                )  # fmt: skip
            rows.append((name, concurrency, results))
    print()
    print(f"{'scenario':<22}{'target':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, concurrency, results in rows:
        for target, result in results.items():
            print(
                f"{name + f' c={concurrency}':<22}{target:<10}{result.rate:>9.1f}"
                f"{result.percentile(50):>9.1f}{result.percentile(99):>9.1f}{result.errors:>8}"
            )
    print()
    for name, concurrency, results in rows:
        added = results["service"].percentile(50) - results["upstream"].percentile(50)
        ratio = (
            results["service"].rate / results["upstream"].rate if results["upstream"].rate else 0
        )
        print(
            f"{name} c={concurrency}: the service adds {added:.1f} ms at p50 and serves "
            f"{ratio:.0%} of the upstream's rate"
        )
    print(f"\n({os.cpu_count()} CPUs shared by the load generator, the service and the upstream)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per measurement")
    parser.add_argument("--max-requests", type=int, default=5000, help="cap per measurement")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="oauth-proxy-bench-"))
    upstream_port, service_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    service = f"http://127.0.0.1:{service_port}"
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "development",
        "DATA_DIR": str(work),
        "LOCAL_SECRETS_FILE": str(work / ".local-secrets.env"),
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CREDENTIAL_KEYS": f"bench:{key}",
        "BACKGROUND_JOBS": "false",
        "LITELLM_CACHE_ENABLED": "false",  # measure calls, not the answer cache
        "LOG_LEVEL": "WARNING",
        "LITELLM_LOG_LEVEL": "WARNING",
    }
    platform = {
        "platform_id": "bench",
        "platform_name": "Bench",
        "oauth_config": {"login_methods": ["api_key"]},
        "litellm_config": {
            "provider": "openai",
            "api_base": f"{upstream}/v1",
            "default_model": "bench-model",
            "available_models": ["bench-model"],
        },
    }
    (work / "bench-platform.json").write_text(json.dumps([platform]))
    python = sys.executable
    processes: list[subprocess.Popen[bytes]] = []
    succeeded = False
    log = open(work / "service.log", "wb")  # noqa: SIM115 - closed below
    try:
        processes.append(
            subprocess.Popen(  # noqa: S603 - a fixed argv: this interpreter, our modules
                [python, "-m", "app.services.demo", "--port", str(upstream_port),
                 "--chunks", "20", "--reply", REPLY],
                cwd=BACKEND, env=env, stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip
        for script in (["scripts/init_db.py"], ["scripts/init_oauth_platforms.py", "--file",
                                                 str(work / "bench-platform.json")]):  # fmt: skip
            subprocess.run(  # noqa: S603 - a fixed argv: this interpreter, our scripts
                [python, *script], cwd=BACKEND, env=env, check=True, capture_output=True
            )
        processes.append(
            subprocess.Popen(  # noqa: S603 - a fixed argv: this interpreter, our modules
                [python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                 "--port", str(service_port), "--workers", "1", "--no-access-log",
                 "--log-level", "warning"],
                cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        wait_until(f"{upstream}/v1/models")
        wait_until(f"{service}/readyz")
        print(f"upstream {upstream}, service {service}")
        api_key = prepare_service(service)
        asyncio.run(measure(service, upstream, api_key, args.duration, args.max_requests))
        succeeded = True
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        if succeeded:  # a failed run keeps its folder (service.log) for a look
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
