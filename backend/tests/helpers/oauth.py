"""Binding by OAuth in tests: the user's browser at the authorization server, the callback it
brings back, and one round of the device poller, due at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update

from app.api.deps import app_context
from app.core.database import utcnow
from app.models import AuthorizationSession
from app.services.oauth import device_sessions

CALLBACK = "http://localhost:8000/api/v1/oauth/callback"  # the default OAUTH_CALLBACK_URL


def follow_as_browser(auth_url: str) -> str:
    """The user's browser at the authorization server: returns where it is sent back to."""
    response = httpx.get(auth_url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def callback(client: httpx.AsyncClient, location: str) -> httpx.Response:
    return await client.get("/api/v1/oauth/callback?" + urlsplit(location).query)


async def poll_now(app: Any, state: str) -> None:
    """Make the session due and run one round of the device poller."""
    async with app_context(app).factory() as session:
        await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == state)
            .values(next_poll_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    await device_sessions.poll_device_sessions(app_context(app))
