"""Reading the login page: is it done, did it refuse, does it ask the user for something.

Every check looks once and never waits: the runner polls them, so a navigation in between only
makes a check say "not yet".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from typing import Any

from playwright.async_api import BrowserContext, Page, Response
from playwright.async_api import Error as PlaywrightError

from app.services.oauth.browser.recipe import CodePrompt, LoginRecipe

MAX_MESSAGE_CHARS = 300


class Redactor:
    """Removes what the user typed (password, code, ...) from text shown or logged."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str) -> None:
        self._secrets.update(v for v in values if v and len(v) >= 3)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


def cookie_matches(name: str, wanted: Iterable[str]) -> bool:
    """`name` is one of `wanted`, or a split part of one (`token.0`, `token.1`)."""
    for base in wanted:
        if name == base:
            return True
        head, dot, tail = name.rpartition(".")
        if dot and head == base and tail.isdigit():
            return True
    return False


def json_field(document: Any, path: str) -> str | None:
    """The value at a dotted path (`data.items.0.token`), as text; None when absent."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


class NetworkRecorder:
    """Watches the context's responses for the recipe's network signals and captures."""

    def __init__(self, context: BrowserContext, recipe: LoginRecipe) -> None:
        self._success = _compile(recipe.success.request_url_pattern)
        header = recipe.capture.request_header
        self._header = (re.compile(header.url_pattern), header.header.lower()) if header else None
        body = recipe.capture.response_json
        self._body = (re.compile(body.url_pattern), body.field) if body else None
        self.authenticated_request_seen = False
        self.header_value: str | None = None
        self.response_value: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        context.on("response", self._on_response)

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            return
        url = response.url
        if self._success is not None and self._success.search(url):
            self.authenticated_request_seen = True
        if self._header is not None:
            pattern, name = self._header
            if pattern.search(url):
                self._spawn(self._read_header(response, name))
        if self._body is not None:
            pattern, path = self._body
            if pattern.search(url):
                self._spawn(self._read_body(response, path))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_header(self, response: Response, name: str) -> None:
        try:
            value = (await response.request.all_headers()).get(name)
        except PlaywrightError:
            return
        if value:
            self.header_value = value

    async def _read_body(self, response: Response, path: str) -> None:
        try:
            value = json_field(await response.json(), path)
        except (PlaywrightError, ValueError):
            return
        if value is not None:
            self.response_value = value

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _compile(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(pattern) if pattern else None


class PageSignals:
    """The recipe's signals, read from one page of a running login."""

    def __init__(
        self,
        page: Page,
        context: BrowserContext,
        recipe: LoginRecipe,
        recorder: NetworkRecorder,
        redact: Redactor,
    ) -> None:
        self.page = page
        self.context = context
        self.recipe = recipe
        self.recorder = recorder
        self.redact = redact

    async def visible(self, selector: str) -> bool:
        try:
            return await self.page.locator(selector).first.is_visible()
        except PlaywrightError:
            return False

    async def error_message(self) -> str | None:
        """The text of a visible error element (e.g. a wrong-password message)."""
        for selector in self.recipe.error_selectors:
            try:
                locator = self.page.locator(selector)
                for index in range(min(await locator.count(), 5)):
                    element = locator.nth(index)
                    if not await element.is_visible():
                        continue
                    text = " ".join((await element.inner_text()).split())
                    if text:
                        return self.redact(text)[:MAX_MESSAGE_CHARS]
            except PlaywrightError:
                continue
        return None

    async def succeeded(self) -> bool:
        rule = self.recipe.success
        if rule.url_pattern and not re.search(rule.url_pattern, self.page.url):
            return False
        if rule.request_url_pattern and not self.recorder.authenticated_request_seen:
            return False
        if rule.cookies:
            try:
                names = {c["name"] for c in await self.context.cookies() if c.get("value")}
            except PlaywrightError:
                return False
            if not all(any(cookie_matches(n, [w]) for n in names) for w in rule.cookies):
                return False
        if rule.element and not await self.visible(rule.element):
            return False
        if rule.local_storage_key:
            try:
                value = await self.page.evaluate(
                    "key => window.localStorage.getItem(key)", rule.local_storage_key
                )
            except PlaywrightError:
                return False
            if not value:
                return False
        return True

    async def challenge(self) -> str | None:
        for selector in self.recipe.challenge_selectors:
            if await self.visible(selector):
                return selector
        return None

    async def code_prompt(self) -> CodePrompt | None:
        for prompt in self.recipe.code_prompts:
            if await self.visible(prompt.selector):
                return prompt
        return None

    async def prompt_text(self, prompt: CodePrompt) -> str | None:
        """The platform's words for what it asks (its page's, else the recipe's), if any."""
        text = prompt.prompt
        if prompt.prompt_selector:
            try:
                element = self.page.locator(prompt.prompt_selector).first
                if await element.is_visible():
                    shown = " ".join((await element.inner_text()).split())
                    if shown:
                        text = self.redact(shown)[:MAX_MESSAGE_CHARS]
            except PlaywrightError:
                pass
        return text

    async def login_form_visible(self) -> bool:
        for selector in self.recipe.login_form_selectors:
            if await self.visible(selector):
                return True
        return False

    async def screenshot(self) -> bytes | None:
        try:
            return await self.page.screenshot(type="png", timeout=5_000)
        except PlaywrightError:
            return None
