"""The OAuth client secret in `platform_configs.oauth_config`, encrypted at rest like account
credentials (AES-GCM, bound to its platform by the associated data) and moved to the newest key
by the key rotation. It is opened only to build a request to the authorization server."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import PREFIX, CredentialCipher, DecryptionError
from app.models import PlatformConfig

FIELD = "client_secret"
logger = logging.getLogger(__name__)


def _aad(platform_id: str) -> str:
    return f"platform_configs.client_secret:{platform_id}"


def sealed(
    cipher: CredentialCipher, platform_id: str, oauth_config: dict[str, Any]
) -> dict[str, Any]:
    """`oauth_config` with its client secret encrypted under the newest key (and a secret under
    an older key re-encrypted)."""
    value = oauth_config.get(FIELD)
    if not isinstance(value, str) or not value:
        return oauth_config
    if value.startswith(PREFIX):
        if not cipher.needs_rotation(value):
            return oauth_config
        value = cipher.decrypt(value, _aad(platform_id))
    return oauth_config | {FIELD: cipher.encrypt(value, _aad(platform_id))}


def opened(
    cipher: CredentialCipher, platform_id: str, oauth_config: dict[str, Any]
) -> dict[str, Any]:
    """`oauth_config` with its client secret readable (one stored before encryption as it is)."""
    value = oauth_config.get(FIELD)
    if isinstance(value, str) and value.startswith(PREFIX):
        return oauth_config | {FIELD: cipher.decrypt(value, _aad(platform_id))}
    return oauth_config


async def seal_all(session: AsyncSession, cipher: CredentialCipher) -> int:
    """Encrypt every client secret stored in clear or under an older key; answers how many."""
    changed = 0
    for row in await session.scalars(select(PlatformConfig)):
        try:
            new = sealed(cipher, row.platform_id, row.oauth_config)
        except DecryptionError:
            logger.warning("the client secret of %s opens with no configured key", row.platform_id)
            continue
        if new is not row.oauth_config:
            row.oauth_config = new
            changed += 1
    await session.flush()
    return changed
