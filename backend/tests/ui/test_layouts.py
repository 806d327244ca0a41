"""Every view on a phone (390×844) and a desktop (1280×800), in English and in Chinese, in real
Chromium: nothing past the window's edge (tables become stacked cards on a phone), no button or
header squeezed narrower than its text, every word in the page's language, Chinese drawn with
glyphs. The views are the menu's links as the page draws them for an administrator, so a new
view is checked as soon as it is in the menu; the signed-out views are listed here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.consoles import PASSWORD as CONSOLE_PASSWORD
from tests.fakes.consoles import USERNAME as CONSOLE_USERNAME
from tests.helpers.layout import (
    CJK,
    assert_cjk_glyphs,
    overflow_problems,
    shown_texts,
    squeeze_problems,
)
from tests.helpers.pages import assert_not_blank, wait_rendered
from tests.ui.conftest import DESKTOP, PHONE, Service, sign_in_as

pytestmark = pytest.mark.browser

SIZES = {"phone": PHONE, "desktop": DESKTOP}
LANGS = {"en": "en-GB", "zh": "zh-CN"}
# Words Chinese pages use as they are: product and protocol names, and a vendor's own labels.
KEPT_IN_CHINESE = ("OAuth Proxy", "OAuth", "API", "Access Key", "Secret Key", "APIPassword",
                   "APISecret", "Token", "token", "JSON", "SDK", "Ctrl+Enter")  # fmt: skip


@pytest.fixture(scope="module")
def admin(service: Service) -> Iterator[dict[str, Any]]:
    """An administrator with what every view shows when it is in use: accounts on two
    platforms (one with a long name), an API key, and calls in the usage books."""
    username, token = service.new_user(admin=True)
    service.add_key_account(token, "work")
    service.add_key_account(token, "a rather long account name for a narrow screen", "openai")
    created = service.call("POST", "/api/v1/auth/api-keys", token, json={"name": "laptop"})
    key = created.get("key") or created.get("api_key")
    body = {"model": "acme/acme-1", "messages": [{"role": "user", "content": "Hello"}]}
    answer = httpx.post(f"{service.url}/v1/chat/completions", json=body, timeout=60,
                        headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert service.call("GET", "/api/v1/oauth/usage?days=30", token)  # booked with the call
    yield {"username": username, "token": token}


def data_words(service: Service, token: str) -> set[str]:
    """What the page shows as it was given, in any language: names and descriptions people gave,
    ids, models (read when a test starts: other modules add users and routes as they run)."""
    words = {u["username"] for u in service.call("GET", "/api/v1/admin/users", token)}
    words |= {a["account_name"] for a in service.call("GET", "/api/v1/oauth/accounts", token)}
    words |= {k["name"] for k in service.call("GET", "/api/v1/auth/api-keys", token)}
    for platform in service.call("GET", "/api/v1/oauth/platforms", token):
        words |= {platform["platform_id"], platform["platform_name"], *platform["available_models"]}
        words |= {platform["description"]} if platform["description"] else set()
    for route in service.call("GET", "/api/v1/oauth/routes", token):
        words.add(route["name"])
        if route["updated_at"] and route["description"]:  # not the shipped route's own words
            words.add(route["description"])
    return words


def views(page: Page) -> list[str]:
    """The menu's views, as the page lists them."""
    hrefs = page.locator("#nav a").evaluate_all("links => links.map((a) => a.hash)")
    return [href.removeprefix("#/") for href in hrefs]


def language_problems(page: Page, lang: str, data: set[str]) -> list[str]:
    problems = []
    for shown in shown_texts(page):
        text, where = shown["text"], shown["where"]
        if not shown["lang"].startswith(lang):
            continue  # e.g. the language switch, which names the other language in it
        if lang == "en" and re.search(CJK, text):
            problems.append(f"Chinese on the English page: {where}")
        if lang == "zh":
            rest = text
            for word in sorted(data | set(KEPT_IN_CHINESE), key=len, reverse=True):
                rest = rest.replace(word, " ")
            # English: a text of Latin words only, or two lowercase words in a row (product
            # names stay as they are, capitalised, inside Chinese sentences).
            english = re.search(r"[A-Za-z]{3,}", rest) and not re.search(CJK, rest)
            if english or re.search(r"\b[a-z]{2,}[\s,;:]+[a-z]{2,}\b", rest):
                problems.append(f"English on the Chinese page: {text!r} in {where}")
    return problems


