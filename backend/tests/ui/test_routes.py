"""The Routes view: a user's own routes made, put in order by buttons, weighted, edited and
deleted; the deployment's marked, and administrators' to edit; refusals worded by their
error_code; the usage page by route."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.pages import assert_keyboard_reachable, assert_no_horizontal_scroll, open_view
from tests.ui.conftest import DESKTOP, PHONE, ConsoleWatch, Service, sign_in_as, unique

pytestmark = pytest.mark.browser


def saved_routes(service: Service, token: str) -> dict[str, dict[str, Any]]:
    listed = service.call("GET", "/api/v1/oauth/routes", token)
    return {f"{r['scope']}:{r['name']}": r for r in listed}


def row(page: Page, name: str, scope: str = "Yours") -> Any:
    return (
        page.locator("table.routes tbody tr")
        .filter(has=page.locator("th code", has_text=name))
        .filter(has_text=scope)
    )


def test_a_user_makes_orders_edits_and_deletes_a_route(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    token = user[1]
    service.add_key_account(token, "routes acme")
    service.add_key_account(token, "routes qwen", platform="qwen")
    open_view(page, "routes")
    # The shipped deployment route is listed, marked, and not the user's to edit.
    free = row(page, "free", "Deployment")
    expect(free).to_contain_text("Most quota left")
    expect(free.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("heading", name="No routes of your own yet")).to_be_visible()

    page.get_by_role("button", name="New route").click()
    name = unique("coding")
    page.get_by_label("Name", exact=True).fill(name)
    picker = page.get_by_label("Model", exact=True)
    # Only the models of the user's platforms are offered.
    expect(picker.locator("optgroup")).to_have_count(2)
    expect(picker.locator('option[value="qwen/text-embedding-v4"]')).to_have_count(1)
    picker.select_option("acme/acme-2")
    page.get_by_role("button", name="Add target").click()
    picker.select_option("qwen/qwen-turbo")
    page.get_by_role("button", name="Add target").click()
    up = page.get_by_role("button", name="Move qwen/qwen-turbo up")
    up.click()
    # The moved target keeps the focus (on its other button, now that it is first).
    expect(page.get_by_role("button", name="Move qwen/qwen-turbo down")).to_be_focused()
    expect(page.locator(".route-targets .route-target")).to_have_text(
        ["qwen/qwen-turbo", "acme/acme-2"]
    )
    page.get_by_label("Strategy").select_option("weighted")
    page.set_viewport_size(PHONE)  # the open form fits a phone and works by keyboard
    assert_no_horizontal_scroll(page)
    assert_keyboard_reachable(page)
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Weight of acme/acme-2").fill("3")
    page.get_by_label("Description").fill("cheap first")
    page.get_by_role("button", name="Save route").click()
    expect(page.locator("#toast")).to_contain_text(f"Route “{name}” saved.")
    mine = saved_routes(service, token)[f"user:{name}"]
    assert (mine["strategy"], mine["description"]) == ("weighted", "cheap first")
    assert mine["targets"] == [
        {"model": "qwen/qwen-turbo", "weight": 1},
        {"model": "acme/acme-2", "weight": 3},
    ]
    expect(row(page, name)).to_contain_text("qwen/qwen-turbo ×1")

    row(page, name).get_by_role("button", name=f"Edit route “{name}”").click()
    expect(page.get_by_label("Name", exact=True)).to_have_js_property("readOnly", True)
    page.get_by_role("button", name="Move qwen/qwen-turbo down").click()
    page.get_by_role("button", name="Remove qwen/qwen-turbo").click()
    page.get_by_label("Strategy").select_option("ordered")
    page.get_by_role("button", name="Save route").click()
    expect(row(page, name)).to_contain_text("In order")
    edited = saved_routes(service, token)[f"user:{name}"]
    assert [t["model"] for t in edited["targets"]] == ["acme/acme-2"]

    row(page, name).get_by_role("button", name=f"Delete route “{name}”").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#toast")).to_contain_text(f"Route “{name}” deleted.")
    expect(row(page, name)).to_have_count(0)
    assert f"user:{name}" not in saved_routes(service, token)


def test_refusals_are_worded_by_their_error_code(
    page: Page, service: Service, user: tuple[str, str], console: ConsoleWatch
) -> None:
    console.allow_http_errors(400)
    service.add_key_account(user[1], "refusal acme")
    open_view(page, "routes")
    page.get_by_role("button", name="New route").click()
    page.get_by_role("button", name="Save route").click()
    expect(page.get_by_role("alert")).to_have_text("Give the route a name.")
    page.get_by_label("Name", exact=True).fill("has a space")
    page.get_by_role("button", name="Save route").click()
    expect(page.get_by_role("alert")).to_have_text("Add at least one target.")
    page.get_by_role("button", name="Add target").click()
    page.get_by_role("button", name="Save route").click()  # the service refuses the name
    expect(page.get_by_role("alert")).to_have_text(
        "A route name is 1 to 100 letters, digits and - . _ :, starting with a letter or digit."
    )
    page.get_by_role("button", name="Switch to Chinese").click()
    page.get_by_role("button", name="新建路由").click()
    page.get_by_label("名称", exact=True).fill("还是 不行")
    page.get_by_role("button", name="添加目标").click()
    page.get_by_role("button", name="保存路由").click()
    expect(page.get_by_role("alert")).to_have_text(
        "路由名须为 1 到 100 个字母、数字及 - . _ :，并以字母或数字开头。"
    )


def test_an_administrator_edits_deployment_routes_that_users_see_marked(
    page: Page, context: BrowserContext, service: Service
) -> None:
    _, admin = service.new_user(admin=True)
    sign_in_as(context, admin)
    open_view(page, "routes")
    page.get_by_role("button", name="New route").click()
    name = unique("team")
    page.get_by_label("Name", exact=True).fill(name)
    # Their own routes could name only the models of platforms they have accounts on: none.
    expect(page.get_by_text("None of your platforms has an account yet")).to_be_visible()
    expect(page.get_by_role("button", name="Add target")).to_be_disabled()
    page.get_by_label("Scope").select_option("deployment")
    expect(page.get_by_text("None of your platforms has an account yet")).to_be_hidden()
    # A deployment route may name any enabled platform's models, bound or not.
    page.get_by_label("Model", exact=True).select_option("zhipu/glm-4-flash")
    page.get_by_role("button", name="Add target").click()
    page.get_by_role("button", name="Save route").click()
    expect(row(page, name, "Deployment")).to_contain_text("zhipu/glm-4-flash")
    assert f"deployment:{name}" in saved_routes(service, admin)

    _, token = service.new_user()
    service.call(
        "PUT", f"/api/v1/oauth/routes/{name}", token, json={"targets": [{"model": "acme/acme-1"}]}
    )
    other = context.browser.new_context(base_url=service.url, locale="en-GB")  # type: ignore[union-attr]
    try:
        sign_in_as(other, token)
        theirs = other.new_page()
        open_view(theirs, "routes")
        shared = row(theirs, name, "Deployment")
        expect(shared).to_contain_text("Yours of the same name wins for you.")
        expect(shared.get_by_role("button")).to_have_count(0)
        expect(row(theirs, name).get_by_role("button", name=f"Edit route “{name}”")).to_be_visible()
    finally:
        other.close()
    row(page, name, "Deployment").get_by_role("button", name=f"Delete route “{name}”").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row(page, name, "Deployment")).to_have_count(0)


def test_the_usage_page_shows_calls_by_route(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    token = user[1]
    service.add_key_account(token, "usage acme")
    name = unique("usage-route")
    body = {"targets": [{"model": "acme/acme-2"}], "strategy": "ordered"}
    service.call("PUT", f"/api/v1/oauth/routes/{name}", token, json=body)
    call = {"model": name, "messages": [{"role": "user", "content": unique("hello")}]}
    service.call("POST", "/api/v1/oauth/chat/completions", token, json=call)
    open_view(page, "usage")
    page.get_by_role("radio", name="Route").check()
    table = page.locator("table.route-usage")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_contain_text(name)
    expect(table.locator("tbody tr")).to_contain_text("acme/acme-2")
    tokens = page.locator("figure.chart").first
    expect(tokens).to_contain_text("Tokens per day")
    expect(tokens.locator(".legend")).to_have_text(name)
