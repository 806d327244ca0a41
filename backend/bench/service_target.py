"""The service under test on a given database: one uvicorn worker, or gunicorn's uvicorn workers
(the production layout), set up through its own API.

Set-up mirrors an operator's: migrations (`init_db.py`), OpenAI-format platforms pointing at
nginx (`init_oauth_platforms.py --file`, one per nginx prefix, and two more on the plain prefix
with a `rate_limit` of 30,000 and 1,000,000 requests a minute), then a user who registers, binds
one account on each platform by key import and makes an API key. The measured start-up is the
restart after that: spawn to the first answered chat completion.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import nginx_upstream
import redis
import surfaces
from wrk_load import Calls, Endpoint

BACKEND = Path(__file__).resolve().parents[1]
PLAIN_PLATFORM = "bench"
STREAM_PLATFORMS = {
    nginx_upstream.STREAM_PREFIX: "bench-stream",
    nginx_upstream.STREAM200_PREFIX: "bench-stream200",
    nginx_upstream.LONG_PREFIX: "bench-long",
}
RATE_LIMITS = (30_000, 1_000_000)
"""Requests a minute: a paid tier's real size, and one far larger."""
USER = {"username": "bench", "password": "a long bench password"}


@dataclass(frozen=True)
class Database:
    """Where the service keeps its state: SQLite when `url` is empty."""

    label: str
    url: str = ""
    redis_url: str = ""


def environment(work: Path, database: Database) -> dict[str, str]:
    """Defaults as shipped, except two that would measure something else: the answer cache (every
    call must reach the platform) and the per-user call limit (one user makes all the load)."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "development",
        "DATA_DIR": str(work),
        "LOCAL_SECRETS_FILE": str(work / ".local-secrets.env"),
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CREDENTIAL_KEYS": f"bench:{key}",
        "LITELLM_CACHE_ENABLED": "false",
        "CALL_USER_RATE_LIMIT": "",
    }
    if database.url:
        env["DATABASE_URL"] = database.url
    if database.redis_url:
        env["REDIS_URL"] = database.redis_url
    return env


def platforms(upstream: str) -> list[dict[str, object]]:
    prefixes = {
        PLAIN_PLATFORM: (nginx_upstream.PLAIN_PREFIX, None),
        **{platform: (prefix, None) for prefix, platform in STREAM_PLATFORMS.items()},
        **{_limited(n): (nginx_upstream.PLAIN_PREFIX, n) for n in RATE_LIMITS},
    }
    return [
        {
            "platform_id": platform_id,
            "platform_name": platform_id,
            "oauth_config": {"login_methods": ["api_key"]},
            "litellm_config": {
                "provider": "openai",
                "api_base": upstream + prefix,
                "default_model": nginx_upstream.MODEL,
                "available_models": [nginx_upstream.MODEL],
            },
            # A limit no run reaches: every call still reserves and settles its quota.
            "quota_config": {"daily_limit": 10**12}
            | ({"rate_limit": per_minute} if per_minute else {}),
        }
        for platform_id, (prefix, per_minute) in prefixes.items()
    ]


def _limited(per_minute: int) -> str:
    return f"bench-rl{per_minute}"


def initialise(work: Path, env: dict[str, str], upstream: str) -> None:
    """Migrations and the two bench platforms, as an operator would load them (`setup.log`)."""
    platform_file = work / "bench-platforms.json"
    platform_file.write_text(json.dumps(platforms(upstream)))
    with (work / "setup.log").open("ab") as log:
        for script in (
            ["scripts/init_db.py"],
            ["scripts/init_oauth_platforms.py", "--file", str(platform_file)],
        ):
            subprocess.run(  # noqa: S603 - this interpreter, the project's scripts
                [sys.executable, *script],
                cwd=BACKEND,
                env=env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=300,
            )


def command(port: int, workers: int = 0) -> list[str]:
    """uvicorn with one worker, or (`workers`) gunicorn as production runs it."""
    if workers:
        return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app.main:app"]
    return [
        sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def gunicorn_environment(port: int, workers: int, work: Path) -> dict[str, str]:
    metrics = work / f"metrics-{port}"
    metrics.mkdir()
    return {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


def enrol(base: str, upstream_key: str) -> str:
    """A user with one account on each bench platform; returns the user's new API key."""
    with httpx.Client(base_url=base, timeout=60) as http:
        http.post("/api/v1/auth/register", json=USER).raise_for_status()
        token = http.post("/api/v1/auth/login", json=USER).json()["data"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for platform in (p["platform_id"] for p in platforms("")):
            bound = {
                "platform": platform,
                "account_name": platform,
                "method": "api_key",
                "credentials": {"api_key": upstream_key},
            }
            http.post("/api/v1/oauth/initiate", json=bound, headers=auth).raise_for_status()
        made = http.post("/api/v1/auth/api-keys", json={"name": "bench"}, headers=auth)
        made.raise_for_status()
        return str(made.json()["data"]["key"])


def endpoints(base: str, api_key: str, messages: list[dict[str, str]]) -> Calls:
    """The calls of the OpenAI-compatible route, one platform each."""
    url = f"{base}/v1/chat/completions"

    def call(platform: str, *, stream: bool = False) -> Endpoint:
        body = {"model": f"{platform}/{nginx_upstream.MODEL}", "messages": messages}
        return Endpoint(url, body | ({"stream": True} if stream else {}), api_key)

    return Calls(
        plain=call(PLAIN_PLATFORM),
        stream=call(STREAM_PLATFORMS[nginx_upstream.STREAM_PREFIX], stream=True),
        stream200=call(STREAM_PLATFORMS[nginx_upstream.STREAM200_PREFIX], stream=True),
        rate_limited={n: call(_limited(n)) for n in RATE_LIMITS},
    )


def surface_calls(base: str, api_key: str) -> list[surfaces.SurfaceCalls]:
    """Anthropic's /v1/messages and OpenAI's /v1/responses on the platforms of the chat rows
    (translated, as on LiteLLM)."""
    stream = STREAM_PLATFORMS[nginx_upstream.STREAM_PREFIX]
    plain, streamed = f"{PLAIN_PLATFORM}/{nginx_upstream.MODEL}", f"{stream}/{nginx_upstream.MODEL}"
    return [
        surfaces.messages_calls(base, api_key, plain, streamed),
        surfaces.responses_calls(base, api_key, plain, streamed),
    ]


def create_postgres_database(admin_url: str, name: str) -> str:
    """A scratch database next to `admin_url`'s; returns its SQLAlchemy URL."""
    asyncio.run(_postgres(admin_url, f'CREATE DATABASE "{name}"'))
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


def drop_postgres_database(admin_url: str, name: str) -> None:
    asyncio.run(_postgres(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def clear_redis(url: str) -> None:
    """The bench's own Redis database starts empty: no state left by an earlier run."""
    client = redis.Redis.from_url(url, socket_timeout=10)
    try:
        client.flushdb()
    finally:
        client.close()
