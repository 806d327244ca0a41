"""Taking the credential away once logged in: the capture recipe and the session check."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import Error as PlaywrightError

from app.services.oauth.browser.errors import LoginFailed
from app.services.oauth.browser.guard import GuardedContext, url_allowed
from app.services.oauth.browser.recipe import ApiKeyCapture, ValidateRequest
from app.services.oauth.browser.results import Captured
from app.services.oauth.browser.signals import PageSignals, cookie_matches

POLL_S = 0.2


async def capture(signals: PageSignals, guarded: GuardedContext, wait_s: float) -> Captured:
    """Collect what the recipe names; waits up to `wait_s` for values still to come.

    Raises `LoginFailed(reason="capture")` when something configured is not found.
    """
    recipe = signals.recipe.capture
    recorder = signals.recorder
    loop = asyncio.get_running_loop()
    until = loop.time() + wait_s
    state: dict[str, Any] = {}
    while True:
        state = dict(await guarded.context.storage_state())
        local_storage = _local_storage(state, recipe.local_storage)
        missing = [key for key in recipe.local_storage if key not in local_storage]
        if recipe.request_header and recorder.header_value is None:
            missing.append(f"the {recipe.request_header.header} header of a console request")
        if recipe.response_json and recorder.response_value is None:
            missing.append(f"{recipe.response_json.field} in a console response")
        cookies = tuple(c for c in state["cookies"] if cookie_matches(c["name"], recipe.cookies))
        names = {c["name"] for c in cookies if c.get("value")}
        missing += [
            f"cookie {name}"
            for name in recipe.cookies
            if not any(cookie_matches(n, [name]) for n in names)
        ]
        if not missing:
            break
        if loop.time() >= until:
            raise LoginFailed(
                "Logged in, but the credential was not found: missing " + ", ".join(missing) + ".",
                reason="capture",
            )
        await asyncio.sleep(POLL_S)
    api_key = None
    if recipe.api_key is not None:
        api_key = await read_api_key(signals, guarded, recipe.api_key, wait_s)
    return Captured(
        cookies=tuple(dict(c) for c in cookies),
        local_storage=local_storage,
        request_header=recorder.header_value if recipe.request_header else None,
        response_field=recorder.response_value if recipe.response_json else None,
        api_key=api_key,
    )


def _local_storage(state: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for origin in state.get("origins", []):
        for item in origin.get("localStorage", []):
            if item["name"] in keys and item["value"] and item["name"] not in found:
                found[item["name"]] = item["value"]
    return found


async def read_api_key(
    signals: PageSignals, guarded: GuardedContext, spec: ApiKeyCapture, wait_s: float
) -> str:
    """Open the console's key page and read a key, clicking "create" when none is usable."""
    page = signals.page
    await goto(guarded, page, spec.page_url)
    loop = asyncio.get_running_loop()
    until = loop.time() + wait_s
    clicked = False
    while True:
        key = await _shown_key(signals, spec)
        if key is not None:
            return key
        if spec.create_selector and not clicked and await signals.visible(spec.create_selector):
            await page.locator(spec.create_selector).first.click()
            clicked = True
            until = loop.time() + wait_s
        if loop.time() >= until:
            action = " after clicking create" if clicked else ""
            raise LoginFailed(
                f"Logged in, but the API key page showed no usable key{action}.", reason="capture"
            )
        await asyncio.sleep(POLL_S)


async def _shown_key(signals: PageSignals, spec: ApiKeyCapture) -> str | None:
    locator = signals.page.locator(spec.key_selector)
    try:
        for index in range(min(await locator.count(), 20)):
            element = locator.nth(index)
            if spec.attribute:
                value = await element.get_attribute(spec.attribute)
            else:
                value = await element.evaluate(
                    "e => ('value' in e && typeof e.value === 'string') ? e.value : e.textContent"
                )
            value = (value or "").strip()
            if value and (spec.key_pattern is None or re.search(spec.key_pattern, value)):
                return str(value)
    except PlaywrightError:
        return None
    return None


async def goto(guarded: GuardedContext, page: Any, url: str) -> None:
    """Navigate, turning a refused destination into `LoginFailed(reason="blocked")`."""
    if not url_allowed(url, guarded.allowed_domains):
        guarded.record(url, navigation=True)
        raise_blocked(guarded)
    try:
        await page.goto(url, wait_until="domcontentloaded")
    except PlaywrightError:
        if guarded.blocked_navigation() is not None:
            raise_blocked(guarded)
        raise


def raise_blocked(guarded: GuardedContext) -> None:
    blocked = guarded.blocked_navigation()
    host = blocked.host if blocked else "another site"
    raise LoginFailed(
        f"The login page tried to open {host}, which is not among this platform's allowed "
        "domains; the browser blocked it.",
        reason="blocked",
    )


async def session_accepted(guarded: GuardedContext, spec: ValidateRequest) -> bool:
    """Whether a cheap authenticated request with the context's cookies gets `expect_status`."""
    if not url_allowed(spec.url, guarded.allowed_domains):
        return False
    try:
        response = await guarded.context.request.fetch(
            spec.url, method=spec.method, max_redirects=0, fail_on_status_code=False
        )
    except PlaywrightError:
        return False
    try:
        return response.status == spec.expect_status
    finally:
        await response.dispose()
