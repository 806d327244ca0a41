"""Stored responses: each belongs to the user whose call made it; another user's id, like an
unknown or expired one, is not found. Expired rows of a user go when that user stores another."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import session_scope, utcnow
from app.core.errors import NotFound
from app.models import StoredResponse


class ResponseStore:
    def __init__(self, factory: async_sessionmaker[AsyncSession], retention_days: int) -> None:
        self.factory = factory
        self.retention = timedelta(days=retention_days)

    async def save(
        self, user_id: int, response: dict[str, Any], input_items: list[dict[str, Any]]
    ) -> None:
        now = utcnow()
        async with session_scope(self.factory) as session:
            await session.execute(
                delete(StoredResponse).where(
                    StoredResponse.user_id == user_id, StoredResponse.expires_at <= now
                )
            )
            session.add(
                StoredResponse(
                    id=response["id"],
                    user_id=user_id,
                    response=response,
                    input_items=input_items,
                    created_at=now,
                    expires_at=now + self.retention,
                )
            )

    async def get(self, user_id: int, response_id: str) -> StoredResponse:
        async with session_scope(self.factory) as session:
            found = await session.scalar(
                select(StoredResponse).where(
                    StoredResponse.id == response_id,
                    StoredResponse.user_id == user_id,
                    StoredResponse.expires_at > utcnow(),
                )
            )
        if found is None:
            raise NotFound(f"No response found with id '{response_id}'.")
        return found

    async def delete(self, user_id: int, response_id: str) -> None:
        await self.get(user_id, response_id)
        async with session_scope(self.factory) as session:
            await session.execute(
                delete(StoredResponse).where(
                    StoredResponse.id == response_id, StoredResponse.user_id == user_id
                )
            )

    async def conversation(self, user_id: int, response_id: str) -> list[dict[str, Any]]:
        """The items a continuation of `response_id` starts from: its input, then its output."""
        found = await self.get(user_id, response_id)
        return [*found.input_items, *found.response.get("output", [])]
