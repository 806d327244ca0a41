"""The "Connect a client" panel of the API keys view, in both languages: the base URL and the key
to copy, a tab per client whose Copy puts the snippet on the clipboard, the caller's models with
routes marked, and the copied curl snippet answering when run as copied."""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.upstream.behaviours import Reply
from tests.helpers.pages import assert_no_horizontal_scroll, assert_not_blank, open_view
from tests.ui.conftest import PHONE, Service, unique

pytestmark = pytest.mark.browser


def panel_snippet(page: Page, client: str) -> str:
    return (
        page.locator(f'.connect [role="tabpanel"][data-client="{client}"] pre').text_content() or ""
    )


def test_the_panel_gives_the_base_url_models_and_snippets_that_work_as_copied(
    page: Page, context: BrowserContext, service: Service, user: tuple[str, str]
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    credential = f"sk-{unique('connect')}"
    service.add_key_account(user[1], "connect acme", api_key=credential)
    route = unique("my-route")
    body = {"targets": [{"model": "acme/acme-2"}], "strategy": "ordered"}
    service.call("PUT", f"/api/v1/oauth/routes/{route}", user[1], json=body)
    open_view(page, "keys")

    panel = page.get_by_role("region", name="Connect a client")
    base_url = panel.locator(".connect-value").filter(has_text="Base URL")
    expect(base_url.locator("code")).to_have_text(f"{service.url}/v1")
    base_url.get_by_role("button", name="Copy Base URL").click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{service.url}/v1"
    expect(panel.get_by_text("Replace op-… with one of your keys")).to_be_visible()
    assert "Bearer op-…" in panel_snippet(page, "curl")

    # The models: routes marked and offered first in the picker, the platform's models after them.
    panel.locator(".model-list summary").click()
    expect(panel.locator(".model-list li").filter(has_text=route)).to_contain_text("route")
    expect(panel.locator(".model-list li").filter(has_text="acme/acme-1")).not_to_contain_text(
        "route"
    )
    picker = panel.get_by_label("Model in the examples")
    expect(picker).to_have_value("acme/acme-1")
    expect(picker.locator('optgroup[label="Routes"] option').filter(has_text=route)).to_have_count(
        1
    )

    page.get_by_label("Name").fill("connect key")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("Your new API key").input_value()
    expect(panel.locator(".connect-value").filter(has_text="API key").locator("code")).to_have_text(
        key
    )
    picker.select_option(route)  # the chosen model goes into every snippet

    tabs = panel.get_by_role("tab")
    names = ["curl", "Environment variables", "Python (openai)", "Node.js (openai)",
             "Vercel AI SDK", "Codex CLI", "Claude Code", "Gemini (google-genai)"]  # fmt: skip
    expect(tabs).to_have_text(names)
    panel.get_by_role("tab", name="Codex CLI").click()
    codex = panel.get_by_role("tabpanel", name="Codex CLI")
    expect(codex).to_contain_text('wire_api = "responses"')
    expect(codex).to_contain_text(f'base_url = "{service.url}/v1"')
    expect(codex).to_contain_text(f'model = "{route}"')
    # Arrow keys move between the tabs (the tabs pattern); the panel follows.
    panel.get_by_role("tab", name="Codex CLI").press("ArrowRight")
    expect(panel.get_by_role("tab", name="Claude Code")).to_be_focused()
    claude = panel.get_by_role("tabpanel", name="Claude Code")
    expect(claude).to_contain_text(f"export ANTHROPIC_AUTH_TOKEN={key}")
    expect(claude).to_contain_text(f"export ANTHROPIC_BASE_URL={service.url}\n")
    assert_not_blank(page, "desktop-keys-connect")

    panel.get_by_role("tab", name="curl").click()
    panel.get_by_role("tabpanel", name="curl").get_by_role("button", name="Copy curl").click()
    expect(page.get_by_role("status")).to_have_text("Copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == panel_snippet(page, "curl") and key in copied and route in copied
    service.fakes.openai.script(Reply("Answered the copied curl."), credential=credential)
    ran = subprocess.run(
        ["bash", "-c", copied], capture_output=True, text=True, timeout=60, check=True
    )
    answer = json.loads(ran.stdout)
    assert answer["choices"][0]["message"]["content"] == "Answered the copied curl."


def test_the_panel_in_chinese_on_a_phone(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    page.set_viewport_size(PHONE)
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    open_view(page, "keys")
    panel = page.get_by_role("region", name="连接客户端")
    expect(panel.get_by_role("tab", name="环境变量")).to_be_visible()
    # No account yet: the deployment's free route is the one model, marked as a route.
    panel.locator(".model-list summary").click()
    expect(panel.locator(".model-list summary")).to_have_text("你的全部模型（1 个）")
    expect(panel.locator(".model-list li")).to_have_text("free路由")
    expect(panel.get_by_label("示例中的模型")).to_have_value("free")
    panel.get_by_role("tab", name="环境变量").click()
    env = panel.get_by_role("tabpanel", name="环境变量")
    expect(env).to_contain_text(f"export OPENAI_BASE_URL={service.url}/v1")
    expect(env.get_by_role("button", name="复制环境变量")).to_be_visible()
    # The snippets scroll inside their box; the page itself does not scroll sideways.
    assert_no_horizontal_scroll(page)
    assert_not_blank(page, "phone-keys-connect-zh")
