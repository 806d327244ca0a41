"""Binding by OAuth in a window of its own, and by device code, against the fake OAuth server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.pages import (
    assert_keyboard_reachable,
    assert_no_horizontal_scroll,
    assert_not_blank,
    open_view,
    wait_rendered,
)
from tests.ui.conftest import PHONE, Service

pytestmark = pytest.mark.browser


def start(page: Page, method: str, name: str) -> None:
    open_view(page, "add")
    page.get_by_role("radio", name="Acme AI", exact=True).check()
    page.get_by_label("Account name").fill(name)
    page.get_by_role("radio", name=method, exact=True).check()


def approve_in_window(page: Page, name: str) -> Page:
    """Start an OAuth binding and approve it in the window it opens; returns the window."""
    start(page, "Sign in with OAuth", name)
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Start").click()
    popup = opened.value
    expect(page.get_by_role("heading", name=f"Adding “{name}” on Acme AI")).to_be_visible()
    expect(page.locator(".flow-status")).to_contain_text("Waiting for you to finish")
    expect(
        popup.get_by_role("heading", name="acme-client wants to access your account")
    ).to_be_visible()
    popup.get_by_role("button", name="Approve").click()
    return popup


def test_oauth_in_a_window_adds_the_account_and_the_list_updates(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    approve_in_window(page, "acme by oauth")
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    wait_rendered(page)
    account = page.locator("li.account").filter(has_text="acme by oauth")
    expect(account).to_be_visible()
    expect(account).to_contain_text("Sign in with OAuth")
    expect(account.locator(".badge")).to_have_text("Active")
    expect(page.get_by_role("status")).to_contain_text("“acme by oauth” on Acme AI is added.")
    listed = service.call("GET", "/api/v1/oauth/accounts", user[1])
    assert [a["auth_method"] for a in listed] == ["oauth"]


def test_the_oauth_window_tells_the_page_and_closes_itself(
    page: Page, user: tuple[str, str]
) -> None:
    popup = approve_in_window(page, "closing window")
    expect(popup.locator("#message")).to_contain_text("is bound")
    assert popup.evaluate("window.opener !== null"), "the callback page lost its opener"
    popup.wait_for_event("close", timeout=10_000)


def test_declining_in_the_oauth_window_is_explained(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    start(page, "Sign in with OAuth", "declined")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Start").click()
    popup = opened.value
    popup.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Adding “declined” on Acme AI")).to_be_visible()
    expect(page.locator(".flow .notice-error")).to_have_text("You declined the authorization.")
    page.get_by_role("button", name="Start again").click()
    expect(page.get_by_role("radio", name="Acme AI", exact=True)).to_be_visible()
    assert service.call("GET", "/api/v1/oauth/accounts", user[1]) == []


def test_device_code_is_shown_and_the_page_follows_it_to_the_end(
    page: Page, context: BrowserContext, service: Service, user: tuple[str, str]
) -> None:
    start(page, "Device code", "acme by device")
    page.get_by_role("button", name="Start").click()
    code = page.locator(".device-code output")
    expect(code).to_have_text(re.compile(r"^[A-Z]{4}-[A-Z]{4}$"))
    expect(page.locator(".flow-status")).to_have_text("Waiting for you to enter the code…")
    link = page.get_by_role("link", name="Open the page with the code filled in")
    expect(link).to_have_attribute("target", "_blank")
    assert_not_blank(page, "desktop-device-code")
    assert_keyboard_reachable(page)
    page.set_viewport_size(PHONE)
    assert_not_blank(page, "phone-device-code")
    assert_no_horizontal_scroll(page)

    # The user opens the platform's page (here in a new tab), and approves there.
    with context.expect_page() as opened:
        link.click()
    platform_page = opened.value
    expect(platform_page.get_by_label("Code")).to_have_value(code.inner_text())
    platform_page.get_by_role("button", name="Approve").click()
    expect(platform_page.get_by_role("heading", name="Device connected")).to_be_visible()
    platform_page.close()

    account = page.locator("li.account").filter(has_text="acme by device")
    expect(account).to_be_visible(timeout=15_000)
    expect(account).to_contain_text("Device code")
