"""Moving stored credentials to the newest encryption key, in small committed batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.crypto import DecryptionError
from app.core.database import session_scope
from app.models import OAuthAccount
from app.services.oauth.credential_store import SECRET_COLUMNS, CredentialStore


@dataclass(frozen=True)
class RotationReport:
    rotated: int
    unreadable: list[int]
    """Accounts whose secrets no configured key opens (their owners must bind them again)."""
    remaining: int
    """Accounts still holding a secret under an older key after the pass."""


async def _batches(
    factory: async_sessionmaker[AsyncSession], batch_size: int
) -> AsyncIterator[list[OAuthAccount]]:
    """Each batch in its own committed transaction, so an interruption loses at most one batch."""
    last_id = 0
    while True:
        async with session_scope(factory) as session:
            accounts = list(
                await session.scalars(
                    select(OAuthAccount)
                    .where(OAuthAccount.id > last_id)
                    .order_by(OAuthAccount.id)
                    .limit(batch_size)
                    .with_for_update()
                )
            )
            if not accounts:
                return
            yield accounts
            last_id = accounts[-1].id


async def rotate_all(
    factory: async_sessionmaker[AsyncSession], store: CredentialStore, *, batch_size: int = 100
) -> RotationReport:
    rotated = 0
    unreadable: list[int] = []
    async for accounts in _batches(factory, batch_size):
        for account in accounts:
            try:
                rotated += store.reencrypt(account)
            except DecryptionError:
                unreadable.append(account.id)
    remaining = 0
    async for accounts in _batches(factory, batch_size):
        remaining += sum(
            1
            for account in accounts
            if account.id not in unreadable
            and any(
                getattr(account, c) and store.cipher.needs_rotation(getattr(account, c))
                for c in SECRET_COLUMNS
            )
        )
    return RotationReport(rotated=rotated, unreadable=unreadable, remaining=remaining)
