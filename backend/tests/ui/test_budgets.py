"""Budgets on the API keys view: each key's budgets as bars of what its calls used, set and changed
in the view (its allow-list of models kept), a wrong amount said before anything is sent, and the
budgets an administrator set on the user shown above the keys; an administrator setting a user's
budgets on the users table; the usage view's cost per day, platform, model and key."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.upstream.behaviours import Reply
from tests.helpers.pages import assert_not_blank, open_view
from tests.ui.conftest import Service, sign_in_as, unique

pytestmark = pytest.mark.browser


def spend(service: Service, key: str, credential: str, words: int) -> int:
    """One call with the key on the user's acme account; the tokens it used."""
    service.fakes.openai.script(Reply(" ".join(["w"] * words)), credential=credential)
    body = {"model": "acme/acme-1", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(
        f"{service.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["usage"]["total_tokens"])


def test_a_keys_budgets_show_as_bars_and_are_set_in_the_view(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    credential = f"sk-{unique('budget')}"
    service.add_key_account(user[1], "budget acme", api_key=credential)
    name = unique("script")
    limits = {"tokens_per_day": 10, "models": ["acme/*"]}
    created = service.call(
        "POST", "/api/v1/auth/api-keys", user[1], json={"name": name, "limits": limits}
    )
    used = spend(service, created["key"], credential, 7)  # "hi" and 7 words: 8 of 10
    open_view(page, "keys")

    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    bar = row.locator('[data-budget="tokens_per_day"]')
    expect(bar).to_contain_text(f"{used} of 10 tokens today")
    expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuenow", str(used))
    expect(bar.get_by_role("progressbar")).to_have_attribute("aria-valuemax", "10")
    expect(bar).to_contain_text("Resets in")

    row.get_by_text("Set budgets").click()
    editor = row.locator(".budget-form")
    expect(editor.get_by_label("Tokens a day")).to_have_value("10")
    editor.get_by_label("Cost a month (CNY, list price past free quota)").fill("5O")
    editor.get_by_role("button", name="Save budgets").click()
    expect(editor.get_by_role("alert")).to_have_text(
        "An amount is a number such as 50 or 50.00 (at most six decimals)."
    )
    editor.get_by_label("Tokens a day").fill("100")
    editor.get_by_label("Cost a month (CNY, list price past free quota)").fill("50.00")
    editor.get_by_role("button", name="Save budgets").click()
    expect(page.get_by_text(f"Budgets of “{name}” saved.")).to_be_visible()
    expect(row.locator('[data-budget="tokens_per_day"]')).to_contain_text(
        f"{used} of 100 tokens today"
    )
    expect(row.locator('[data-budget="cost_per_month:CNY"]')).to_contain_text(
        "0 of 50.00 CNY this month"
    )
    shown = service.call("GET", f"/api/v1/auth/api-keys/{created['id']}", user[1])
    assert shown["limits"] == {
        "models": ["acme/*"],
        "tokens_per_day": 100,
        "cost_per_month": {"CNY": "50.00"},
    }
    assert_not_blank(page, "desktop-keys-budgets")

    # Emptied, the budgets are lifted and the allow-list stays.
    row.get_by_text("Set budgets").click()
    row.locator(".budget-form").get_by_label("Tokens a day").fill("")
    row.locator(".budget-form").get_by_label("Cost a month (CNY, list price past free quota)").fill(
        ""
    )
    row.locator(".budget-form").get_by_role("button", name="Save budgets").click()
    expect(row.get_by_text("No budget")).to_be_visible()
    shown = service.call("GET", f"/api/v1/auth/api-keys/{created['id']}", user[1])
    assert shown["limits"] == {"models": ["acme/*"]}


def test_the_budgets_an_administrator_set_are_shown_above_the_keys(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    me = service.call("GET", "/api/v1/auth/me", user[1])
    service.call(
        "PATCH",
        f"/api/v1/admin/users/{me['id']}",
        service.admin_token,
        json={"limits": {"tokens_per_day": 5000}},
    )
    open_view(page, "keys")
    mine = page.get_by_role("region", name="Your budgets")
    expect(mine.locator('[data-budget="tokens_per_day"]')).to_contain_text(
        "0 of 5,000 tokens today"
    )


def test_the_usage_view_shows_cost_and_free_quota_per_day_platform_model_and_key(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    credential = f"sk-{unique('cost')}"
    service.add_key_account(user[1], "priced openai", "openai", api_key=credential)
    name = unique("costly")
    key = service.call("POST", "/api/v1/auth/api-keys", user[1], json={"name": name})["key"]
    # 1000 prompt and 10 completion tokens of gpt-4.1-mini: 1000 × 0.4 + 10 × 1.6 = 416e-6 USD
    service.fakes.openai.script(
        Reply(" ".join(["w"] * 10), prompt_tokens=1000), credential=credential
    )
    body = {"model": "openai/gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(
        f"{service.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    open_view(page, "usage")

    cost = page.get_by_role("region", name="Cost")
    usd = cost.locator('[data-currency="USD"]')
    expect(usd.get_by_role("heading")).to_have_text(
        "USD: 0.000416 at list price, 0 covered by free quota"
    )
    expect(usd.get_by_role("group", name="Cost per day (USD)")).to_contain_text("0.000416 USD")
    for caption, label in [
        ("Cost by platform", "openai"),
        ("Cost by model", "openai/gpt-4.1-mini"),
        ("Cost by API key", name),
    ]:
        row = usd.get_by_role("table", name=caption).get_by_role("row", name=label)
        expect(row).to_contain_text("0.000416")
        expect(row).to_contain_text("1,010")
    assert_not_blank(page, "desktop-usage-cost")


def test_an_administrator_sets_a_users_budgets_on_the_users_table(
    page: Page, context: BrowserContext, service: Service
) -> None:
    _, admin_token = service.new_user(admin=True)
    username, token = service.new_user()
    me = service.call("GET", "/api/v1/auth/me", token)
    sign_in_as(context, admin_token)
    open_view(page, "admin")

    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=username))
    expect(row.get_by_text("No budget")).to_be_visible()
    row.get_by_text("Set budgets").click()
    row.locator(".budget-form").get_by_label("Tokens a day").fill("2500")
    row.locator(".budget-form").get_by_label("Cost a month (USD, list price past free quota)").fill(
        "5"
    )
    row.locator(".budget-form").get_by_role("button", name="Save budgets").click()
    expect(page.get_by_text(f"Budgets of “{username}” saved.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=username))
    expect(row.locator('[data-budget="tokens_per_day"]')).to_contain_text("0 of 2,500 tokens")
    expect(row.locator('[data-budget="cost_per_month:USD"]')).to_contain_text("0 of 5 USD")
    shown = service.call("GET", f"/api/v1/admin/users/{me['id']}", admin_token)
    assert shown["limits"] == {"tokens_per_day": 2500, "cost_per_month": {"USD": "5"}}
