"""Driving a login page through its recipe: each step, and what the page asks on the way (an
error message, a CAPTCHA, a verification code, a page the recipe does not know), which the user
answers through the login's handle (`runner.LoginHandle`)."""

from __future__ import annotations

import asyncio
import re
from typing import Literal, Protocol

from app.services.oauth.browser.capture import goto, raise_blocked
from app.services.oauth.browser.errors import LoginFailed
from app.services.oauth.browser.guard import GuardedContext
from app.services.oauth.browser.recipe import (
    ClickStep,
    CodePrompt,
    FillStep,
    GotoStep,
    LoginRecipe,
    Step,
    WaitForStep,
)
from app.services.oauth.browser.results import ActionReason
from app.services.oauth.browser.signals import PageSignals

POLL_S = 0.25
OPTIONAL_STEP_WAIT_S = 2.0
CODE_RESUBMIT_GRACE_S = 5.0


class LoginUser(Protocol):
    """The user's side of a login: told each step, asked what only they can do or know."""

    async def set_running(self, step: str) -> None: ...

    async def ask(
        self,
        signals: PageSignals,
        reason: ActionReason,
        prompt: str | None,
        *,
        code_kind: Literal["sms", "email", "code"] | None = None,
    ) -> None: ...

    async def next_input(self, signals: PageSignals, still_asking: str | None) -> str | None: ...


def describe(step: Step) -> str:
    """The step as a code the page words in its language (`flow.step.<code>` in the locales)."""
    if isinstance(step, GotoStep):
        return "open_page"
    if isinstance(step, FillStep):
        return f"fill_{step.value_from}"
    if isinstance(step, ClickStep):
        return "click"
    return "wait"


class RecipeDriver:
    """One login page, taken through its recipe."""

    def __init__(
        self,
        user: LoginUser,
        recipe: LoginRecipe,
        credentials: dict[str, str],
        step_timeout_s: float,
    ) -> None:
        self._user = user
        self._recipe = recipe
        self._credentials = credentials  # shared: a code given up front is used once
        self._step_timeout_s = step_timeout_s
        self._step = ""

    async def _running(self, step: str) -> None:
        self._step = step
        await self._user.set_running(step)

    async def drive(self, signals: PageSignals, guarded: GuardedContext) -> None:
        """Take the page through the recipe's steps until the login succeeded."""
        for step in self._recipe.steps:
            await self._running(describe(step))
            if isinstance(step, GotoStep):
                await goto(guarded, signals.page, step.url)
                continue
            outcome = await self._watch(signals, guarded, step)
            if outcome == "success":
                return
            if outcome == "skip":
                continue
            if isinstance(step, FillStep):
                value = await self._value(step, signals)
                await signals.page.locator(step.selector).first.fill(value)
            elif isinstance(step, ClickStep):
                await signals.page.locator(step.selector).first.click()
        await self._running("wait_login")
        await self._watch(signals, guarded, None)

    async def _value(self, step: FillStep, signals: PageSignals) -> str:
        if step.value_from != "code":
            return self._credentials[step.value_from]
        if self._credentials.get("code"):
            return self._credentials.pop("code")
        await self._user.ask(signals, "code", None, code_kind="code")
        code = await self._user.next_input(signals, still_asking=None)
        await self._user.set_running(self._step)
        return code or ""

    async def _watch(
        self, signals: PageSignals, guarded: GuardedContext, step: Step | None
    ) -> Literal["ready", "success", "skip"]:
        """Poll until the step's target is there or the login succeeded, handling what the page
        asks on the way. Raises `LoginFailed` for an error message or a blocked navigation."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        asked_user = False
        answered: dict[str, float] = {}
        while True:
            if signals.page.is_closed():
                raise LoginFailed("The login page was closed.", reason="browser")
            guarded.check_page_url(signals.page.url)
            if guarded.blocked_navigation() is not None:
                raise_blocked(guarded)
            message = await signals.error_message()
            if message:
                raise LoginFailed(message, reason="rejected")
            if await signals.succeeded():
                return "success"
            if await self._handle_challenge(signals, guarded):
                started, asked_user = loop.time(), False
                continue
            prompt = await signals.code_prompt()
            if prompt is not None and loop.time() - answered.get(prompt.selector, -1e9) > min(
                CODE_RESUBMIT_GRACE_S, self._step_timeout_s
            ):
                await self._answer_code(signals, prompt)
                answered[prompt.selector] = loop.time()
                started, asked_user = loop.time(), False
                continue
            if step is not None and await self._ready(signals, step):
                if asked_user:
                    await self._user.set_running(self._step)
                return "ready"
            waited = loop.time() - started
            if isinstance(step, FillStep | ClickStep) and step.optional:
                if waited >= min(OPTIONAL_STEP_WAIT_S, self._step_timeout_s):
                    return "skip"
            elif not asked_user and waited >= self._step_timeout_s:
                await self._user.ask(
                    signals,
                    "unknown_page",
                    "The page is not what the login expected. Finish the login in the live "
                    "view (or the browser window); it continues once you are logged in.",
                )
                asked_user = True
            await asyncio.sleep(POLL_S)

    async def _ready(self, signals: PageSignals, step: Step) -> bool:
        if isinstance(step, WaitForStep) and step.url_pattern:
            return re.search(step.url_pattern, signals.page.url) is not None
        selector = step.selector if isinstance(step, FillStep | ClickStep | WaitForStep) else None
        return selector is not None and await signals.visible(selector)

    async def _handle_challenge(self, signals: PageSignals, guarded: GuardedContext) -> bool:
        selector = await signals.challenge()
        if selector is None:
            return False
        await self._user.ask(
            signals,
            "challenge",
            "The page shows a check (CAPTCHA, slider or QR code) that only you can complete: "
            "solve it in the live view or the browser window.",
        )
        while await signals.visible(selector):
            if guarded.blocked_navigation() is not None:
                raise_blocked(guarded)
            if await signals.succeeded():
                break
            await asyncio.sleep(POLL_S)
        await self._user.set_running(self._step)
        return True

    async def _answer_code(self, signals: PageSignals, prompt: CodePrompt) -> None:
        kind = prompt.kind
        await self._user.ask(signals, "code", await signals.prompt_text(prompt), code_kind=kind)
        code = await self._user.next_input(signals, still_asking=prompt.selector)
        if code is None:  # the page moved on without the code (the user typed it in the view)
            await self._user.set_running(self._step)
            return
        await self._running("submit_code")
        field = signals.page.locator(prompt.input_selector or prompt.selector).first
        await field.fill(code)
        if prompt.submit_selector:
            await signals.page.locator(prompt.submit_selector).first.click()
        else:
            await field.press("Enter")
