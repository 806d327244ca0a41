"""The OAuth client secret in platform_configs is encrypted at rest, bound to its platform, opened
only for the authorization server, and moved to the newest key by the key rotation."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import select

from app.api.deps import app_context
from app.core.crypto import CredentialCipher, DecryptionError, generate_key
from app.core.database import session_scope
from app.models import PlatformConfig
from app.services import platform_secrets
from app.services.oauth.authorization_sessions import client_config
from tests.conftest import new_user

SECRET = "GOCSPX-at-rest-0123456789"


def body(platform_id: str, **oauth) -> dict:
    return {
        "platform_id": platform_id, "platform_name": "P", "description": None,
        "oauth_config": {"client_id": "c", "token_endpoint": "https://auth.example/token",
                         "authorization_endpoint": "https://auth.example/a"} | oauth,
        "litellm_config": {"provider": "openai", "api_base": "https://api.example/v1",
                           "default_model": "m", "available_models": ["m"]},
        "quota_config": None, "is_enabled": True,
    }  # fmt: skip


async def row_of(app, platform_id: str) -> PlatformConfig:
    async with app_context(app).factory() as session:
        return await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == platform_id)
        )


async def test_an_admins_client_secret_is_stored_encrypted_and_opened_for_the_oauth_server(
    app, client
):
    admin = await new_user(app, admin=True)
    platform_id = f"sec-{uuid.uuid4().hex[:8]}"
    saved = await client.put(
        f"/api/v1/admin/platforms/{platform_id}",
        json=body(platform_id, client_secret=SECRET),
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    row = await row_of(app, platform_id)
    assert SECRET not in str(row.oauth_config)
    assert row.oauth_config["client_secret"].startswith("enc:v1:")
    assert client_config(app_context(app), row, "oauth").client_secret == SECRET
    # Bound to its platform: the ciphertext copied to another platform opens nowhere.
    with pytest.raises(DecryptionError):
        platform_secrets.opened(app_context(app).store.cipher, "other", row.oauth_config)


async def test_key_rotation_moves_client_secrets_to_the_newest_key(app):
    old = app_context(app).store.cipher
    platform_id = f"rot-{uuid.uuid4().hex[:8]}"
    legacy_id = f"legacy-{uuid.uuid4().hex[:8]}"
    async with session_scope(app_context(app).factory) as session:
        sealed = platform_secrets.sealed(old, platform_id, {"client_secret": SECRET})
        session.add_all([
            PlatformConfig(platform_id=platform_id, platform_name="R", oauth_config=sealed,
                           litellm_config={}),
            PlatformConfig(platform_id=legacy_id, platform_name="L",  # stored before encryption
                           oauth_config={"client_secret": SECRET}, litellm_config={}),
        ])  # fmt: skip
    new_spec = f"k2:{generate_key()},{os.environ['CREDENTIAL_KEYS']}"  # the service's key after
    newer = CredentialCipher.from_spec(new_spec)
    async with session_scope(app_context(app).factory) as session:
        assert await platform_secrets.seal_all(session, newer) >= 2
    for pid in (platform_id, legacy_id):
        stored = (await row_of(app, pid)).oauth_config
        assert CredentialCipher.key_id_of(stored["client_secret"]) == "k2"
        assert platform_secrets.opened(newer, pid, stored)["client_secret"] == SECRET
    async with session_scope(app_context(app).factory) as session:
        assert await platform_secrets.seal_all(session, newer) == 0  # nothing left to move
        for pid in (platform_id, legacy_id):  # leave the shared database as other tests expect
            await session.delete(await session.get(PlatformConfig, (await row_of(app, pid)).id))
