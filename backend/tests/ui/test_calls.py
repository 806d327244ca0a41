"""Using the accounts from the page: the playground, usage, API keys, browser login, admin."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.services.quota.quota_clock import DEFAULT_RESET_TIMEZONE
from tests.fakes.consoles import CAPTCHA_BOX, CAPTCHA_WORD, USERNAME
from tests.fakes.consoles import PASSWORD as CONSOLE_PASSWORD
from tests.fakes.consoles import PHONE as CONSOLE_PHONE
from tests.fakes.upstream.behaviours import Reply
from tests.helpers.pages import (
    add_by_key,
    assert_no_horizontal_scroll,
    assert_not_blank,
    card,
    open_view,
    register_in_page,
    wait_rendered,
)
from tests.ui.conftest import PHONE, ConsoleWatch, Service, sign_in_as, unique

pytestmark = pytest.mark.browser

ANSWER = "Streams arrive piece by piece from the fake upstream."


# Every text the answer shows while it streams, recorded by the page as it changes.
_RECORD_ANSWER_JS = """() => {
  window.__answerTexts = [];
  const transcript = document.querySelector('.transcript');
  new MutationObserver(() => {
    const answers = transcript.querySelectorAll('.message-assistant .message-text');
    const last = answers[answers.length - 1];
    if (last) window.__answerTexts.push(last.textContent);
  }).observe(transcript, { subtree: true, childList: true, characterData: true });
}"""


def ask(page: Page, message: str) -> None:
    open_view(page, "playground")
    page.get_by_label("Platform").select_option("acme")
    page.get_by_label("Your message").fill(message)
    page.evaluate(_RECORD_ANSWER_JS)
    page.get_by_role("button", name="Send").click()


def answer_streams(page: Page, service: Service) -> None:
    """Send a message and watch the answer arrive in pieces."""
    service.fakes.openai.script(Reply(text=ANSWER, chunks=5, chunk_delay_s=0.4))
    ask(page, "Say something in pieces")
    answer = page.locator(".message-assistant").last
    expect(answer).to_have_attribute("aria-busy", "true")
    # The service's first call waits for litellm to finish loading (seconds after start-up).
    expect(answer.locator(".message-text")).to_have_text(ANSWER, timeout=30_000)
    expect(answer).not_to_have_attribute("aria-busy", "true")
    expect(page.locator(".call-status")).to_have_text("Answer complete.")
    expect(page.locator(".served")).to_contain_text("Served by")
    assert_not_blank(page, "desktop-playground-answer")
    # The page showed the answer growing: at least one part of it before the whole.
    shown = [text for text in dict.fromkeys(page.evaluate("window.__answerTexts")) if text]
    assert len(shown) >= 2 and shown[-1] == ANSWER, shown
    assert all(ANSWER.startswith(text) for text in shown), shown


def test_the_playground_streams_and_says_when_no_account_is_available(
    page: Page, service: Service, user: tuple[str, str], console: ConsoleWatch
) -> None:
    console.allow_http_errors(400)
    service.add_key_account(user[1], "acme key")
    answer_streams(page, service)
    served = page.locator(".served")
    expect(served).to_contain_text("Served by")
    expect(served).to_contain_text("acme key (Acme AI)")
    # Five words answered; the prompt is the four words sent.
    expect(served).to_contain_text("(4 in, 9 out)")
    expect(served.get_by_role("progressbar")).to_be_visible()

    account = service.call("GET", "/api/v1/oauth/accounts", user[1])[0]
    service.call("PUT", f"/api/v1/oauth/accounts/{account['id']}/toggle", user[1])
    ask(page, "Anyone there?")
    expect(page.get_by_role("alert")).to_contain_text(
        "None of your Acme AI accounts can be used now: enable, refresh or add one."
    )
    # The message stays in the box, to send again once an account is back.
    expect(page.get_by_label("Your message")).to_have_value("Anyone there?")


def test_from_registration_to_deletion_through_the_playground_and_usage(
    page: Page, service: Service, console: ConsoleWatch
) -> None:
    """The issue's whole path: register, add by key, see it, call it, see the call in the
    usage chart, disable it, be told no account is available, delete it."""
    console.allow_http_errors(400)
    register_in_page(page, unique("path"))
    add_by_key(page, "Acme AI", "acme key", "sk-acme-path-0123456789")
    expect(card(page, "acme key")).to_be_visible()

    answer_streams(page, service)

    open_view(page, "usage")
    # Usage is kept by the platform's quota day (Acme's resets at midnight in Shanghai).
    today = datetime.now(ZoneInfo(DEFAULT_RESET_TIMEZONE)).date().isoformat()
    expect(page.locator(".tile").filter(has_text="Requests")).to_have_text("Requests1")
    chart = page.get_by_role("group", name=re.compile("^Tokens per day"))
    expect(chart.locator("rect.bar title").first).to_contain_text(f"{today} · acme key · Acme AI")
    expect(chart.get_by_role("listitem")).to_have_text(["acme key · Acme AI"])
    expect(page.locator("table.rates tbody tr")).to_contain_text(["100.0%"])

    open_view(page, "accounts")
    card(page, "acme key").get_by_role("button", name="Disable “acme key”").click()
    expect(card(page, "acme key").locator(".badge")).to_have_text("Disabled")
    ask(page, "Still there?")
    expect(page.get_by_role("alert")).to_contain_text("can be used now")

    open_view(page, "accounts")
    card(page, "acme key").get_by_role("button", name="Delete “acme key”").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No accounts yet")).to_be_visible()


def test_the_usage_page_draws_days_accounts_and_failures(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    """Usage over several days, two accounts and a failure, which real calls made in a test
    cannot produce: the service's answer is replaced by a prepared one of the same shape."""
    first = service.add_key_account(user[1], "first key")
    second = service.add_key_account(user[1], "second key", platform="openai")
    today = date.today()
    rows = [
        {"day": (today - timedelta(days=back)).isoformat(), "account_id": account["id"],
         "account_name": account["account_name"], "platform_id": account["platform_id"],
         "platform_name": account["platform_name"], "model": model, "requests": requests,
         "failures": failures, "prompt_tokens": 10 * requests,
         "completion_tokens": 20 * requests, "total_tokens": 30 * requests}
        for back, account, model, requests, failures in (
            (0, first, "acme-1", 3, 1),
            (1, first, "acme-2", 2, 0),
            (6, second, "gpt-4.1-mini", 5, 0),
            (40, second, "gpt-4.1-mini", 9, 0),  # older than 30 days: not shown
        )
    ]  # fmt: skip
    page.route(
        "**/api/v1/oauth/usage?days=30",
        lambda route: route.fulfill(json={"code": 200, "message": "success", "data": rows}),
    )
    open_view(page, "usage")
    tiles = page.locator(".tile")
    expect(tiles).to_have_text(["Requests11", "Tokens300", "Success rate90.9%"])
    tokens = page.get_by_role("group", name=re.compile("^Tokens per day"))
    expect(tokens).to_contain_text("300 tokens in 30 days")
    legend = tokens.get_by_role("listitem")
    expect(legend).to_have_text(["first key · Acme AI", "second key · OpenAI"])
    expect(tokens.locator("rect.bar")).to_have_count(3)
    expect(tokens.locator("rect.bar title").first).to_contain_text("· second key · OpenAI: 150")
    expect(page.locator("table.rates tbody tr")).to_have_text(
        ["first key · Acme AI5183.3%", "second key · OpenAI50100.0%"]
    )
    page.get_by_role("radio", name="Platform").check()
    expect(legend).to_have_text(["Acme AI", "OpenAI"])
    assert_not_blank(page, "desktop-usage-charts")
    page.set_viewport_size(PHONE)
    expect(tokens.locator("svg")).to_have_attribute("width", re.compile(r"^[1-3]\d\d$"))
    assert_no_horizontal_scroll(page)
    assert_not_blank(page, "phone-usage-charts")


