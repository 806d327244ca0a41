"""Users and tokens: registration, sign-in, and tokens a host application issues."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.api.deps import app_context
from app.main import create_app
from tests.conftest import make_settings, migrate_async, sign_up
from tests.fakes.server import serve


def name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


async def test_register_then_login_then_me(client):
    username = name()
    headers = await sign_up(client, username)
    me = await client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["data"]["username"] == username


async def test_login_answers_the_token_shape(client):
    username = name()
    await client.post(
        "/api/v1/auth/register", json={"username": username, "password": "a long password"}
    )
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "a long password"}
    )
    data = response.json()["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    assert data["token_type"] == "bearer" and data["expires_in"] == 86400


async def test_passwords_are_stored_as_argon2_hashes(app, client):
    from sqlalchemy import select

    from app.models import User

    username = name()
    await client.post(
        "/api/v1/auth/register", json={"username": username, "password": "a long password"}
    )
    async with app_context(app).factory() as session:
        stored = await session.scalar(select(User.password_hash).where(User.username == username))
    assert stored.startswith("$argon2id$") and "a long password" not in stored


async def test_a_taken_name_is_a_409(client):
    username = name()
    body = {"username": username, "password": "a long password"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 200
    again = await client.post("/api/v1/auth/register", json=body)
    assert again.status_code == 409
    assert username in again.json()["message"]
    assert again.json()["error_code"] == "username_taken"


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client):
    username = name()
    await client.post(
        "/api/v1/auth/register", json={"username": username, "password": "a long password"}
    )
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": "not it at all"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": name(), "password": "whatever1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error_code"] == "invalid_sign_in"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "password": "a long password"}, "username"),
        ({"username": "has space", "password": "a long password"}, "username"),
        ({"username": "fine-name", "password": "short"}, "password"),
        ({"username": "fine-name"}, "password"),
    ],
)
async def test_registration_names_what_is_wrong(client, body, field):
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


async def test_the_first_user_is_the_admin(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await migrate_async(url)
    fresh = create_app(make_settings(url))
    async with fresh.router.lifespan_context(fresh):
        transport = httpx.ASGITransport(app=fresh)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            before = await c.get("/api/v1/auth/registration")
            first = await c.post(
                "/api/v1/auth/register", json={"username": "first", "password": "a long password"}
            )
            after = await c.get("/api/v1/auth/registration")
            second = await c.post(
                "/api/v1/auth/register", json={"username": "second", "password": "a long password"}
            )
    # The sign-up form can tell the first user what they will be, and no one after.
    assert before.json()["data"] == {"open": True, "becomes_admin": True}
    assert first.json()["data"]["is_admin"] is True
    assert after.json()["data"] == {"open": True, "becomes_admin": False}
    assert second.json()["data"]["is_admin"] is False


async def test_registration_can_be_closed(sqlite_url):
    closed = create_app(make_settings(sqlite_url, allow_registration=False))
    async with closed.router.lifespan_context(closed):
        transport = httpx.ASGITransport(app=closed)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            said = await c.get("/api/v1/auth/registration")
            response = await c.post(
                "/api/v1/auth/register", json={"username": name(), "password": "a long password"}
            )
    assert said.json()["data"] == {"open": False, "becomes_admin": False}
    assert response.status_code == 403
    assert "closed" in response.json()["message"]
    assert response.json()["error_code"] == "registration_closed"


async def test_an_expired_token_is_refused(app, client):
    username = name()
    await sign_up(client, username)
    secret = app_context(app).settings.jwt_secret.get_secret_value()
    expired = jwt.encode(
        {"sub": username, "exp": int(time.time()) - 120}, secret, algorithm="HS256"
    )
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_token"


def _rsa_keypair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, public_pem


async def _me(application, token: str) -> httpx.Response:
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_host_application_rs256_tokens_with_auto_provisioning(sqlite_url):
    key, public_pem = _rsa_keypair()
    host = create_app(
        make_settings(
            sqlite_url, jwt_algorithm="RS256", jwt_public_key=public_pem, jwt_auto_provision=True
        )
    )
    subject = name()
    token = jwt.encode({"sub": subject, "exp": int(time.time()) + 60}, key, algorithm="RS256")
    response = await _me(host, token)
    assert response.status_code == 200
    assert response.json()["data"]["username"] == subject


async def test_host_tokens_for_unknown_users_are_refused_without_provisioning(sqlite_url):
    key, public_pem = _rsa_keypair()
    host = create_app(make_settings(sqlite_url, jwt_algorithm="RS256", jwt_public_key=public_pem))
    token = jwt.encode({"sub": name(), "exp": int(time.time()) + 60}, key, algorithm="RS256")
    response = await _me(host, token)
    assert response.status_code == 401
    assert "names no user" in response.json()["message"]


async def test_es256_tokens_verified_through_a_jwks_url(sqlite_url):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {
        "kid": "host-1",
        "use": "sig",
    }

    async def jwks(_request):
        return JSONResponse({"keys": [jwk]})

    with serve(Starlette(routes=[Route("/jwks.json", jwks)])) as server:
        host = create_app(
            make_settings(
                sqlite_url,
                jwt_algorithm="ES256",
                jwt_jwks_url=f"{server.url}/jwks.json",
                jwt_auto_provision=True,
                jwt_issuer="https://host.example",
            )
        )
        subject = name()
        claims = {"sub": subject, "exp": int(time.time()) + 60, "iss": "https://host.example"}
        good = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "host-1"})
        assert (await _me(host, good)).status_code == 200
        wrong_issuer = jwt.encode(
            claims | {"iss": "https://other"}, key, algorithm="ES256", headers={"kid": "host-1"}
        )
        assert (await _me(host, wrong_issuer)).status_code == 401


async def test_login_is_refused_when_the_host_issues_tokens(sqlite_url):
    _, public_pem = _rsa_keypair()
    host = create_app(make_settings(sqlite_url, jwt_algorithm="RS256", jwt_public_key=public_pem))
    async with host.router.lifespan_context(host):
        transport = httpx.ASGITransport(app=host)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "host application" in response.json()["message"]


async def test_repeated_failed_sign_ins_for_one_name_answer_429(sqlite_url):
    guarded = create_app(make_settings(sqlite_url, signin_failure_limit="3/minute"))
    async with guarded.router.lifespan_context(guarded):
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            username = name()
            good = {"username": username, "password": "a long password"}
            await c.post("/api/v1/auth/register", json=good)
            bad = {"username": username, "password": "wrong password"}
            statuses = [
                (await c.post("/api/v1/auth/login", json=bad)).status_code for _ in range(3)
            ]
            assert statuses == [401, 401, 401]
            blocked = await c.post("/api/v1/auth/login", json=good)  # even the right password
            assert blocked.status_code == 429
            assert 0 < int(blocked.headers["retry-after"]) <= 60
            assert "Too many failed sign-ins" in blocked.json()["message"]
            assert blocked.json()["error_code"] == "rate_limited"
            other = {"username": name(), "password": "a long password"}
            await c.post("/api/v1/auth/register", json=other)
            assert (await c.post("/api/v1/auth/login", json=other)).status_code == 200


async def test_registrations_per_address_are_limited(sqlite_url):
    guarded = create_app(make_settings(sqlite_url, registration_limit="2/hour"))
    async with guarded.router.lifespan_context(guarded):
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            body = lambda: {"username": name(), "password": "a long password"}  # noqa: E731
            statuses = [
                (await c.post("/api/v1/auth/register", json=body())).status_code for _ in range(3)
            ]
            assert statuses == [200, 200, 429]
