"""Signing in and managing accounts in the page: register, add by key, refresh, disable, delete."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.pages import add_by_key, card, open_view, register_in_page
from tests.ui.conftest import PASSWORD, ConsoleWatch, Service, unique

pytestmark = pytest.mark.browser


def test_register_add_by_key_refresh_disable_and_delete(page: Page, service: Service) -> None:
    username = unique("ui")
    register_in_page(page, username)
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    expect(page.locator(".who")).to_have_text(username)

    add_by_key(page, "Acme AI", "work key", "sk-acme-0123456789")
    expect(page.get_by_role("status")).to_contain_text("“work key” on Acme AI is added.")
    account = card(page, "work key")
    expect(account).to_be_visible()
    expect(account.locator(".badge")).to_have_text("Active")
    expect(account).to_contain_text("API key")
    expect(account.get_by_role("progressbar")).to_have_attribute("aria-valuemax", "100000")
    expect(account).to_contain_text("0 of 100,000 tokens used today")
    assert "sk-acme-0123456789" not in page.content()

    account.get_by_role("button", name="Refresh “work key”").click()
    expect(page.get_by_role("status")).to_contain_text("The credential still works.")

    account.get_by_role("button", name="Disable “work key”").click()
    expect(account.locator(".badge")).to_have_text("Disabled")
    expect(page.get_by_role("status")).to_contain_text("“work key” is disabled")
    account.get_by_role("button", name="Enable “work key”").click()
    expect(account.locator(".badge")).to_have_text("Active")

    # Deleting asks first; Cancel keeps the account and gives the focus back.
    delete = account.get_by_role("button", name="Delete “work key”")
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete “work key”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(delete).to_be_focused()
    delete.click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("“work key” is deleted.")
    expect(card(page, "work key")).to_have_count(0)
    expect(page.get_by_text("No accounts yet")).to_be_visible()


def test_sign_in_explains_a_wrong_password(
    page: Page, service: Service, console: ConsoleWatch
) -> None:
    console.allow_http_errors(401)
    username, _ = service.register()
    page.goto("/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()


def test_a_refused_key_is_explained_and_nothing_is_added(
    page: Page, service: Service, user: tuple[str, str], console: ConsoleWatch
) -> None:
    console.allow_http_errors(400)
    add_by_key(page, "OpenAI", "bad key", "sk-invalid-0123456789")
    error = page.get_by_role("alert")
    expect(error).to_contain_text("OpenAI")
    expect(page.get_by_role("heading", name="Add an account")).to_be_visible()
    assert service.call("GET", "/api/v1/oauth/accounts", user[1]) == []


def test_the_form_says_what_is_missing(page: Page, user: tuple[str, str]) -> None:
    open_view(page, "add")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("alert")).to_have_text("Give the account a name.")
    expect(page.get_by_label("Account name")).to_be_focused()


def test_the_list_follows_changes_made_elsewhere(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    open_view(page, "accounts")
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    # Another tab, or a script, adds an account and disables it: the page catches up by itself.
    account = service.add_key_account(user[1], "added elsewhere")
    expect(card(page, "added elsewhere")).to_be_visible(timeout=10_000)
    service.call("PUT", f"/api/v1/oauth/accounts/{account['id']}/toggle", user[1])
    expect(card(page, "added elsewhere").locator(".badge")).to_have_text("Disabled", timeout=10_000)