def test_an_api_key_is_shown_once_copied_listed_and_revoked(
    page: Page, context: BrowserContext, service: Service, user: tuple[str, str]
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    service.add_key_account(user[1], "for the sdk")
    open_view(page, "keys")
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    page.get_by_label("Name").fill("laptop scripts")
    page.get_by_role("button", name="Create key").click()

    shown = page.get_by_label("Your new API key")
    expect(shown).to_be_focused()
    key = shown.input_value()
    assert len(key) > 20
    expect(page.get_by_text("it is shown only once")).to_be_visible()
    page.locator(".secret-row").get_by_role("button", name="Copy").click()
    expect(page.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == key

    row = page.get_by_role("row", name=re.compile("laptop scripts"))
    expect(row).to_be_visible()
    assert key not in row.inner_text()
    snippet = page.locator('.connect [role="tabpanel"][data-client="python"] pre').text_content()
    assert f'base_url="{service.url}/v1", api_key="{key}"' in snippet
    assert 'model="acme/acme-1"' in snippet

    # The key works with the OpenAI-compatible API, until it is revoked.
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{service.url}/v1/models", headers=auth).status_code == 200
    row.get_by_role("button", name="Revoke “laptop scripts”").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("“laptop scripts” is revoked.")
    expect(page.get_by_role("heading", name="No API keys yet")).to_be_visible()
    page.reload()
    wait_rendered(page)
    expect(page.get_by_label("Your new API key")).to_have_count(0)
    assert httpx.get(f"{service.url}/v1/models", headers=auth).status_code == 401


def test_a_browser_login_asks_for_the_sms_code_in_the_page(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    open_view(page, "add")
    page.get_by_role("radio", name="Console Cloud", exact=True).check()
    page.get_by_label("Account name").fill("console by browser")
    page.get_by_label("User name on the platform").fill(USERNAME)
    page.get_by_label("Password on the platform").fill(CONSOLE_PASSWORD)
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_role("heading", name="Adding “console by browser” on Console Cloud"))
    prompt = page.get_by_label("We sent a 6-digit code to 138****0000.")
    expect(prompt).to_be_visible(timeout=30_000)
    expect(prompt).to_be_focused()
    expect(page.locator(".flow-status")).to_have_text("The platform needs something from you.")
    assert_not_blank(page, "desktop-browser-login-code")
    prompt.fill(service.consoles.sms_codes[CONSOLE_PHONE])
    page.get_by_role("button", name="Send code").click()

    account = page.locator("li.account").filter(has_text="console by browser")
    expect(account).to_be_visible(timeout=30_000)
    expect(account).to_contain_text("Browser login")


def test_a_browser_login_shows_the_live_view_when_the_user_must_act(
    page: Page, service: Service, user: tuple[str, str]
) -> None:
    open_view(page, "add")
    page.get_by_role("radio", name="Captcha Cloud", exact=True).check()
    page.get_by_label("Account name").fill("captcha by hand")
    page.get_by_label("User name on the platform").fill(USERNAME)
    page.get_by_label("Password on the platform").fill(CONSOLE_PASSWORD)
    page.get_by_role("button", name="Start").click()

    surface = page.get_by_role("application", name=re.compile("Live view of the login page"))
    expect(surface).to_be_visible(timeout=30_000)
    frame = surface.get_by_role("img")
    expect(frame).to_have_attribute("src", re.compile("^data:image/jpeg;base64,"))
    expect(page.get_by_role("status").filter(has_text="Live view connected.")).to_have_count(1)
    assert_not_blank(page, "desktop-browser-login-live")

    # The person clicks the box where the picture shows it, types the word and presses Enter.
    box = frame.bounding_box()
    assert box is not None
    scale = box["width"] / frame.evaluate("image => image.naturalWidth")
    left, top, width, height = CAPTCHA_BOX
    page.mouse.click(box["x"] + (left + width / 2) * scale, box["y"] + (top + height / 2) * scale)
    expect(surface).to_be_focused()
    page.keyboard.type(CAPTCHA_WORD, delay=30)
    page.keyboard.press("Enter")

    account = page.locator("li.account").filter(has_text="captcha by hand")
    expect(account).to_be_visible(timeout=30_000)


def test_an_administrator_disables_and_edits_a_platform(
    page: Page, context: BrowserContext, service: Service
) -> None:
    sign_in_as(context, service.admin_token)
    open_view(page, "admin")
    platforms = page.locator("section").filter(has=page.get_by_role("heading", name="Platforms"))
    # OAuth needs the administrator's client first: until then users are not offered it.
    gemini = platforms.get_by_role("row", name=re.compile("gemini"))
    expect(gemini).to_contain_text("Sign in with OAuth (needs a client id)")
    acme = platforms.get_by_role("row", name=re.compile("acme"))
    expect(acme).to_contain_text("Sign in with OAuth")
    expect(acme).not_to_contain_text("needs a client id")
    row = platforms.get_by_role("row", name=re.compile("doubao"))
    count = service.call("GET", "/api/v1/admin/platforms/doubao", service.admin_token)[
        "account_count"
    ]
    row.get_by_role("button", name="Disable Doubao").click()
    confirm = page.get_by_role("dialog", name="Disable Doubao?")
    expect(confirm).to_contain_text(re.compile(rf"\b{count} accounts? (is|are) bound on Doubao"))
    confirm.get_by_role("button", name="Cancel").click()
    expect(row.locator(".badge")).to_have_text("Enabled")
    row.get_by_role("button", name="Disable Doubao").click()
    confirm.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_have_text("Doubao is disabled.")
    expect(row.locator(".badge")).to_have_text("Disabled")
    row.get_by_role("button", name="Enable Doubao").click()
    expect(row.locator(".badge")).to_have_text("Enabled")

    row.get_by_role("button", name="Edit Doubao").click()
    dialog = page.get_by_role("dialog", name="Edit Doubao")
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    dialog.get_by_role("tab", name="Advanced (JSON)").click()
    editor = dialog.get_by_label("Configuration (JSON)")
    expect(editor).to_be_focused()
    assert editor.evaluate("box => box.scrollTop") == 0  # opens at its first line
    config = editor.input_value()
    editor.fill("{ not json")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("This is not valid JSON")
    editor.fill(config.replace('"available_models": [', '"available_models": [], "x": ['))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("available_models needs at least one")
    editor.fill(config.replace('"description": "', '"description": "Edited in the page. '))
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("Doubao is saved.")
    saved = service.call("GET", "/api/v1/admin/platforms/doubao", service.admin_token)
    assert saved["description"].startswith("Edited in the page. ")

    users = page.locator("section").filter(has=page.get_by_role("heading", name="Users"))
    expect(users.get_by_role("row").nth(1)).to_be_visible()
    assert "password" not in users.inner_text().lower()


def test_an_administrator_edits_a_platform_by_its_form(
    page: Page, context: BrowserContext, service: Service
) -> None:
    platform_id = f"form{uuid.uuid4().hex[:6]}"
    config = service.call("GET", "/api/v1/admin/platforms/acme", service.admin_token)
    config = {k: v for k, v in config.items() if k not in ("updated_at", "account_count")}
    oauth = {k: v for k, v in config["oauth_config"].items() if k != "client_id"}
    config |= {"platform_id": platform_id, "platform_name": "Form Cloud", "oauth_config": oauth}
    path = f"/api/v1/admin/platforms/{platform_id}"
    service.call("PUT", path, service.admin_token, json=config)

    sign_in_as(context, service.admin_token)
    open_view(page, "admin")
    platforms = page.locator("section").filter(has=page.get_by_role("heading", name="Platforms"))
    row = platforms.get_by_role("row", name=re.compile(platform_id))
    expect(row).to_contain_text("Sign in with OAuth (needs a client id)")
    row.get_by_role("button", name="Edit Form Cloud").click()
    dialog = page.get_by_role("dialog", name="Edit Form Cloud")
    dialog.get_by_label("Models").fill("acme-1\nacme-2\nacme-3")
    dialog.get_by_label("Default model").fill("acme-2")
    dialog.get_by_label("Daily quota (tokens per account)").fill("lots")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("daily_limit must be a whole number")
    dialog.get_by_label("Daily quota (tokens per account)").fill("250000")
    dialog.get_by_label("Rate limit (requests per minute per account)").fill("")
    dialog.get_by_label("How calls are spread over a user's accounts").select_option("round_robin")
    dialog.get_by_label("OAuth client id").fill("form-client")
    dialog.get_by_label("OAuth client secret").fill("form-secret-value")
    # The JSON tab shows the form's edits; the form shows the JSON's.
    dialog.get_by_role("tab", name="Advanced (JSON)").click()
    editor = dialog.get_by_label("Configuration (JSON)")
    assert '"daily_limit": 250000' in editor.input_value()
    editor.fill(editor.input_value().replace('"Form Cloud"', '"Form Cloud 2"'))
    dialog.get_by_role("tab", name="Form").click()
    expect(dialog.get_by_label("Name", exact=True)).to_have_value("Form Cloud 2")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)

    saved = service.call("GET", path, service.admin_token)
    assert saved["platform_name"] == "Form Cloud 2"
    assert saved["litellm_config"]["available_models"] == ["acme-1", "acme-2", "acme-3"]
    assert saved["litellm_config"]["default_model"] == "acme-2"
    assert saved["quota_config"]["daily_limit"] == 250000
    assert saved["quota_config"]["strategy"] == "round_robin"
    assert "rate_limit" not in saved["quota_config"] or saved["quota_config"]["rate_limit"] is None
    assert saved["oauth_config"]["client_id"] == "form-client"
    assert saved["oauth_config"]["client_secret"] != "form-secret-value"  # masked: write-only
    row = platforms.get_by_role("row", name=re.compile(platform_id))
    expect(row).not_to_contain_text("needs a client id")

    # Edited again without touching the secret: the stored one is kept.
    row.get_by_role("button", name="Edit Form Cloud 2").click()
    dialog = page.get_by_role("dialog", name="Edit Form Cloud 2")
    expect(dialog.get_by_label("OAuth client secret")).to_have_value("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    saves = service.call(
        "GET", "/api/v1/admin/audit?action=platform.save&limit=50", service.admin_token
    )
    mine = [e["detail"]["changes"] for e in saves if e["target"] == f"platform:{platform_id}"]
    assert "client_secret" in str(mine[1]) and "form-secret-value" not in str(saves)
    assert "client_secret" not in str(mine[0])  # the second save kept the stored secret
