"""Shared fixtures: a real database built by the real migrations, the app, and API clients.

Tests that need PostgreSQL, MariaDB or Redis run when the server is reachable on 127.0.0.1; with
CI=true they must run, so an unreachable server fails them instead of skipping them.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

BACKEND_DIR = Path(__file__).resolve().parents[1]
TEST_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

# The service reads its settings from the environment: pin them before the app is imported, and
# keep the developer's own .env and generated secrets out of the tests.
os.environ.update(
    {
        "ENVIRONMENT": "test",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "CREDENTIAL_KEYS": f"test:{TEST_KEY}",
        "LOG_JSON": "true",
        # Every test client comes from one address: per-address limits would trip across tests.
        "SIGNIN_IP_LIMIT": "10000/minute",
        "REGISTRATION_LIMIT": "10000/minute",
        # The fake platforms, OAuth servers and webhooks listen on 127.0.0.1; the refusal of
        # private addresses has tests of its own (tests/core/test_outbound.py).
        "OUTBOUND_ALLOW_PRIVATE": "true",
        # The metrics tests read the per-account series; their default (off) has its own test.
        "METRICS_PER_ACCOUNT": "true",
    }
)
for name in ("DATABASE_URL", "REDIS_URL", "JWT_ALGORITHM", "JWT_PUBLIC_KEY", "JWT_JWKS_URL"):
    os.environ.pop(name, None)
sys.path.insert(0, str(BACKEND_DIR))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from app.api.deps import app_context  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from tests.fakes.server import serve, serve_service  # noqa: E402
from tests.fakes.upstream import FakeUpstream  # noqa: E402

SERVICES = {
    "postgres": ("PostgreSQL", 5432),
    "mysql": ("MariaDB/MySQL", 3306),
    "redis": ("Redis", 6379),
}


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(marker: str) -> None:
    """Skip (or, with CI=true, fail) when the marker's server is not running on 127.0.0.1."""
    name, port = SERVICES[marker]
    if reachable(port):
        return
    message = f"{name} is not reachable on 127.0.0.1:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(f"{message}; start it there to run the '{marker}' tests (CI=true requires them)")


# Tests with these markers time what they check or load the machine: they run alone (make test).
SERIAL_KINDS = ("soak", "faults", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SERIAL_KINDS):
            item.add_marker(pytest.mark.serial)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in SERVICES:
        if item.get_closest_marker(marker):
            require_service(marker)


def alembic_config(url: str) -> Config:
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    """`migrate` from inside a running event loop (Alembic's env runs its own loop)."""
    await anyio.to_thread.run_sync(migrate, url, revision)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, **overrides)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database built by `alembic upgrade head`, with the shipped platforms seeded."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate(url)
    return url


def accepts_credential(credential: str) -> bool:
    """What the fake platforms accept: any credential not marked as invalid by the test."""
    return "invalid" not in credential


@dataclass
class PlatformFakes:
    """One fake upstream per wire format, standing in for all eight platforms' APIs."""

    openai: FakeUpstream
    anthropic: FakeUpstream
    gemini: FakeUpstream
    urls: dict[str, str]

    def reset(self) -> None:
        for fake in (self.openai, self.anthropic, self.gemini):
            fake.reset()
            fake.keys = accepts_credential


# Where each shipped platform's API lives on the fakes (the path litellm builds on api_base).
API_BASES = {
    "qwen": ("openai", "/compatible-mode/v1"),
    "openai": ("openai", "/v1"),
    "claude": ("anthropic", ""),
    "baidu": ("openai", "/v2"),
    "zhipu": ("openai", "/api/paas/v4"),
    "spark": ("openai", "/v1"),
    "gemini": ("gemini", "/v1beta"),
    "doubao": ("openai", "/api/v3"),
}


def shipped_platforms_on(fakes: PlatformFakes) -> list[Any]:
    """The shipped platform configs with every API URL moved onto the fakes."""
    from app.services.platforms import read_platform_file

    entries = read_platform_file()
    for entry in entries:
        kind, prefix = API_BASES[entry.platform_id]
        entry.litellm_config.api_base = fakes.urls[kind] + prefix
        regions = entry.oauth_config.get("regions")
        if regions:
            entry.oauth_config["regions"] = {
                name: f"{fakes.urls[kind]}/{name}{prefix}" for name in regions
            }
    return entries


@pytest.fixture(scope="session")
def platform_fakes() -> Iterator[PlatformFakes]:
    kinds = ("openai", "anthropic", "gemini")
    fakes = {kind: FakeUpstream(kind, keys=accepts_credential) for kind in kinds}
    with (
        serve(fakes["openai"].app) as o,
        serve(fakes["anthropic"].app) as a,
        serve(fakes["gemini"].app) as g,
    ):
        yield PlatformFakes(**fakes, urls={"openai": o.url, "anthropic": a.url, "gemini": g.url})


@pytest.fixture(autouse=True)
def _reset_platform_fakes(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "platform_fakes" in request.fixturenames:
        request.getfixturevalue("platform_fakes").reset()


@pytest.fixture(scope="session")
async def app(sqlite_url: str, platform_fakes: PlatformFakes) -> AsyncIterator[Any]:
    """The service on the migrated SQLite database, its platforms pointing at the fakes."""
    from app.core.database import session_scope
    from app.services.platforms import upsert_platforms

    application = create_app(make_settings(sqlite_url, background_jobs=False))
    async with application.router.lifespan_context(application):
        async with session_scope(app_context(application).factory) as session:
            await upsert_platforms(session, shipped_platforms_on(platform_fakes))
        yield application


@pytest.fixture(scope="module")
def call_way() -> str:
    """How calls reach the platforms that can take the lean path: `lean` (the service's default)
    or `litellm`. A module overrides it to run its scenarios both ways (test_ai_call.py)."""
    return "lean"


@pytest.fixture(scope="module")
async def service_url(app: Any, sqlite_url: str, call_way: str) -> AsyncIterator[str]:
    """The service on a real uvicorn server in this process (same database and fakes as `app`)."""
    lean = call_way == "lean"
    served = create_app(make_settings(sqlite_url, background_jobs=False, call_lean_path=lean))
    async with serve_service(served) as server:
        yield server.url


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def new_user(app: Any, *, admin: bool = False) -> dict[str, str]:
    """A fresh user and the Authorization header that names it.

    Faster than `sign_up` (no Argon2 hashing) for tests that are not about signing in.
    """
    from app.core.database import session_scope
    from app.models import User

    username = f"user-{uuid.uuid4().hex[:12]}"
    async with session_scope(app_context(app).factory) as session:
        session.add(User(username=username, password_hash=None, is_admin=admin))
    token = app_context(app).tokens.issue(username).access_token
    return {"Authorization": f"Bearer {token}"}


async def sign_up(client: httpx.AsyncClient, username: str | None = None) -> dict[str, str]:
    """Register and sign in a fresh user through the API; returns the Authorization header."""
    username = username or f"user-{uuid.uuid4().hex[:12]}"
    password = "correct horse battery"
    response = await client.post(
        "/api/v1/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


@pytest.fixture
async def auth(app: Any) -> dict[str, str]:
    return await new_user(app)
