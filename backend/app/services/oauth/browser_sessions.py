"""Binding an account by browser login: authorization sessions driven by the browser engine.

The worker that starts a login runs it to the end; its progress (queue position, step, the
question the page asks, a screenshot) is written to the authorization session row, so any
worker can answer `GET /sessions/{state}`. A code the user types is written to the row too
(encrypted) and picked up by the running login, so `POST /sessions/{state}/input` may land on
any worker or instance: the login looks for it only while its page asks for one, woken at once
when the code lands on its own worker. A queued or running login reads nothing from the
database; a cancelled one (`DELETE /sessions/{state}`) stops at its next progress update. The
live view streams from the worker that holds the browser. A user has at most
BROWSER_MAX_PER_USER logins running or queued.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import session_scope, utcnow
from app.core.errors import Conflict, NotFound, TooManyRequests
from app.models import AuthorizationSession, PlatformConfig, User
from app.schemas.oauth import InitiateRequest, InitiateResult
from app.services.context import AppContext
from app.services.oauth import authorization_sessions
from app.services.oauth.browser_automation import (
    BrowserPool,
    LoginFailed,
    LoginHandle,
    LoginStatus,
    start_login,
)
from app.services.oauth.browser_credentials import bound_from, recipe_for

logger = logging.getLogger(__name__)

INPUT_POLL_S = 0.3
LOGIN_INPUTS = ("username", "password", "phone", "email", "code")


def _aad(state: str) -> str:
    return f"authorization_sessions.secret:{state}"


class BrowserLogins:
    """The browser logins this process runs, by authorization state (owned by the lifespan)."""

    def __init__(self, ctx: AppContext, pool: BrowserPool) -> None:
        self.ctx = ctx
        self.pool = pool
        self._handles: dict[str, LoginHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._asked: dict[str, asyncio.Event] = {}
        """Set while a login's page waits for a code."""
        self._given: dict[str, asyncio.Event] = {}
        """Set when a code for the login was stored by this worker."""
        self._starting = asyncio.Lock()

    def handle(self, state: str) -> LoginHandle | None:
        return self._handles.get(state)

    def unavailable_methods(self) -> dict[str, str]:
        """`{"browser": why}` where no Chromium can be had for browser logins, else nothing."""
        missing = self.pool.missing()
        return {"browser": missing} if missing else {}

    async def start(
        self, user: User, platform: PlatformConfig, request: InitiateRequest
    ) -> InitiateResult:
        recipe = recipe_for(platform)
        credentials = {k: v for k, v in request.credentials.items() if k in LOGIN_INPUTS}
        state = secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(
            seconds=max(self.ctx.settings.oauth_state_expire, self.pool.login_deadline_s)
        )
        # Counted and recorded under one lock: this process's concurrent starts cannot both
        # take the last place.
        async with self._starting:
            await self._within_user_cap(user)
            # Committed before the login starts: its progress updates write to this row.
            async with session_scope(self.ctx.factory) as session:
                session.add(
                    AuthorizationSession(
                        state=state, user_id=user.id, platform_id=platform.platform_id,
                        account_name=request.account_name, method="browser", status="pending",
                        expires_at=expires_at, detail={"step": "queued"},
                    )
                )  # fmt: skip
        try:
            handle = start_login(
                self.pool, recipe, credentials, on_update=lambda s: self._record(state, s)
            )
        except Exception:
            await authorization_sessions.fail(self.ctx, state, failure="The login did not start.")
            raise
        self._handles[state] = handle
        self._asked[state], self._given[state] = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            self._follow(state, handle, platform, user.id, request.account_name, expires_at)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return InitiateResult(state=state)

    async def _within_user_cap(self, user: User) -> None:
        cap = self.ctx.settings.browser_max_per_user
        async with self.ctx.factory() as session:
            live = await session.scalar(
                select(func.count()).where(
                    AuthorizationSession.user_id == user.id,
                    AuthorizationSession.method == "browser",
                    AuthorizationSession.status.in_(("pending", "needs_user_action")),
                    AuthorizationSession.expires_at > utcnow(),
                )
            )
        if (live or 0) >= cap:
            raise TooManyRequests(
                f"You have {cap} browser login(s) running or queued already: finish or cancel "
                "one (DELETE /api/v1/oauth/sessions/{state}) first.",
                retry_after_s=30,
            )

    async def cancel_here(self, state: str) -> None:
        """Stop the login if it runs in this process (elsewhere it stops at its next update)."""
        handle = self._handles.get(state)
        if handle is not None:
            await handle.cancel()

    def notify_input(self, state: str) -> None:
        """A code for `state` was stored: the login, if it runs here, takes it at once."""
        if state in self._given:
            self._given[state].set()

    async def close(self) -> None:
        for handle in list(self._handles.values()):
            await handle.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _record(self, state: str, status: LoginStatus) -> None:
        """Write a login's progress to its session (never a secret: statuses hold none)."""
        if status.finished:
            return  # `_follow` records the ending, with the account
        detail: dict[str, Any] = {
            "step": status.step or status.state,
            "queue_position": status.queue_position,
            "reason": status.reason,
            "prompt": status.prompt,
            "code_kind": status.code_kind,
            "blocked": list(status.blocked),
        }
        if status.screenshot_png:  # the page may show personal data: encrypted like a secret
            detail["screenshot"] = self.ctx.store.cipher.encrypt(
                base64.b64encode(status.screenshot_png).decode(), _screenshot_aad(state)
            )
        async with session_scope(self.ctx.factory) as session:
            row = await session.get(AuthorizationSession, state)
            live = row is not None and row.status in ("pending", "needs_user_action")
            if row is not None and live:
                row.status = (
                    "needs_user_action" if status.state == "needs_user_action" else "pending"
                )
                row.detail = detail
        handle = self._handles.get(state)
        if not live and handle is not None:  # cancelled (or ended) meanwhile
            await handle.cancel()
        elif (
            status.state == "needs_user_action" and status.reason == "code" and state in self._asked
        ):
            self._asked[state].set()

    async def _follow(
        self,
        state: str,
        handle: LoginHandle,
        platform: PlatformConfig,
        user_id: int,
        name: str,
        expires_at: datetime,
    ) -> None:
        watcher = asyncio.create_task(self._relay_input(state, handle, expires_at))
        try:
            result = await handle.result()
        except LoginFailed as exc:
            await authorization_sessions.fail(self.ctx, state, failure=exc.message)
        except Exception:  # the engine failed unexpectedly: the session must still end
            logger.exception("browser login for %s failed", platform.platform_id)
            await authorization_sessions.fail(self.ctx, state, failure="The browser login failed.")
        else:
            bound = bound_from(result)
            # A captured key or token is proven with the platform before it is saved; a login
            # that captured only session cookies has nothing the API would accept.
            await authorization_sessions.complete(
                self.ctx, state, platform, user_id, name, "browser", bound,
                validate=bound.secrets.access_token is not None,
            )  # fmt: skip
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self._handles.pop(state, None)
            self._asked.pop(state, None)
            self._given.pop(state, None)

    async def _relay_input(self, state: str, handle: LoginHandle, expires_at: datetime) -> None:
        """Deliver codes typed by the user (stored on the session row) to the running login,
        looking only while its page asks for one; cancel the login when its session expires."""
        asked, given = self._asked[state], self._given[state]
        try:
            async with asyncio.timeout((expires_at - utcnow()).total_seconds()):
                while not handle.done:
                    await asked.wait()
                    if handle.done:
                        return
                    code = await self._take_input(state)
                    if code is None:  # stored on another worker: looked for again soon
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(given.wait(), INPUT_POLL_S)
                        given.clear()
                        continue
                    asked.clear()
                    await handle.provide_input(code)
        except TimeoutError:
            await handle.cancel()

    async def _take_input(self, state: str) -> str | None:
        async with session_scope(self.ctx.factory) as session:
            row = await session.get(AuthorizationSession, state)
            if row is None or not row.secret:
                return None
            sealed, row.secret = row.secret, None
        code: str = orjson.loads(self.ctx.store.cipher.decrypt(sealed, _aad(state)))["input"]
        return code


