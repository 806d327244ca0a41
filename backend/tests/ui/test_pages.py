"""Every page, at desktop and phone size: not blank, keyboard-reachable, no sideways scroll, no
console error; the two languages; empty states; how the page is served."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.upstream import errors
from tests.helpers.pages import (
    assert_keyboard_reachable,
    assert_no_horizontal_scroll,
    assert_not_blank,
    open_view,
    wait_rendered,
)
from tests.ui.conftest import DESKTOP, PHONE, ConsoleWatch, Service, sign_in_as, unique

pytestmark = pytest.mark.browser

VIEWS = ("accounts", "add", "usage", "requests", "playground", "keys", "routes", "admin")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_page_shows_something_and_works_by_keyboard(
    size: str, service: Service, context: BrowserContext, page: Page
) -> None:
    viewport = DESKTOP if size == "desktop" else PHONE
    page.set_viewport_size(viewport)
    # The signed-out page first, then every view as the administrator with one account.
    page.goto("/")
    wait_rendered(page)
    check_page(page, size, "login")
    accounts = service.call("GET", "/api/v1/oauth/accounts", service.admin_token)
    if not any(a["account_name"] == "tour" for a in accounts):
        service.add_key_account(service.admin_token, "tour")
    sign_in_as(context, service.admin_token)
    page.reload()
    for view in VIEWS:
        open_view(page, view)
        if view == "add":
            page.get_by_role("radio", name="Acme AI", exact=True).check()
        check_page(page, size, view)


def check_page(page: Page, size: str, view: str) -> None:
    assert_not_blank(page, f"{size}-{view}")
    if size == "phone":
        assert_no_horizontal_scroll(page)
    assert_keyboard_reachable(page)


def test_language_switch_translates_and_is_remembered(page: Page, user: tuple[str, str]) -> None:
    open_view(page, "accounts")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="账号", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="账号", exact=True)).to_be_visible()
    expect(page.get_by_text("还没有账号")).to_be_visible()
    # The switch keeps the focus on itself, now offering the way back.
    expect(page.get_by_role("button", name=re.compile("Switch to English"))).to_be_focused()

    page.reload()
    wait_rendered(page)
    expect(page.get_by_role("heading", name="账号", exact=True)).to_be_visible()
    page.get_by_role("button", name=re.compile("Switch to English")).click()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()


def test_errors_are_in_the_chosen_language(
    page: Page, service: Service, console: ConsoleWatch
) -> None:
    console.allow_http_errors(401)
    username, _ = service.register()
    page.goto("/")
    wait_rendered(page)
    page.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")


def test_a_refusal_is_worded_by_its_error_code_in_chinese(
    page: Page, service: Service, user: tuple[str, str], console: ConsoleWatch
) -> None:
    """Every account out of quota: the server says so in English with error_code
    `quota_exhausted`, and the page says it in Chinese, in its own words for that code."""
    console.allow_http_errors(429)
    key = f"sk-{unique('spent')}"
    service.add_key_account(user[1], "spent key", api_key=key)
    service.fakes.openai.script(errors.openai_insufficient_quota(), credential=key)
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    open_view(page, "playground")
    page.get_by_label("平台").select_option("acme")
    page.get_by_label("你的消息").fill("还有配额吗？")
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("alert")).to_have_text("你在该平台的所有账号今日配额均已用尽。")


def test_a_new_user_sees_clear_empty_states(page: Page, user: tuple[str, str]) -> None:
    open_view(page, "accounts")
    expect(page.get_by_role("heading", name="No accounts yet")).to_be_visible()
    page.get_by_role("link", name="Add your first account").click()
    wait_rendered(page)
    expect(page.get_by_role("heading", name="Add an account")).to_be_visible()

    open_view(page, "keys")
    expect(page.get_by_role("button", name="Create key")).to_be_visible()
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()

    open_view(page, "usage")
    expect(page.get_by_role("heading", name="No calls in the last 30 days")).to_be_visible()

    open_view(page, "playground")
    expect(page.get_by_role("heading", name="No account to call with yet")).to_be_visible()
    page.get_by_role("link", name="Add an account").click()
    wait_rendered(page)
    expect(page.get_by_role("heading", name="Add an account")).to_be_visible()

    # Not offered in the menu to a user; reached by its address, it says why there is nothing.
    page.goto("/#/admin")
    wait_rendered(page)
    expect(page.get_by_text("This page is for administrators.")).to_be_visible()


def test_the_page_is_served_under_a_strict_policy(service: Service) -> None:
    page = httpx.get(service.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    # No inline script or style, nothing from another origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert "<style" not in page.text and " style=" not in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)

    module = httpx.get(service.url + "/static/js/app.js")
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.headers["cache-control"] == "no-cache" and module.headers["etag"]
    again = httpx.get(
        service.url + "/static/js/app.js", headers={"If-None-Match": module.headers["etag"]}
    )
    assert again.status_code == 304
    for path in ("/static/../app/main.py", "/static/js/missing.js", "/static/%2e%2e/main.py"):
        assert httpx.get(service.url + path).status_code == 404