class Layout:
    """A page at one size in one language, and what the checks found on it, by view."""

    def __init__(self, browser: Browser, service: Service, size: str, lang: str, data: set[str]):
        self.size, self.lang, self.data = size, lang, data
        self.context = browser.new_context(
            viewport=SIZES[size], base_url=service.url, locale=LANGS[lang]
        )
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(f"localStorage.setItem('oauth-proxy.lang', '{lang}')")
        self.page = self.context.new_page()
        self.problems: dict[str, list[str]] = {}

    def check(self, view: str) -> None:
        page = self.page
        found = overflow_problems(page) + squeeze_problems(page)
        found += language_problems(page, self.lang, self.data)
        if found:
            self.problems[view] = found
        assert_not_blank(page, f"layout-{self.size}-{self.lang}-{view}")

    def open(self, view: str) -> None:
        self.page.goto(f"/#/{view}")
        link = self.page.locator(f'#nav a[href="#/{view}"]')
        expect(link).to_have_attribute("aria-current", "page")
        wait_rendered(self.page)

    def assert_fine(self) -> None:
        self.context.close()
        assert self.problems == {}, "\n".join(
            f"{view}: {problem}" for view, found in self.problems.items() for problem in found
        )


@pytest.fixture(params=[(size, lang) for size in SIZES for lang in LANGS], ids="-".join)
def layout(
    request: pytest.FixtureRequest, browser: Browser, service: Service, admin: dict[str, Any]
) -> Layout:
    size, lang = request.param
    return Layout(browser, service, size, lang, data_words(service, admin["token"]))


def test_every_view_fits_and_speaks_the_pages_language(
    layout: Layout, admin: dict[str, Any]
) -> None:
    page = layout.page
    page.goto("/")
    wait_rendered(page)
    if layout.lang == "zh":
        assert_cjk_glyphs(page)
    layout.check("sign-in")
    page.locator(".switch-mode button").click()
    expect(page.locator("input[autocomplete='new-password']")).to_be_visible()
    layout.check("register")

    sign_in_as(layout.context, admin["token"])
    page.reload()
    wait_rendered(page)
    listed = views(page)
    assert {"accounts", "add", "usage", "keys", "admin"} <= set(listed), listed
    for view in listed:
        layout.open(view)
        layout.check(view)
    layout.assert_fine()


def test_what_views_open_fits_too(layout: Layout, admin: dict[str, Any]) -> None:
    """A new key with its panel, a device code, a confirmation and the platform editor."""
    page = layout.page
    sign_in_as(layout.context, admin["token"])
    layout.open("keys")
    page.locator("form.inline-form input[name=name]").fill("laptop")
    page.locator("form.inline-form button[type=submit]").click()
    expect(page.locator("input.secret")).to_be_focused()
    layout.check("keys-new-key")

    layout.open("add")
    page.locator("input[name=platform][value=acme]").check()
    page.locator("input[name=account_name]").fill("work")
    page.locator("input[name=method][value=device]").check()
    page.locator("form button[type=submit]").click()
    expect(page.locator(".device-code output")).not_to_be_empty()
    layout.check("add-device-code")
    page.locator(".flow > .form-actions button").click()
    expect(page.locator("input[name=platform][value=acme]")).to_be_visible()

    layout.open("accounts")
    page.locator("button[data-key^=delete-]").first.click()
    expect(page.locator("dialog[open]")).to_be_visible()
    layout.check("accounts-confirm")
    page.keyboard.press("Escape")

    layout.open("admin")
    page.locator(".row-actions button").nth(1).click()
    expect(page.locator("dialog[open] .platform-form input").first).to_be_focused()
    layout.check("admin-edit-platform")
    page.locator("dialog[open] [role=tab]").nth(1).click()
    expect(page.locator("dialog[open] textarea.code-input")).to_be_focused()
    layout.check("admin-edit-platform-json")
    page.keyboard.press("Escape")
    layout.assert_fine()


def test_a_browser_logins_steps_are_worded_in_chinese(page: Page, user: tuple[str, str]) -> None:
    """The service names each step by a code (`fill_username`, `click`…); the page words it."""
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    page.goto("/#/add")
    wait_rendered(page)
    page.get_by_role("radio", name="Console Cloud", exact=True).check()
    page.get_by_label("账号名称").fill("浏览器登录")
    page.get_by_label("平台用户名").fill(CONSOLE_USERNAME)
    page.get_by_label("平台密码").fill(CONSOLE_PASSWORD)
    page.get_by_role("button", name="开始授权").click()
    expect(page.locator(".flow-status")).to_have_text("平台需要你的操作。", timeout=30_000)
    steps = page.get_by_role("list", name="已完成的步骤").get_by_role("listitem")
    expect(steps.first).to_be_visible()
    worded = steps.all_inner_texts()
    assert all(re.search(CJK, step) and not re.search("[A-Za-z]", step) for step in worded), worded
    page.get_by_role("button", name="取消").click()
    expect(page.get_by_role("radio", name="Console Cloud", exact=True)).to_be_visible()
