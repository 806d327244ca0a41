"""The call path's cached reads: the platform configs (an hour), each user's accounts on a
platform with their rests (five minutes) and the routes a user's calls see (five minutes), all
dropped by any change in every worker and instance through the generations of `app.core.cache`.

Changes to accounts and configs made through the ORM, and bulk statements on the configs, are
noticed by listeners (those of the routes in services/model_routes.py); bulk updates of accounts
(the call path's rests, exhaustion and expiry) announce themselves with `accounts_changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.cache import Generations, TTLCache, changed
from app.models import ModelRoute, OAuthAccount, PlatformConfig
from app.models.model_route import DEPLOYMENT
from app.services import model_routes
from app.services.account_status import Cooldown, load_cooldowns

ACCOUNTS_TTL_S = 300.0
ROUTES_TTL_S = 300.0
PLATFORMS_TTL_S = 3600.0
PLATFORMS = "platforms"
# Columns the call path writes on every call or renewal claim; selection does not read them.
_BOOKKEEPING = {"last_used_at", "refresh_lock_until", "updated_at"}


@dataclass(frozen=True)
class AccountSet:
    accounts: list[OAuthAccount]
    cooldowns: dict[int, list[Cooldown]]
    """Every rest of those accounts, ended ones included (a success clears them)."""


def accounts_namespace(user_id: int) -> str:
    return f"accounts:{user_id}"


def accounts_changed(session: AsyncSession, user_id: int) -> None:
    changed(session, accounts_namespace(user_id))


class CallCache:
    def __init__(self, generations: Generations, *, enabled: bool = True) -> None:
        self.generations = generations
        self._accounts: TTLCache[tuple[int, str], AccountSet] = TTLCache(
            ACCOUNTS_TTL_S if enabled else 0
        )
        self._platforms: TTLCache[str, dict[str, PlatformConfig]] = TTLCache(
            PLATFORMS_TTL_S if enabled else 0
        )
        self._routes: TTLCache[int, list[ModelRoute]] = TTLCache(ROUTES_TTL_S if enabled else 0)

    async def platforms(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> dict[str, PlatformConfig]:
        """The platform configs by id (a session is opened only to load them)."""
        (generation,) = await self.generations.read(PLATFORMS)
        return await self._platforms_at(factory, generation)

    async def platforms_and_routes(
        self, factory: async_sessionmaker[AsyncSession], user_id: int
    ) -> tuple[dict[str, PlatformConfig], list[ModelRoute]]:
        """The platform configs, and the saved routes a user's calls see (their own and the
        deployment's): one look at the generations for both."""
        platforms_generation, generation = await self.generations.read(
            PLATFORMS, model_routes.ROUTES
        )
        platforms = await self._platforms_at(factory, platforms_generation)
        found = self._routes.get(user_id, generation)
        if found is None:
            async with factory() as session:
                found = await model_routes.rows_of(session, [user_id, DEPLOYMENT])
                for row in found:
                    session.expunge(row)  # shared between sessions from now on: belongs to none
            self._routes.put(user_id, generation, found)
        return platforms, found

    async def _platforms_at(
        self, factory: async_sessionmaker[AsyncSession], generation: int
    ) -> dict[str, PlatformConfig]:
        found = self._platforms.get(PLATFORMS, generation)
        if found is None:
            async with factory() as session:
                rows = await session.scalars(select(PlatformConfig).order_by(PlatformConfig.id))
                found = {row.platform_id: row for row in rows}
                for row in found.values():
                    session.expunge(row)  # shared between sessions from now on: belongs to none
            self._platforms.put(PLATFORMS, generation, found)
        return found

    async def accounts(self, session: AsyncSession, user_id: int, platform_id: str) -> AccountSet:
        (generation,) = await self.generations.read(accounts_namespace(user_id))
        key = (user_id, platform_id)
        found = self._accounts.get(key, generation)
        if found is None:
            found = await _load_accounts(session, user_id, platform_id)
            self._accounts.put(key, generation, found)
        return found


async def _load_accounts(session: AsyncSession, user_id: int, platform_id: str) -> AccountSet:
    accounts = list(
        await session.scalars(
            select(OAuthAccount)
            .where(OAuthAccount.user_id == user_id, OAuthAccount.platform_id == platform_id)
            .order_by(OAuthAccount.id)
        )
    )
    cooldowns = await load_cooldowns(session, [a.id for a in accounts], ending_after=None)
    for account in accounts:
        session.expunge(account)  # shared between sessions from now on: belongs to none
    return AccountSet(accounts, cooldowns)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, OAuthAccount) and (obj not in session.dirty or _matters(obj)):
            changed(session, accounts_namespace(obj.user_id))
        elif isinstance(obj, PlatformConfig):
            changed(session, PLATFORMS)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and _targets(state, PlatformConfig):
        changed(state.session, PLATFORMS)


def _targets(state: ORMExecuteState, entity: type) -> bool:
    return any(m.entity is entity for m in state.all_mappers)


def _matters(obj: OAuthAccount) -> bool:
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _BOOKKEEPING)