async def submit_input(
    ctx: AppContext, session: AsyncSession, user: User, state: str, code: str
) -> None:
    """Give the code the page asks for (SMS or e-mail) to the running login, on any worker."""
    row = await session.scalar(
        select(AuthorizationSession).where(
            AuthorizationSession.state == state, AuthorizationSession.user_id == user.id
        )
    )
    if row is None or row.method != "browser":
        raise NotFound("No such browser login.")
    if row.status != "needs_user_action" or (row.detail or {}).get("reason") != "code":
        raise Conflict("This login is not waiting for a code.")
    row.secret = ctx.store.cipher.encrypt(orjson.dumps({"input": code}).decode(), _aad(state))
    await session.commit()  # before the login looks for it
    ctx.browser_logins.notify_input(state)


async def screenshot(ctx: AppContext, session: AsyncSession, user: User, state: str) -> bytes:
    row = await session.scalar(
        select(AuthorizationSession).where(
            AuthorizationSession.state == state, AuthorizationSession.user_id == user.id
        )
    )
    sealed = (row.detail or {}).get("screenshot") if row is not None else None
    if not sealed:
        raise NotFound("This authorization has no screenshot.")
    return base64.b64decode(ctx.store.cipher.decrypt(sealed, _screenshot_aad(state)))


def _screenshot_aad(state: str) -> str:
    return f"authorization_sessions.screenshot:{state}"
