"""Per-user API keys for the OpenAI-compatible API: created (shown once), listed, revoked, and
resolved to their user on each call."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import session_scope, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.models import ApiKey, User
from app.services import audit

KEY_PREFIX = "op-"
MAX_KEYS_PER_USER = 100
# `last_used_at` is written at most this often per key: the hot path stays read-only.
TOUCH_EVERY = timedelta(seconds=60)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def _display(key: str) -> str:
    return f"{key[: len(KEY_PREFIX) + 4]}…{key[-4:]}"


async def create(session: AsyncSession, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for `user`: the row, and the key itself (returned this once, never stored)."""
    active = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_KEYS_PER_USER:
        raise Conflict(f"A user may hold at most {MAX_KEYS_PER_USER} keys; revoke one first.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user.id, name=name, prefix=_display(key), key_hash=hash_key(key))
    session.add(row)
    await session.flush()
    audit.record(session, "api_key.create", user_id=user.id, target=f"api_key:{row.id}")
    return row, key


async def list_keys(session: AsyncSession, user: User) -> list[ApiKey]:
    rows = await session.scalars(
        select(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id)
    )
    return list(rows)


async def revoke(session: AsyncSession, user: User, key_id: int) -> int:
    row = await session.scalar(
        select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)
        )
    )
    if row is None:
        raise NotFound(f"API key {key_id} not found.")
    row.revoked_at = utcnow()
    audit.record(session, "api_key.revoke", user_id=user.id, target=f"api_key:{key_id}")
    await session.flush()
    return key_id


async def authenticate(factory: async_sessionmaker[AsyncSession], key: str) -> User:
    """The user an API key names. Reads in one short transaction; `last_used_at` is written in
    another, and only when it is more than a minute old."""
    async with factory() as session:
        found = (
            await session.execute(
                select(ApiKey, User)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
            )
        ).first()
    if found is None:
        raise Unauthorized("The API key is invalid or has been revoked.")
    api_key, user = found
    if not user.is_active:
        raise Forbidden("This user is disabled.")
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > TOUCH_EVERY:
        async with session_scope(factory) as session:
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == api_key.id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    return user
