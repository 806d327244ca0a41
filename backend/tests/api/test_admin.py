"""Administration: platform configs (validated, secrets masked) and users with account counts."""

from __future__ import annotations

from app.api.deps import app_context
from app.services import platform_secrets
from tests.conftest import new_user
from tests.helpers.api import bind


async def config_of(client, admin, platform_id: str) -> dict:
    response = await client.get(f"/api/v1/admin/platforms/{platform_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_admin_routes_need_an_administrator(app, client, auth):
    for method, path in [
        ("GET", "/api/v1/admin/platforms"),
        ("GET", "/api/v1/admin/platforms/qwen"),
        ("PUT", "/api/v1/admin/platforms/qwen"),
        ("GET", "/api/v1/admin/users"),
    ]:
        response = await client.request(method, path, headers=auth, json={})
        assert response.status_code == 403, (method, path)
        assert (await client.request(method, path)).status_code == 401


async def test_an_admin_edits_and_disables_a_platform(app, client):
    admin = await new_user(app, admin=True)
    config = await config_of(client, admin, "doubao")
    edited = {k: v for k, v in config.items() if k != "updated_at"}
    edited["platform_name"] = "豆包 (edited)"
    edited["is_enabled"] = False
    response = await client.put("/api/v1/admin/platforms/doubao", json=edited, headers=admin)
    assert response.status_code == 200, response.text
    user = await new_user(app)
    listed = (await client.get("/api/v1/oauth/platforms", headers=user)).json()["data"]
    doubao = next(p for p in listed if p["platform_id"] == "doubao")
    assert doubao["platform_name"] == "豆包 (edited)" and doubao["is_enabled"] is False
    refused = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "doubao", "account_name": "x", "credentials": {"api_key": "k-0123456"}},
        headers=user,
    )
    assert refused.status_code == 400 and "disabled" in refused.json()["message"]
    edited["is_enabled"], edited["platform_name"] = True, config["platform_name"]
    assert (
        await client.put("/api/v1/admin/platforms/doubao", json=edited, headers=admin)
    ).status_code == 200


async def test_what_the_get_answers_can_be_put_back_as_it_is(app, client):
    admin = await new_user(app, admin=True)
    config = await config_of(client, admin, "zhipu")
    response = await client.put("/api/v1/admin/platforms/zhipu", json=config, headers=admin)
    assert response.status_code == 200, response.text
    again = await config_of(client, admin, "zhipu")
    assert {k: v for k, v in again.items() if k != "updated_at"} == {
        k: v for k, v in config.items() if k != "updated_at"
    }
    stale = {**config, "updated_at": "2000-01-01T00:00:00Z"}  # read-only: ignored, not stored
    assert (
        await client.put("/api/v1/admin/platforms/zhipu", json=stale, headers=admin)
    ).status_code == 200
    assert (await config_of(client, admin, "zhipu"))["updated_at"] > "2000"


async def test_the_provider_is_one_the_call_path_can_serve(app, client):
    admin = await new_user(app, admin=True)
    config = await config_of(client, admin, "qwen")
    aliased = {**config, "litellm_config": {**config["litellm_config"], "provider": "qwen"}}
    saved = await client.put("/api/v1/admin/platforms/qwen", json=aliased, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["litellm_config"]["provider"] == "dashscope"
    unknown = {**config, "litellm_config": {**config["litellm_config"], "provider": "tongyi-x"}}
    refused = await client.put("/api/v1/admin/platforms/qwen", json=unknown, headers=admin)
    assert refused.status_code == 400
    assert "tongyi-x" in refused.json()["message"] and "volcengine" in refused.json()["message"]
    assert (await config_of(client, admin, "qwen"))["litellm_config"]["provider"] == "dashscope"


async def test_invalid_configs_are_refused_naming_the_field(app, client):
    admin = await new_user(app, admin=True)
    config = await config_of(client, admin, "spark")
    broken = {k: v for k, v in config.items() if k != "updated_at"}
    broken["litellm_config"] = {"provider": "openai", "api_base": "", "available_models": []}
    response = await client.put("/api/v1/admin/platforms/spark", json=broken, headers=admin)
    assert response.status_code == 422
    assert "litellm_config" in response.json()["message"]
    mismatched = await client.put(
        "/api/v1/admin/platforms/qwen", json={**broken, "platform_id": "spark"}, headers=admin
    )
    assert mismatched.status_code in (400, 422)
    assert (await config_of(client, admin, "spark"))["litellm_config"]["api_base"]


async def test_the_oauth_client_secret_is_masked_and_kept_across_edits(app, client):
    admin = await new_user(app, admin=True)
    config = await config_of(client, admin, "gemini")
    body = {k: v for k, v in config.items() if k != "updated_at"}
    body["oauth_config"] = body["oauth_config"] | {
        "client_id": "gemini-client", "client_secret": "GOCSPX-very-secret"
    }  # fmt: skip
    saved = await client.put("/api/v1/admin/platforms/gemini", json=body, headers=admin)
    assert saved.status_code == 200
    assert "GOCSPX" not in saved.text
    assert saved.json()["data"]["oauth_config"]["client_secret"] == "********"
    # Saving what the API showed (the masked value) keeps the real secret.
    again = saved.json()["data"]
    again.pop("updated_at")
    await client.put("/api/v1/admin/platforms/gemini", json=again, headers=admin)
    from sqlalchemy import select

    from app.models import PlatformConfig

    async with app_context(app).factory() as session:
        row = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == "gemini")
        )
        stored = row.oauth_config["client_secret"]
        assert stored.startswith("enc:v1:") and "GOCSPX" not in stored  # encrypted at rest
        assert (
            platform_secrets.opened(app_context(app).store.cipher, "gemini", row.oauth_config)[
                "client_secret"
            ]
            == "GOCSPX-very-secret"
        )
        row.oauth_config = {k: v for k, v in row.oauth_config.items() if k != "client_secret"} | {
            "client_id": ""
        }
        await session.commit()


async def test_users_are_listed_with_account_counts_and_no_secrets(app, client):
    admin = await new_user(app, admin=True)
    user = await new_user(app)
    await bind(client, user, credentials={"api_key": "sk-admin-view-0123456789"})
    await bind(client, user, credentials={"api_key": "sk-admin-view-9876543210"})
    response = await client.get("/api/v1/admin/users", headers=admin)
    assert response.status_code == 200
    me = (await client.get("/api/v1/auth/me", headers=user)).json()["data"]
    row = next(u for u in response.json()["data"] if u["id"] == me["id"])
    assert row["account_count"] == 2
    assert "sk-admin-view" not in response.text and "password" not in response.text


async def test_each_platform_says_how_many_accounts_disabling_it_affects(app, client):
    admin = await new_user(app, admin=True)

    async def counts() -> dict[str, int]:
        listed = (await client.get("/api/v1/admin/platforms", headers=admin)).json()["data"]
        return {p["platform_id"]: p["account_count"] for p in listed}

    before = await counts()
    for _ in range(2):
        await bind(client, await new_user(app))
    after = await counts()
    assert after["qwen"] == before["qwen"] + 2
    assert {k: v for k, v in after.items() if k != "qwen"} == {
        k: v for k, v in before.items() if k != "qwen"
    }
    assert (await config_of(client, admin, "qwen"))["account_count"] == after["qwen"]
