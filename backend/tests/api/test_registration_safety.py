"""Registration that holds under attack: one first administrator however many race for it, an
operator's command to make one, and no user name that looks like another."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import anyio
import httpx
import pytest

from app.main import create_app
from tests.conftest import BACKEND_DIR, make_settings, migrate_async
from tests.helpers.databases import empty_database
from tests.helpers.processes import minimal_env

PASSWORD = "a long password"


async def _register_all(url: str, names: list[str]) -> list[httpx.Response]:
    await migrate_async(url)
    fresh = create_app(make_settings(url, database_pool_size=30))
    async with fresh.router.lifespan_context(fresh):
        transport = httpx.ASGITransport(app=fresh)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers: list[httpx.Response] = []

            async def register(name: str) -> None:
                body = {"username": name, "password": PASSWORD}
                answers.append(await client.post("/api/v1/auth/register", json=body))

            async with anyio.create_task_group() as group:
                for name in names:
                    group.start_soon(register, name)
    return answers


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
             pytest.param("mysql", marks=pytest.mark.mysql)],
)  # fmt: skip
async def test_twenty_simultaneous_registrations_make_exactly_one_administrator(kind, tmp_path):
    async with empty_database(kind, tmp_path) as url:
        answers = await _register_all(url, [f"racer{n:02d}" for n in range(20)])
    assert [a.status_code for a in answers] == [200] * 20
    assert sum(a.json()["data"]["is_admin"] for a in answers) == 1


def _create_admin(url: str, name: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    env = minimal_env(BACKEND_DIR) | {
        "ENVIRONMENT": "test",
        "JWT_SECRET": os.environ["JWT_SECRET"],
        "CREDENTIAL_KEYS": os.environ["CREDENTIAL_KEYS"],
        "DATABASE_URL": url,
    }
    # Run from elsewhere than backend/, so that a developer's backend/.env is not read.
    return subprocess.run(
        [sys.executable, str(BACKEND_DIR / "scripts" / "create_admin.py"), name],
        input=password + "\n", capture_output=True, text=True, cwd=tempfile.gettempdir(),
        env=env, timeout=60, check=False,
    )  # fmt: skip


async def test_the_operator_creates_an_administrator_with_a_command(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    await migrate_async(url)
    made = await anyio.to_thread.run_sync(_create_admin, url, "operator")
    assert made.returncode == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    fresh = create_app(make_settings(url))
    async with fresh.router.lifespan_context(fresh):
        transport = httpx.ASGITransport(app=fresh)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            signed_in = await client.post(
                "/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}
            )
            token = signed_in.json()["data"]["access_token"]
            me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            # The seat is taken: whoever registers next is an ordinary user.
            later = await client.post(
                "/api/v1/auth/register", json={"username": "latecomer", "password": PASSWORD}
            )
    assert me.json()["data"]["is_admin"] is True
    assert later.json()["data"]["is_admin"] is False
    promoted = await anyio.to_thread.run_sync(_create_admin, url, "latecomer", "")
    assert promoted.returncode == 0, promoted.stderr
    assert "latecomer is now an administrator" in promoted.stdout


async def test_a_short_password_is_refused_by_the_command(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'short.db'}"
    await migrate_async(url)
    refused = await anyio.to_thread.run_sync(_create_admin, url, "operator", "short")
    assert refused.returncode == 1 and "at least 8" in refused.stderr


@pytest.mark.parametrize(
    "look_alike",
    ["\u0430lice{n}", "Alice{n}", "\uff41lice{n}", "a\u217cice{n}"],
    ids=["cyrillic-a", "capital", "full-width", "roman-numeral-l"],
)
async def test_a_name_that_looks_like_a_registered_one_is_refused(client, look_alike):
    suffix = os.urandom(4).hex()
    first = await client.post(
        "/api/v1/auth/register", json={"username": f"alice{suffix}", "password": PASSWORD}
    )
    assert first.status_code == 200, first.text
    twin = await client.post(
        "/api/v1/auth/register",
        json={"username": look_alike.format(n=suffix), "password": PASSWORD},
    )
    assert twin.status_code == 409
    assert twin.json()["error_code"] == "username_taken"


async def test_names_are_stored_and_signed_in_nfkc_normalised(client):
    suffix = os.urandom(4).hex()
    made = await client.post(
        "/api/v1/auth/register", json={"username": f"\uff42ob{suffix}", "password": PASSWORD}
    )
    assert made.json()["data"]["username"] == f"bob{suffix}"
    signed_in = await client.post(
        "/api/v1/auth/login", json={"username": f"\uff42ob{suffix}", "password": PASSWORD}
    )
    assert signed_in.status_code == 200
