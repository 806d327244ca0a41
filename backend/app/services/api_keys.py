"""Per-user API keys for the OpenAI-compatible API: created (shown once), listed, revoked, and
resolved to their user on each call.

Resolving is cached per process for a minute (`ApiKeyCache`): any change to a key or a user,
through the ORM or a bulk statement, drops the cache in every worker and instance after its
commit, so a revoked key or a disabled user is refused from the very next call.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.cache import Generations, TTLCache, changed
from app.core.database import passing, session_scope, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.models import ApiKey, User
from app.services import audit
from app.services.key_limits import CALLING_KEY, CallingKey

KEY_PREFIX = "op-"
MAX_KEYS_PER_USER = 100
# `last_used_at` is written at most this often per key: the hot path stays read-only.
TOUCH_EVERY = timedelta(seconds=60)
CACHE_TTL_S = 60.0
API_KEYS = "api-keys"
"""The cache namespace of keys and users: bumped by any change to either table."""
# Marks the `last_used_at` write as bookkeeping: it must not drop the cache it serves.
_BOOKKEEPING = "api_keys_bookkeeping"

logger = logging.getLogger(__name__)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def _display(key: str) -> str:
    return f"{key[: len(KEY_PREFIX) + 4]}…{key[-4:]}"


async def create(
    session: AsyncSession, user: User, name: str, limits: dict[str, Any] | None = None
) -> tuple[ApiKey, str]:
    """A new key for `user`: the row, and the key itself (returned this once, never stored)."""
    active = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_KEYS_PER_USER:
        raise Conflict(f"A user may hold at most {MAX_KEYS_PER_USER} keys; revoke one first.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        user_id=user.id, name=name, prefix=_display(key), key_hash=hash_key(key), limits=limits
    )
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


async def get_key(session: AsyncSession, user: User, key_id: int) -> ApiKey:
    row = await session.scalar(
        select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)
        )
    )
    if row is None:
        raise NotFound(f"API key {key_id} not found.")
    return row


async def edit(session: AsyncSession, user: User, key_id: int, changes: dict[str, Any]) -> ApiKey:
    """Change a key's name or limits (`changes`: the fields given)."""
    row = await get_key(session, user, key_id)
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    audit.record(session, "api_key.edit", user_id=user.id, target=f"api_key:{key_id}")
    return row


async def revoke(session: AsyncSession, user: User, key_id: int) -> int:
    row = await get_key(session, user, key_id)
    row.revoked_at = utcnow()
    audit.record(session, "api_key.revoke", user_id=user.id, target=f"api_key:{key_id}")
    await session.flush()
    return key_id


@dataclass(slots=True)
class _KeyHolder:
    key_id: int
    limits: dict[str, Any] | None
    user: User
    """Detached, shared by every call with the key: nothing may change or lazy-load it."""
    touched_at: datetime | None
    """When `last_used_at` was last written (or read), so the cached path need not read it."""


class ApiKeyCache:
    """Who each recently used key names, by the key's hash (never the key itself)."""

    def __init__(self, generations: Generations, *, enabled: bool = True) -> None:
        self.generations = generations
        self.holders: TTLCache[str, _KeyHolder] = TTLCache(CACHE_TTL_S if enabled else 0)


async def authenticate(
    factory: async_sessionmaker[AsyncSession], cache: ApiKeyCache, key: str
) -> User:
    """The user an API key names: from `cache` while no key or user has changed, else read in
    one short transaction. `last_used_at` is written in another, at most once a minute per key
    (and process)."""
    key_hash = hash_key(key)
    # Read before the load: a change committed meanwhile leaves the value under an old generation.
    (generation,) = await cache.generations.read(API_KEYS)
    holder = cache.holders.get(key_hash, generation)
    if holder is None:
        holder = await _load(factory, key_hash)
        cache.holders.put(key_hash, generation, holder)
    if not holder.user.is_active:
        raise Forbidden("This user is disabled.")
    CALLING_KEY.set(CallingKey(holder.key_id, holder.limits))
    now = utcnow()
    if holder.touched_at is None or now - holder.touched_at > TOUCH_EVERY:
        holder.touched_at = now  # claimed before the write: concurrent calls do not repeat it
        await _touch(factory, holder.key_id, now)
    return holder.user


async def _touch(factory: async_sessionmaker[AsyncSession], key_id: int, now: datetime) -> None:
    """Record when a key was last used. A database too busy for it now costs only this figure,
    never the call: the next use a minute on writes it."""
    try:
        async with session_scope(factory) as session:
            await session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False, **{_BOOKKEEPING: True})
            )
    except DBAPIError as exc:
        if not passing(exc):
            raise
        logger.warning("an API key's last use was not recorded: the database was busy")


async def _load(factory: async_sessionmaker[AsyncSession], key_hash: str) -> _KeyHolder:
    async with factory() as session:
        found = (
            await session.execute(
                select(ApiKey, User)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
            )
        ).first()
    if found is None:
        raise Unauthorized("The API key is invalid or has been revoked.")
    api_key, user = found
    return _KeyHolder(api_key.id, api_key.limits, user, api_key.last_used_at)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    flushed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, ApiKey | User) for obj in flushed):
        changed(session, API_KEYS)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if (
        (state.is_update or state.is_delete)
        and not state.execution_options.get(_BOOKKEEPING)
        and any(m.entity in (ApiKey, User) for m in state.all_mappers)
    ):
        changed(state.session, API_KEYS)
