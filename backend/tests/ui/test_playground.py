"""The playground in real Chromium: what served each answer (the answer's own headers, every
time), timings, system prompt and options reaching the platform, a route as the target, "copy
as curl" that works with an API key from the environment and never holds the page's session,
the empty state of a user without accounts, and plurals in both languages."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.upstream.behaviours import Reply
from tests.helpers.pages import (
    assert_no_horizontal_scroll,
    assert_not_blank,
    open_view,
    wait_rendered,
)
from tests.ui.conftest import PHONE, Service, unique

pytestmark = pytest.mark.browser

DURATION = re.compile(r"^[\d.,]+\s?(ms|s)$")


def send(page: Page, message: str) -> None:
    page.get_by_label("Your message").fill(message)
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".call-status")).to_have_text("Answer complete.", timeout=30_000)


def fact(page: Page, label: str) -> str:
    """The value of one fact under the answer ("Served by", "Latency", …)."""
    row = page.locator(".served .facts > div").filter(has=page.locator("dt", has_text=label))
    return row.locator("dd").inner_text()


def bound(service: Service, token: str, name: str) -> str:
    """An Acme account with a key of its own, for the fake to answer it by; the key."""
    key = f"sk-{unique('play')}"
    service.add_key_account(token, name, api_key=key)
    return key


def test_every_answer_says_what_served_it_and_how_long_it_took(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    key = bound(service, user[1], "served key")
    open_view(page, "playground")
    page.get_by_label("Platform").select_option("acme")
    expect(page.get_by_label("Platform").locator("option:checked")).to_have_text(
        "Acme AI — 1 active account"
    )
    models = ["", "acme-2", "", "acme-1", "acme-2"]
    for turn, model in enumerate(models):
        service.fakes.openai.script(Reply(f"Answer {turn}.", chunks=3), credential=key)
        page.get_by_label("Model", exact=True).select_option(model)
        send(page, f"Question {turn}")
        expect(page.locator(".served")).to_contain_text(f"acme/{model or 'acme-1'}")
        assert fact(page, "Served by") == f"acme/{model or 'acme-1'}"
        assert fact(page, "Account") == "served key (Acme AI)"
        assert DURATION.match(fact(page, "Time to first byte")), fact(page, "Time to first byte")
        assert DURATION.match(fact(page, "Latency")), fact(page, "Latency")
    assert_not_blank(page, "desktop-playground-served")

    bound(service, user[1], "second key")
    page.reload()
    wait_rendered(page)
    expect(page.get_by_label("Platform").locator('option[value="acme"]')).to_have_text(
        "Acme AI — 2 active accounts"
    )


def test_system_prompt_temperature_and_max_tokens_reach_the_platform(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    key = bound(service, user[1], "options key")
    open_view(page, "playground")
    page.get_by_label("Platform").select_option("acme")
    page.get_by_label("Temperature").fill("3")
    page.get_by_label("Your message").fill("Too hot")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Check “Temperature”: the value is out of range."
    )
    expect(page.get_by_label("Temperature")).to_be_focused()

    page.get_by_label("System prompt").fill("Answer like a pirate.")
    page.get_by_label("Temperature").fill("0.3")
    page.get_by_label("Max tokens").fill("50")
    service.fakes.openai.script(Reply("Arr."), credential=key)
    send(page, "Hello there")
    sent = [r for r in service.fakes.openai.model_requests if r.credential == key][-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert sent["messages"][-1] == {"role": "user", "content": "Hello there"}
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 50)


def test_a_route_can_be_called_and_copied_as_curl(
    page: Page, context: BrowserContext, service: Service, user: tuple[str, str]
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    key = bound(service, user[1], "route key")
    route = unique("play-route")
    body = {"targets": [{"model": "acme/acme-2"}], "strategy": "ordered"}
    service.call("PUT", f"/api/v1/oauth/routes/{route}", user[1], json=body)
    open_view(page, "playground")
    picker = page.get_by_label("Platform")
    expect(picker.locator('optgroup[label="Routes"] option').filter(has_text=route)).to_have_count(
        1
    )
    picker.select_option(f"route:{route}")
    expect(page.get_by_label("Model", exact=True)).to_be_hidden()  # the route names its models
    page.get_by_label("System prompt").fill("Be brief, it's Bob's.")  # a quote for the shell
    service.fakes.openai.script(Reply("Routed."), credential=key)
    send(page, "Through the route")
    assert fact(page, "Served by") == "acme/acme-2"
    assert fact(page, "Route") == route

    page.get_by_label("Your message").fill("And again")
    page.get_by_role("button", name="Copy as curl").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "$OAUTH_PROXY_API_KEY" in copied and user[1] not in copied
    assert f"{service.url}/v1/chat/completions" in copied
    api_key = service.call("POST", "/api/v1/auth/api-keys", user[1], json={"name": "curl"})["key"]
    service.fakes.openai.script(Reply("Answered the playground's curl."), credential=key)
    env = {"PATH": os.environ["PATH"], "OAUTH_PROXY_API_KEY": api_key}
    ran = subprocess.run(
        ["bash", "-c", copied], capture_output=True, text=True, env=env, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer["choices"][0]["message"]["content"] == "Answered the playground's curl."
    sent = [r for r in service.fakes.openai.model_requests if r.credential == key][-1].json
    assert sent["model"] == "acme-2"
    assert [m["content"] for m in sent["messages"]] == [
        "Be brief, it's Bob's.",
        "Through the route",
        "Routed.",
        "And again",
    ]


def test_a_user_without_accounts_is_sent_to_add_one_in_chinese(
    page: Page, user: tuple[str, str]
) -> None:
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    open_view(page, "playground")
    expect(page.get_by_role("heading", name="还没有可用来调用的账号")).to_be_visible()
    expect(page.get_by_role("button", name="发送")).to_have_count(0)
    page.locator("main").get_by_role("link", name="添加账号").click()
    wait_rendered(page)
    expect(page).to_have_url(re.compile("#/add$"))


def test_plurals_and_timings_in_chinese_on_a_phone(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    key = bound(service, user[1], "中文账号")
    page.set_viewport_size(PHONE)
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    open_view(page, "playground")
    picker = page.get_by_label("平台或路由")
    picker.select_option("acme")
    expect(picker.locator("option:checked")).to_have_text("Acme AI — 1 个可用账号")
    service.fakes.openai.script(Reply("你好。"), credential=key)
    page.get_by_label("你的消息").fill("你好")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".call-status")).to_have_text("回答完成。", timeout=30_000)
    assert fact(page, "实际调用") == "acme/acme-1"
    assert fact(page, "账号") == "中文账号 (Acme AI)"
    assert re.match(r"^[\d.,]+\s?(ms|毫秒|s|秒)$", fact(page, "总耗时")), fact(page, "总耗时")
    assert_no_horizontal_scroll(page)
    assert_not_blank(page, "phone-playground-zh")
