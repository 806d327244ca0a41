"""API keys: shown once, stored hashed, listed by prefix, revoked for good, owned by one user."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.api.deps import app_context
from app.models import ApiKey
from tests.conftest import new_user
from tests.helpers.api import create_api_key


async def test_a_key_is_shown_once_and_stored_only_as_its_hash(client, auth, app):
    created = await create_api_key(client, auth)
    key = created["key"]
    assert key.startswith("op-") and len(key) > 40
    assert created["prefix"] == f"{key[:7]}…{key[-4:]}"
    listed = (await client.get("/api/v1/auth/api-keys", headers=auth)).json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0] and key not in str(listed)
    async with app_context(app).factory() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == created["id"]))
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (row.key_hash, row.prefix, row.name)


async def test_a_key_calls_the_openai_api_until_it_is_revoked(client, auth):
    created = await create_api_key(client, auth)
    bearer = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/v1/models", headers=bearer)).status_code == 200
    listed = (await client.get("/api/v1/auth/api-keys", headers=auth)).json()["data"]
    assert listed[0]["last_used_at"] is not None
    revoked = await client.delete(f"/api/v1/auth/api-keys/{created['id']}", headers=auth)
    assert revoked.json()["data"] == {"id": created["id"], "revoked": True}
    refused = await client.get("/v1/models", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"
    assert (await client.get("/api/v1/auth/api-keys", headers=auth)).json()["data"] == []


async def test_a_key_cannot_manage_keys_or_accounts(client, auth):
    bearer = {"Authorization": f"Bearer {(await create_api_key(client, auth))['key']}"}
    assert (await client.get("/api/v1/auth/api-keys", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/oauth/accounts", headers=bearer)).status_code == 401


async def test_another_users_key_cannot_be_revoked(client, auth, app):
    mine = await create_api_key(client, auth)
    other = await new_user(app)
    response = await client.delete(f"/api/v1/auth/api-keys/{mine['id']}", headers=other)
    assert response.status_code == 404
    assert (await client.get("/api/v1/auth/api-keys", headers=auth)).json()["data"] != []


async def test_key_routes_need_a_signed_in_user_and_a_name(client, auth):
    assert (await client.post("/api/v1/auth/api-keys", json={"name": "x"})).status_code == 401
    blank = await client.post("/api/v1/auth/api-keys", json={"name": "  "}, headers=auth)
    assert blank.status_code == 422
