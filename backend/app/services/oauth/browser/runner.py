"""Running a browser login: the recipe's steps, the user's part, then the capture.

`start_login` returns a `LoginHandle` at once; the login runs as a task that reports each
`LoginStatus` through `on_update`. The API layer keeps the handle per authorization session to
pass the user's code (`provide_input`), open a live view, cancel, and await the result.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from playwright.async_api import Page

from app.services.oauth.browser.capture import capture, session_accepted
from app.services.oauth.browser.driver import POLL_S, RecipeDriver
from app.services.oauth.browser.errors import (
    BrowserUnavailable,
    LoginFailed,
    LoginNotWaiting,
    MissingLoginInput,
)
from app.services.oauth.browser.guard import GuardedContext
from app.services.oauth.browser.live_view import FrameSink, LiveView
from app.services.oauth.browser.pool import BrowserPool
from app.services.oauth.browser.recipe import (
    LoginRecipe,
)
from app.services.oauth.browser.results import (
    ActionReason,
    LoginResult,
    LoginStatus,
)
from app.services.oauth.browser.signals import NetworkRecorder, PageSignals, Redactor

logger = logging.getLogger(__name__)

MAX_INPUT_CHARS = 256

StatusCallback = Callable[[LoginStatus], Awaitable[None]]


class LoginHandle:
    """One browser login in progress. Create with `start_login`."""

    def __init__(
        self,
        pool: BrowserPool,
        recipe: LoginRecipe,
        credentials: Mapping[str, str],
        *,
        on_update: StatusCallback | None,
        deadline_s: float,
        step_timeout_s: float,
        run_id: str,
    ) -> None:
        self.run_id = run_id
        self.status = LoginStatus(state="queued")
        self._pool = pool
        self._recipe = recipe
        self._credentials = dict(credentials)
        self._redact = Redactor(self._credentials.values())
        self._on_update = on_update
        self._deadline_s = deadline_s
        self._step_timeout_s = step_timeout_s
        self._inputs: asyncio.Queue[str] = asyncio.Queue()
        self._guarded: GuardedContext | None = None
        self._page: Page | None = None
        self._live_view: LiveView | None = None
        self._step = ""
        self._cancel_requested = False
        self._task: asyncio.Task[LoginResult] = asyncio.get_running_loop().create_task(
            self._run(), name=f"browser-login-{run_id}"
        )
        # The outcome is also in the last status: a caller need not await `result()`.
        self._task.add_done_callback(lambda t: t.cancelled() or t.exception())

    @property
    def done(self) -> bool:
        return self._task.done()

    @property
    def blocked(self) -> tuple[str, ...]:
        return tuple(b.url for b in self._guarded.blocked) if self._guarded else ()

    async def result(self) -> LoginResult:
        """Wait for the end; raises `LoginFailed` (its `reason` and user-facing `message`)."""
        try:
            return await asyncio.shield(self._task)
        except asyncio.CancelledError:
            if not (self._task.cancelled() and self._cancel_requested):
                raise
            raise LoginFailed("The login was cancelled.", reason="cancelled") from None

    async def provide_input(self, value: str) -> None:
        """Give the code the page asks for (state needs_user_action, reason "code")."""
        if self.status.state != "needs_user_action" or self.status.reason != "code":
            raise LoginNotWaiting("This login is not waiting for a code.")
        value = value.strip()
        if not value or len(value) > MAX_INPUT_CHARS:
            raise MissingLoginInput("The code is empty or too long.")
        self._redact.add(value)
        await self._inputs.put(value)

    async def cancel(self) -> None:
        """End the login (its browser context is closed) and wait until it has ended."""
        if self._task.done():
            return
        self._cancel_requested = True
        self._task.cancel()
        await asyncio.wait([self._task])
        if self._task.cancelled():  # cancelled before it started: report it here
            await self._fail(LoginFailed("The login was cancelled.", reason="cancelled"))

    async def attach_live_view(self, sink: FrameSink) -> LiveView:
        """Stream the login page to `sink` and accept the user's input; replaces any earlier
        live view. It closes by itself when the login ends."""
        if self._page is None or self._guarded is None or self.done:
            raise LoginNotWaiting("This login has no page to show (queued or finished).")
        if self._live_view is not None:
            await self._live_view.close()
        view = await LiveView.start(self._guarded.context, self._page, sink)
        if self._page is None:  # the login ended while the view was starting
            await view.close()
            raise LoginNotWaiting("This login has ended.")
        self._live_view = view
        return view

    # --- the run ---

    async def _run(self) -> LoginResult:
        try:
            result = await self._login()
        except asyncio.CancelledError:
            if not self._cancel_requested:
                raise
            cancelled = LoginFailed("The login was cancelled.", reason="cancelled")
            await self._fail(cancelled)
            raise cancelled from None
        except LoginFailed as failed:
            await self._fail(failed)
            raise
        except BrowserUnavailable as exc:
            unavailable = LoginFailed(exc.message, reason="browser")
            await self._fail(unavailable)
            raise unavailable from exc
        except Exception as exc:
            # A browser error (a crash, a closed page) or a bug: report it, never hang.
            logger.warning(
                "browser login failed",
                extra={
                    "run_id": self.run_id,
                    "error": type(exc).__name__,
                    "detail": self._redact(str(exc).splitlines()[0] if str(exc) else ""),
                },
            )
            broken = LoginFailed(
                "The browser failed during the login; try again.", reason="browser"
            )
            await self._fail(broken)
            raise broken from exc
        await self._set(LoginStatus(state="succeeded", blocked=self.blocked))
        return result

    async def _login(self) -> LoginResult:
        async with self._pool.queue.slot(self.run_id, on_wait=self._on_queue):
            try:
                async with asyncio.timeout(self._deadline_s) as scope:
                    return await self._login_in_browser()
            except TimeoutError:
                if not scope.expired():
                    raise
                raise LoginFailed(
                    f"The login did not finish within {self._deadline_s:g} seconds.",
                    reason="deadline",
                ) from None

    async def _login_in_browser(self) -> LoginResult:
        recipe = self._recipe
        async with self._pool.context(recipe.allowed_domains) as guarded:
            self._guarded = guarded
            recorder = NetworkRecorder(guarded.context, recipe)
            try:
                page = await guarded.context.new_page()
                self._page = page
                signals = PageSignals(page, guarded.context, recipe, recorder, self._redact)
                driver = RecipeDriver(self, recipe, self._credentials, self._step_timeout_s)
                await driver.drive(signals, guarded)
                await self.set_running("capture")
                captured = await capture(signals, guarded, self._step_timeout_s)
                if recipe.validate_request and not await session_accepted(
                    guarded, recipe.validate_request
                ):
                    raise LoginFailed(
                        "Logged in, but the platform did not accept the captured session.",
                        reason="session",
                    )
                return LoginResult(
                    captured=captured,
                    storage_state=dict(await guarded.context.storage_state()),
                    user_agent=await page.evaluate("navigator.userAgent"),
                )
            finally:
                self._page = None
                if self._live_view is not None:
                    await self._live_view.close()
                await recorder.aclose()

    async def next_input(self, signals: PageSignals, still_asking: str | None) -> str | None:
        """The next value given through `provide_input`; None when the page stops asking."""
        while True:
            try:
                return await asyncio.wait_for(self._inputs.get(), timeout=POLL_S * 2)
            except TimeoutError:
                pass
            if still_asking is not None and not await signals.visible(still_asking):
                return None
            if await signals.succeeded():
                return None

    # --- statuses ---

    async def _on_queue(self, position: int) -> None:
        await self._set(LoginStatus(state="queued", queue_position=position))

    async def set_running(self, step: str) -> None:
        self._step = step
        await self._set(LoginStatus(state="running", step=step, blocked=self.blocked))

    async def ask(
        self,
        signals: PageSignals,
        reason: ActionReason,
        prompt: str | None,
        *,
        code_kind: Literal["sms", "email", "code"] | None = None,
    ) -> None:
        while not self._inputs.empty():  # a code given for an earlier prompt is stale
            self._inputs.get_nowait()
        await self._set(
            LoginStatus(
                state="needs_user_action",
                step=self._step,
                reason=reason,
                prompt=prompt,
                code_kind=code_kind if reason == "code" else None,
                screenshot_png=await signals.screenshot(),
                blocked=self.blocked,
            )
        )

    async def _fail(self, failure: LoginFailed) -> None:
        failure.message = self._redact(failure.message)
        failure.args = (failure.message,)
        await self._set(
            LoginStatus(
                state="failed",
                step=self._step or None,
                message=failure.message,
                failure_reason=failure.reason,
                blocked=self.blocked,
            )
        )

    async def _set(self, status: LoginStatus) -> None:
        self.status = status
        logger.info(
            "browser login status",
            extra={
                "run_id": self.run_id,
                "state": status.state,
                "step": status.step,
                "reason": status.reason or status.failure_reason,
                "queue_position": status.queue_position,
            },
        )
        if self._on_update is None:
            return
        try:
            await self._on_update(status)
        except Exception:
            logger.exception("browser login status callback failed", extra={"run_id": self.run_id})


def start_login(
    pool: BrowserPool,
    recipe: LoginRecipe,
    credentials: Mapping[str, str],
    *,
    on_update: StatusCallback | None = None,
    deadline_s: float | None = None,
    step_timeout_ms: int | None = None,
    run_id: str | None = None,
) -> LoginHandle:
    """Start a browser login in the background (call from a running event loop).

    `credentials` holds what the user typed, by name (`username`, `password`, `phone`,
    `email`; `code` when known up front). `deadline_s` (default: the pool's, from
    BROWSER_LOGIN_DEADLINE) counts from the moment the login leaves the queue; the caller
    cancels a login still queued when its authorization session expires. Raises
    `MissingLoginInput` when the recipe needs an input not given.
    """
    given = {name for name, value in credentials.items() if value}
    missing = sorted(recipe.required_inputs() - given)
    if missing:
        raise MissingLoginInput("This login needs: " + ", ".join(missing) + ".")
    return LoginHandle(
        pool,
        recipe,
        credentials,
        on_update=on_update,
        deadline_s=deadline_s if deadline_s is not None else pool.login_deadline_s,
        step_timeout_s=(step_timeout_ms or pool.step_timeout_ms) / 1000,
        run_id=run_id or uuid.uuid4().hex,
    )


async def run_login(
    pool: BrowserPool,
    recipe: LoginRecipe,
    credentials: Mapping[str, str],
    *,
    on_update: StatusCallback | None = None,
    deadline_s: float | None = None,
) -> LoginResult:
    """`start_login` and wait for the result (for logins that need no user input)."""
    handle = start_login(pool, recipe, credentials, on_update=on_update, deadline_s=deadline_s)
    try:
        return await handle.result()
    except asyncio.CancelledError:
        await handle.cancel()
        raise
