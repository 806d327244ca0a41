"""Refresh: reopen the console with a saved session and capture again, without the user."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from playwright.async_api import Error as PlaywrightError

from app.services.oauth.browser.capture import capture, goto, session_accepted
from app.services.oauth.browser.errors import LoginFailed
from app.services.oauth.browser.pool import BrowserPool
from app.services.oauth.browser.recipe import LoginRecipe
from app.services.oauth.browser.results import LoginResult, NeedsNewLogin
from app.services.oauth.browser.signals import NetworkRecorder, PageSignals, Redactor

POLL_S = 0.25
SETTLE_S = 1.0
"""How long the success signals must hold on the reopened console (a dead session often
shows the console for a moment before the redirect to the login page)."""


async def recapture(
    pool: BrowserPool,
    recipe: LoginRecipe,
    storage_state: dict[str, Any],
    user_agent: str | None,
    *,
    deadline_s: float | None = None,
) -> LoginResult | NeedsNewLogin:
    """Reopen the console with a saved session and capture again, without the user.

    Returns `NeedsNewLogin` when the session no longer logs in (the console shows the login
    form, a code prompt or a challenge, the success signals do not come, or the configured
    `validate_request` is refused). Raises `LoginFailed` for other failures (capture, browser).
    """
    step_timeout_s = pool.step_timeout_ms / 1000
    deadline = deadline_s if deadline_s is not None else 4 * step_timeout_s
    run_id = uuid.uuid4().hex
    async with pool.queue.slot(run_id):
        try:
            async with asyncio.timeout(deadline) as scope:
                return await _recapture(pool, recipe, storage_state, user_agent, step_timeout_s)
        except TimeoutError:
            if not scope.expired():
                raise
            return NeedsNewLogin(f"The console did not open within {deadline:g} seconds.")
        except PlaywrightError as exc:
            raise LoginFailed(
                "The browser failed while reopening the console; try again.", reason="browser"
            ) from exc


async def _recapture(
    pool: BrowserPool,
    recipe: LoginRecipe,
    storage_state: dict[str, Any],
    user_agent: str | None,
    step_timeout_s: float,
) -> LoginResult | NeedsNewLogin:
    gone = NeedsNewLogin("The saved session has ended; log in again.")
    async with pool.context(
        recipe.allowed_domains, storage_state=storage_state, user_agent=user_agent
    ) as guarded:
        recorder = NetworkRecorder(guarded.context, recipe)
        try:
            page = await guarded.context.new_page()
            signals = PageSignals(page, guarded.context, recipe, recorder, Redactor())
            try:
                await goto(guarded, page, recipe.console_url or recipe.auth_url)
            except LoginFailed:
                return gone
            loop = asyncio.get_running_loop()
            until = loop.time() + step_timeout_s
            held_since: float | None = None
            while True:
                if guarded.blocked_navigation() is not None:
                    return gone
                if (
                    await signals.login_form_visible()
                    or await signals.code_prompt() is not None
                    or await signals.challenge() is not None
                    or await signals.error_message() is not None
                ):
                    return gone
                if await signals.succeeded():
                    held_since = held_since if held_since is not None else loop.time()
                    if loop.time() - held_since >= SETTLE_S:
                        break
                else:
                    held_since = None
                if loop.time() >= until:
                    return NeedsNewLogin("The console did not show a logged-in session.")
                await asyncio.sleep(POLL_S)
            if recipe.validate_request and not await session_accepted(
                guarded, recipe.validate_request
            ):
                return gone
            captured = await capture(signals, guarded, step_timeout_s)
            return LoginResult(
                captured=captured,
                storage_state=dict(await guarded.context.storage_state()),
                user_agent=user_agent or await page.evaluate("navigator.userAgent"),
            )
        finally:
            await recorder.aclose()
