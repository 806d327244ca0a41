"""Account health on the accounts page: the last day's calls and the last error from the request
log, the Test button's outcome and latency, a rest's end named as such apart from the quota's
reset, an account the platform calls spent without an empty bar, a platform an administrator
switched off, dimmed cards and a key hint that is never empty."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fakes.upstream import errors
from tests.helpers.pages import assert_not_blank, card, open_view
from tests.ui.conftest import Service

pytestmark = pytest.mark.browser


def call(service: Service, token: str, model: str = "acme/acme-1") -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}]}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{service.url}/v1/chat/completions", json=body, headers=headers).status_code


def test_calls_the_test_button_and_a_rest(page: Page, service: Service, user) -> None:
    _, token = user
    key = f"sk-{uuid.uuid4().hex}"
    service.add_key_account(token, "daily key", api_key=key)
    assert call(service, token) == 200
    open_view(page, "accounts")
    daily = card(page, "daily key")
    expect(daily).to_contain_text("Calls in the last day")
    expect(daily).to_contain_text("1 · 100% answered")
    expect(daily).to_contain_text("Median latency")

    daily.get_by_role("button", name="Test “daily key” with one small call").click()
    expect(daily.locator(".test-result")).to_have_text(
        re.compile(r"^Test call answered by acme/acme-1 in [\d,]+ ms\.$")
    )
    expect(daily).to_contain_text("2 · 100% answered")

    service.fakes.openai.script(errors.openai_rate_limited(retry_after=600), credential=key)
    daily.get_by_role("button", name="Test “daily key” with one small call").click()
    expect(daily.locator(".test-result")).to_contain_text("Test call failed after")
    expect(daily.locator(".badge")).to_have_text("Cooling down")
    # The rest's end is named as such; the quota line speaks of the quota's own reset.
    expect(daily.locator(".wait")).to_contain_text("Resting after a failure; usable again in")
    expect(daily.locator(".quota-reset")).to_contain_text("Quota resets")
    expect(daily).to_contain_text("Last error")
    expect(daily).to_contain_text("429 · rate-limited")
    assert_not_blank(page, "desktop-account-health")


def test_spent_disabled_and_short_keys_read_truthfully(page: Page, service: Service, user) -> None:
    _, token = user
    spent_key = f"sk-{uuid.uuid4().hex}"
    service.add_key_account(token, "spent key", api_key=spent_key)
    service.fakes.openai.script(errors.openai_insufficient_quota(), credential=spent_key)
    assert call(service, token) == 429
    service.add_key_account(token, "short key", api_key="sk-1234")
    # A platform of its own, which the administrator then switches off.
    platform_id = f"off{uuid.uuid4().hex[:6]}"
    config = service.call("GET", "/api/v1/admin/platforms/acme", service.admin_token)
    config = {k: v for k, v in config.items() if k not in ("updated_at", "account_count")} | {
        "platform_id": platform_id,
        "platform_name": f"Switched off {platform_id}",  # the page's other tests pick Acme AI
    }
    path = f"/api/v1/admin/platforms/{platform_id}"
    service.call("PUT", path, service.admin_token, json=config)
    service.add_key_account(token, "off key", platform=platform_id)
    service.call("PUT", path, service.admin_token, json=config | {"is_enabled": False})

    open_view(page, "accounts")
    spent = card(page, "spent key")
    expect(spent.locator(".badge")).to_have_text("Quota used up")
    expect(spent).to_contain_text("Used up, says the platform (0 tokens counted here today)")
    expect(spent.get_by_role("progressbar")).to_have_count(0)
    expect(spent.locator(".wait")).to_contain_text("Usable again")

    short = card(page, "short key")
    expect(short.locator(".meta")).to_contain_text("key too short to show part of it")

    off = card(page, "off key")
    expect(off.locator(".badge")).to_have_text("Platform disabled")
    expect(off.locator(".wait")).to_contain_text("An administrator has switched")
    assert float(off.evaluate("card => getComputedStyle(card).opacity")) < 1
    assert float(short.evaluate("card => getComputedStyle(card).opacity")) == 1
    assert_not_blank(page, "desktop-account-health-states")
