"""A browser login reads the database for the user's code only while its page asks for one, and
is woken at once when the code is stored on its own worker: a queued or running login polls
nothing."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import timedelta

import pytest

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import AuthorizationSession, User
from app.services.oauth import browser_sessions
from app.services.oauth.browser_sessions import BrowserLogins

pytestmark = pytest.mark.serial  # it times how soon a code is relayed


class FakeHandle:
    """The running login, as the relay sees it: codes given to it, and whether it ended."""

    def __init__(self) -> None:
        self.done = False
        self.inputs: list[str] = []
        self.given = asyncio.Event()
        self.cancelled = False

    async def provide_input(self, value: str) -> None:
        self.inputs.append(value)
        self.given.set()

    async def cancel(self) -> None:
        self.cancelled = self.done = True


async def test_the_relay_reads_nothing_until_asked_and_is_woken_by_the_code(app, monkeypatch):
    ctx = app_context(app)
    logins: BrowserLogins = ctx.browser_logins
    state = secrets.token_urlsafe(24)
    async with session_scope(ctx.factory) as session:
        user = User(username=f"relay-{secrets.token_hex(4)}", password_hash=None)
        session.add(user)
        await session.flush()
        session.add(AuthorizationSession(
            state=state, user_id=user.id, platform_id="qwen", account_name="a", method="browser",
            status="needs_user_action", expires_at=utcnow() + timedelta(minutes=5),
            detail={"reason": "code"},
        ))  # fmt: skip
    reads = 0
    take = logins._take_input

    async def counted(state_: str) -> str | None:
        nonlocal reads
        reads += 1
        return await take(state_)

    monkeypatch.setattr(logins, "_take_input", counted)
    monkeypatch.setattr(browser_sessions, "INPUT_POLL_S", 30.0)  # only a wake-up can be quick
    handle = FakeHandle()
    logins._asked[state], logins._given[state] = asyncio.Event(), asyncio.Event()
    relay = asyncio.create_task(
        logins._relay_input(state, handle, utcnow() + timedelta(minutes=5))  # type: ignore[arg-type]
    )
    await asyncio.sleep(1.0)  # queued, then running: nothing read
    assert reads == 0
    logins._asked[state].set()  # the page asks for a code
    await asyncio.sleep(0.2)
    assert reads == 1  # one look, then it waits to be woken
    async with session_scope(ctx.factory) as session:
        owner = await session.get(AuthorizationSession, state)
        submitter = await session.get(User, owner.user_id)
        started = time.monotonic()
        await browser_sessions.submit_input(ctx, session, submitter, state, "123456")
    await asyncio.wait_for(handle.given.wait(), 5)
    assert handle.inputs == ["123456"]
    assert time.monotonic() - started < 1  # woken, not found by the 30 s poll
    handle.done = True
    logins._asked[state].set()
    await asyncio.wait_for(relay, 5)
