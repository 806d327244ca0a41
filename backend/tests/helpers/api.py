"""The API steps many tests begin with, through an in-process client: bind an account, make an
API key, list the accounts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


async def bind(client: httpx.AsyncClient, auth: dict[str, str], **overrides: object) -> dict:
    """Bind an account by API key (a 通义千问 one unless `overrides` say otherwise)."""
    body = {
        "platform": "qwen",
        "account_name": "我的通义千问账号",
        "method": "api_key",
        "credentials": {"api_key": "sk-test-0123456789abcdef"},
    } | overrides
    response = await client.post("/api/v1/oauth/initiate", json=body, headers=auth)
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()["data"]["account"]
    return account


def key_for(platform: str) -> str:
    """A fresh credential in the platform's own shape (every test gets its own accounts)."""
    tag = uuid.uuid4().hex[:16]
    return {
        "baidu": f"bce-v3/ALTAK-{tag}/{tag}",
        "zhipu": f"{tag}.{tag}",
        "claude": f"sk-ant-{tag}",
        "gemini": f"AIza{tag}{tag}",
    }.get(platform, f"sk-{tag}")


async def account(client: httpx.AsyncClient, auth: dict[str, str], platform: str) -> dict:
    """Bind one account; returns it with its `key` (the fakes script answers per key)."""
    key = key_for(platform)
    bound = await bind(
        client,
        auth,
        platform=platform,
        account_name=f"{platform} {key[-4:]}",
        credentials={"api_key": key},
    )
    return bound | {"key": key}


async def accounts_by_id(client: httpx.AsyncClient, auth: dict[str, str]) -> dict[int, dict]:
    listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    return {a["id"]: a for a in listed}


async def create_api_key(
    client: httpx.AsyncClient, auth: dict[str, str], name: str = "laptop"
) -> dict[str, Any]:
    """A new API key: the answer of POST /api/v1/auth/api-keys (`key` is shown only there)."""
    response = await client.post("/api/v1/auth/api-keys", json={"name": name}, headers=auth)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["data"]
    return created
