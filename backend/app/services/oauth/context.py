"""The long-lived resources the account lifecycle needs, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.services.oauth.credential_store import CredentialStore
from app.services.oauth.token_lifecycle import CredentialRenewer


@dataclass(frozen=True)
class OAuthContext:
    """Settings, sessions, the credential store, the HTTP pool and the renewer."""

    settings: Settings
    factory: async_sessionmaker[AsyncSession]
    store: CredentialStore
    http: httpx.AsyncClient
    renewer: CredentialRenewer
