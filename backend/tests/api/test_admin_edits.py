"""An administrator's edit of a platform leaves a full trace, and never moves a kept secret:
the audit entry lists every changed field old → new (secrets only as "changed"), and a kept OAuth
client secret is dropped when the endpoints it is sent to move to another host."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.api.deps import app_context
from app.models import PlatformConfig
from tests.conftest import new_user

SECRET = "GOCSPX-kept-secret-0123"


def platform(platform_id: str, **oauth: Any) -> dict[str, Any]:
    return {
        "platform_id": platform_id,
        "platform_name": "Edited",
        "description": None,
        "oauth_config": {"client_id": "cid", "token_endpoint": "https://auth.example/token",
                         "authorization_endpoint": "https://auth.example/authorize"} | oauth,
        "litellm_config": {"provider": "openai", "api_base": "https://api.example/v1",
                           "default_model": "m", "available_models": ["m"]},
        "quota_config": {"daily_limit": 1000},
        "is_enabled": False,
    }  # fmt: skip


async def _save(client, admin, body: dict[str, Any]) -> None:
    saved = await client.put(f"/api/v1/admin/platforms/{body['platform_id']}", json=body,
                             headers=admin)  # fmt: skip
    assert saved.status_code == 200, saved.text


async def _stored_secret(app, platform_id: str) -> str | None:
    async with app_context(app).factory() as session:
        row = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == platform_id)
        )
    return row.oauth_config.get("client_secret")


async def test_the_audit_entry_lists_every_changed_field_old_to_new(app, client):
    admin = await new_user(app, admin=True)
    platform_id = f"edit-{uuid.uuid4().hex[:8]}"
    await _save(client, admin, platform(platform_id, client_secret=SECRET))
    edited = platform(platform_id, client_secret="GOCSPX-another-secret")
    edited["litellm_config"]["api_base"] = "https://elsewhere.example/v1"
    edited["quota_config"]["daily_limit"] = 5000
    edited["platform_name"] = "Renamed"
    await _save(client, admin, edited)
    audit = await client.get("/api/v1/admin/audit?action=platform.save&limit=500", headers=admin)
    assert SECRET not in audit.text and "another-secret" not in audit.text
    entries = [e for e in audit.json()["data"] if e["target"] == f"platform:{platform_id}"]
    changes = entries[0]["detail"]["changes"]  # the newest first
    assert changes == {
        "litellm_config.api_base": {"old": "https://api.example/v1",
                                    "new": "https://elsewhere.example/v1"},
        "quota_config.daily_limit": {"old": 1000, "new": 5000},
        "platform_name": {"old": "Edited", "new": "Renamed"},
        "oauth_config.client_secret": "changed",
    }  # fmt: skip
    assert entries[1]["detail"]["changes"]["oauth_config.client_secret"] == "changed"
    assert entries[1]["detail"]["changes"]["is_enabled"] == {"old": None, "new": False}


async def test_a_kept_client_secret_is_dropped_when_its_endpoint_moves_host(app, client):
    admin = await new_user(app, admin=True)
    platform_id = f"move-{uuid.uuid4().hex[:8]}"
    await _save(client, admin, platform(platform_id, client_secret=SECRET))
    # The masked secret sent back, the endpoint on the same host: kept.
    same_host = platform(platform_id, client_secret="********",
                         token_endpoint="https://auth.example/v2/token")  # fmt: skip
    await _save(client, admin, same_host)
    assert await _stored_secret(app, platform_id) is not None
    # Moved to another host with the masked secret: dropped, to be entered again.
    moved = platform(platform_id, client_secret="********",
                     token_endpoint="https://attacker.example/token")  # fmt: skip
    await _save(client, admin, moved)
    assert await _stored_secret(app, platform_id) is None
    shown = await client.get(f"/api/v1/admin/platforms/{platform_id}", headers=admin)
    assert "client_secret" not in shown.json()["data"]["oauth_config"]
    # Entered again, it is stored for the new host.
    await _save(client, admin, moved | {"oauth_config": moved["oauth_config"]
                                        | {"client_secret": SECRET}})  # fmt: skip
    assert await _stored_secret(app, platform_id) is not None


async def test_a_kept_client_secret_is_dropped_when_the_authorization_endpoint_moves(app, client):
    admin = await new_user(app, admin=True)
    platform_id = f"auth-{uuid.uuid4().hex[:8]}"
    await _save(client, admin, platform(platform_id, client_secret=SECRET))
    await _save(client, admin, platform(platform_id, authorization_endpoint="https://x.example/a"))
    assert await _stored_secret(app, platform_id) is None


PRICES = {"currency": "CNY", "as_of": "2026-12-01",
          "models": {"m": {"input_per_mtok": "0.8", "cached_input_per_mtok": "0.16",
                           "output_per_mtok": "2"}}}  # fmt: skip


async def test_an_administrator_edits_prices_as_decimal_strings(app, client):
    admin = await new_user(app, admin=True)
    platform_id = f"priced-{uuid.uuid4().hex[:8]}"
    await _save(client, admin, platform(platform_id) | {"pricing": PRICES})
    shown = await client.get("/api/v1/admin/platforms", headers=admin)
    stored = next(p for p in shown.json()["data"] if p["platform_id"] == platform_id)
    assert stored["pricing"]["models"]["m"]["input_per_mtok"] == "0.8"
    for wrong in ({"input_per_mtok": 0.8, "output_per_mtok": "2"},  # a float
                  {"input_per_mtok": "1e-3", "output_per_mtok": "2"},
                  {"input_per_mtok": "0.0000001", "output_per_mtok": "2"}):  # fmt: skip
        body = platform(platform_id) | {"pricing": PRICES | {"models": {"m": wrong}}}
        refused = await client.put(f"/api/v1/admin/platforms/{platform_id}", json=body,
                                   headers=admin)  # fmt: skip
        assert refused.status_code == 422, refused.text
    dated = platform(platform_id) | {"pricing": PRICES | {"as_of": "2026-13-01"}}
    refused = await client.put(f"/api/v1/admin/platforms/{platform_id}", json=dated, headers=admin)
    assert refused.status_code == 422
