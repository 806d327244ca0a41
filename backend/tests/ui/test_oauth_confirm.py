"""The page an OAuth callback shows when it arrives in a browser that did not start the
authorization (no binding cookie): the code is held until the signed-in owner confirms."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.ui.conftest import ConsoleWatch, Service, sign_in_as, unique


def callback_without_cookie(page: Page, service: Service, owner_token: str) -> str:
    """The owner's authorization started from the API (so no browser holds its cookie), approved
    at the authorization server in `page`'s browser; returns its state."""
    body = {"platform": "acme", "account_name": unique("held"), "method": "oauth"}
    started = service.call("POST", "/api/v1/oauth/initiate", owner_token, json=body)
    page.goto(started["auth_url"])
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Confirm the authorization")).to_be_visible()
    return str(started["state"])


def session_of(service: Service, token: str, state: str) -> dict:
    return service.call("GET", f"/api/v1/oauth/sessions/{state}", token)


def test_the_owner_sees_what_is_bound_and_confirms(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    state = callback_without_cookie(page, service, user[1])
    expect(page.locator("#what")).to_have_text(
        "A acme account will be bound to you. Only confirm if you started this yourself, just now."
    )
    assert service.call("GET", "/api/v1/oauth/accounts", user[1]) == []
    page.get_by_role("button", name="Bind the account to me").click()
    expect(page.locator("#result")).to_have_text("The account is bound.")
    expect(page.get_by_role("button", name="Bind the account to me")).to_be_hidden()
    assert session_of(service, user[1], state)["status"] == "completed"
    listed = service.call("GET", "/api/v1/oauth/accounts", user[1])
    assert [a["auth_method"] for a in listed] == ["oauth"]


def test_the_owner_declines_and_nothing_is_bound(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    state = callback_without_cookie(page, service, user[1])
    page.get_by_role("button", name="Don't bind it").click()
    expect(page.locator("#result")).to_have_text("Nothing was bound.")
    expect(page.get_by_role("button", name="Bind the account to me")).to_be_hidden()
    ended = session_of(service, user[1], state)
    assert ended["status"] == "failed" and ended["error"] == "Cancelled by its owner."
    late = httpx.post(
        f"{service.url}/api/v1/oauth/sessions/{state}/confirm",
        headers={"Authorization": f"Bearer {user[1]}"},
    )
    assert late.status_code == 400, late.text  # the held code is gone with the session
    assert service.call("GET", "/api/v1/oauth/accounts", user[1]) == []


def test_another_signed_in_user_cannot_confirm_the_owners_callback(
    context: BrowserContext, page: Page, service: Service, console: ConsoleWatch
) -> None:
    _, alice = service.new_user()
    _, mallory = service.new_user()
    sign_in_as(context, mallory)  # alice's pending callback lands in mallory's browser
    console.allow_http_errors(404)  # alice's authorization is not found for mallory
    state = callback_without_cookie(page, service, alice)
    expect(page.locator("#result")).to_have_text(
        "This authorization is not yours: nothing was bound."
    )
    expect(page.get_by_role("button", name="Bind the account to me")).to_be_hidden()
    held = session_of(service, alice, state)
    assert held["status"] == "needs_user_action" and held["reason"] == "confirm"
    assert service.call("GET", "/api/v1/oauth/accounts", alice) == []
