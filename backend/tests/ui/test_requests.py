"""The request log's view: calls made through the API listed with what served them and how they
ended, filtered by outcome and platform, older pages on demand, and on a phone without sideways
scrolling."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.pages import assert_no_horizontal_scroll, assert_not_blank, open_view
from tests.ui.conftest import PHONE, Service, sign_in_as

pytestmark = pytest.mark.browser

PAGE = 50  # rows the view asks for at a time (views/requests.js)


def call(service: Service, token: str, model: str, **extra: object) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}
    response = httpx.post(
        f"{service.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.status_code


def test_the_log_lists_filters_and_pages_the_calls(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    _, token = user
    service.add_key_account(token, "acme key")
    assert call(service, token, "acme/acme-1") == 200
    for _ in range(PAGE):
        assert call(service, token, "nowhere/none") == 404

    open_view(page, "requests")
    rows = page.locator("table.requests tbody tr")
    expect(rows).to_have_count(PAGE)
    first = rows.first
    expect(first).to_contain_text("/v1/chat/completions")
    expect(first).to_contain_text("404")
    expect(first).to_contain_text("model_not_found")
    # The oldest call, on the next page.
    page.get_by_role("button", name="Show older calls").click()
    expect(rows).to_have_count(PAGE + 1)
    answered = rows.last
    expect(answered).to_contain_text("acme/acme-1")
    expect(answered).to_contain_text("acme key")
    expect(answered).to_contain_text("OK")
    expect(answered).to_contain_text("first byte")
    expect(page.get_by_role("button", name="Show older calls")).to_be_hidden()
    assert_not_blank(page, "desktop-requests")

    page.get_by_label("Outcome").select_option("ok")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("acme/acme-1")
    page.get_by_label("Platform").select_option("zhipu")
    expect(page.get_by_text("No calls here")).to_be_visible()


def test_the_log_on_a_phone_stacks_its_rows(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    _, token = user
    service.add_key_account(token, "acme key")
    for _ in range(2):  # the second answer comes from the answer cache
        assert call(service, token, "acme/acme-1", temperature=0, seed=7) == 200
    page.set_viewport_size(PHONE)
    open_view(page, "requests")
    cached, called = page.locator("table.requests tbody tr").all()
    expect(cached).to_contain_text("OK · from the answer cache")
    expect(called).to_contain_text("acme key")
    expect(called).not_to_contain_text("cache")
    expect(called.locator('td[data-label="Latency"]')).to_contain_text("ms")
    assert_no_horizontal_scroll(page)
    assert_not_blank(page, "phone-requests")


def test_an_administrator_reads_everyones_calls(
    page: Page, service: Service, context: BrowserContext
) -> None:
    username, token = service.new_user()
    assert call(service, token, "nowhere/none") == 404
    sign_in_as(context, service.admin_token)
    open_view(page, "requests")
    # Their own log first: the other user's call is not in it.
    expect(page.locator("main")).not_to_contain_text(username)
    page.get_by_label("Everyone's calls").check()
    expect(page.locator("table.requests thead")).to_contain_text("User")
    theirs = page.locator("table.requests tbody tr").filter(has_text=username)
    expect(theirs.first).to_contain_text("model_not_found")
