"""Failures as a person reads them: a platform that cannot be reached is named as the side that
failed, in the page's language, with the request id for support and nothing of the service's
insides; a user's alert says what happened to their account and offers the button that fixes it."""

from __future__ import annotations

import re
import socket
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from app.models import OAuthAccount
from tests.helpers.pages import add_by_key, assert_not_blank, open_view, wait_rendered
from tests.ui.conftest import ConsoleWatch, Service, sign_in_as, unique

pytestmark = pytest.mark.browser

REQUEST_ID = re.compile(r"[0-9a-f]{32}")
INSIDES = re.compile(r"Error\b|X-Request-ID|Exception|Traceback|on the service")


def unreachable_platform(service: Service) -> str:
    """A platform an administrator added whose API nobody listens on: its name."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # connections to it are refused
    platform_id = f"down{uuid.uuid4().hex[:6]}"
    name = f"Down Cloud {platform_id[-6:]}"
    config = service.call("GET", "/api/v1/admin/platforms/acme", service.admin_token)
    config = {k: v for k, v in config.items() if k != "updated_at"} | {
        "platform_id": platform_id,
        "platform_name": name,
        "oauth_config": {"login_methods": ["api_key"]},
        "litellm_config": config["litellm_config"] | {"api_base": f"http://127.0.0.1:{port}/v1"},
    }
    service.call("PUT", f"/api/v1/admin/platforms/{platform_id}", service.admin_token, json=config)
    return name


def test_a_bind_the_platform_cannot_answer_names_the_platform_with_a_request_id(
    page: Page, service: Service, user: tuple[str, str], console: ConsoleWatch
) -> None:
    console.allow_http_errors(502)
    name = unreachable_platform(service)
    add_by_key(page, name, "down key", f"sk-{uuid.uuid4().hex}")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"{name} could not be reached; try again in a minute.")
    request_id_line = alert.locator(".error-request-id")
    expect(request_id_line).to_have_text(re.compile(r"^Request id: [0-9a-f]{32}$"))
    assert not INSIDES.search(alert.inner_text()), alert.inner_text()
    assert_not_blank(page, "error-unreachable-en")

    page.get_by_role("button", name=re.compile("Switch to Chinese")).click()
    open_view(page, "add")
    page.get_by_role("radio", name=name, exact=True).check()
    page.locator("input[name=account_name]").fill("断开的密钥")
    page.get_by_role("textbox", name="API 密钥").fill(f"sk-{uuid.uuid4().hex}")
    page.get_by_role("button", name="添加账号", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"无法连接到{name}，请一分钟后再试。")
    expect(alert.locator(".error-request-id")).to_have_text(re.compile(r"^请求 ID：[0-9a-f]{32}$"))
    text = alert.inner_text()
    assert not INSIDES.search(text) and "could not" not in text, text
    request_id = REQUEST_ID.search(text).group(0)
    assert request_id in service.log.read_text(encoding="utf-8")  # support finds it in the log


def set_account(service: Service, account_id: int, **values: Any) -> None:
    engine = create_engine(f"sqlite:///{service.database}")
    with Session(engine) as session:
        session.execute(update(OAuthAccount).where(OAuthAccount.id == account_id).values(**values))
        session.commit()
    engine.dispose()


def wait_for_open_alert(service: Service, token: str, account_id: int) -> None:
    with httpx.Client(base_url=service.url, timeout=10) as http:
        for _ in range(100):
            answer = http.get(
                "/api/v1/oauth/alerts?state=open", headers={"Authorization": f"Bearer {token}"}
            ).json()["data"]
            if any(a["account_id"] == account_id for a in answer):
                return
            time.sleep(0.1)
    raise AssertionError("no alert was raised")


def test_an_expired_account_alert_says_so_in_plain_words_with_its_buttons(
    service: Service, context: BrowserContext, page: Page
) -> None:
    _, token = service.new_user()
    name = unique("lapsed")
    account = service.add_key_account(token, name)
    set_account(service, account["id"], is_expired=True)
    wait_for_open_alert(service, token, account["id"])

    sign_in_as(context, token)
    page.add_init_script("localStorage.setItem('oauth-proxy.lang', 'zh')")
    open_view(page, "accounts")
    # Alerts are read beside the accounts; one read that fails is retried on the next poll.
    item = page.locator("li.alert")
    expect(item).to_contain_text(f"Acme AI不再接受你的账号“{name}”", timeout=15_000)
    expect(item.get_by_role("button", name="重新绑定")).to_be_visible()
    expect(item.get_by_role("button", name="刷新")).to_be_visible()

    page.get_by_role("button", name=re.compile("English")).click()
    open_view(page, "accounts")
    box = page.get_by_role("region", name="Alerts on your accounts")
    item = box.locator("li.alert")
    expect(item).to_contain_text(f"Acme AI no longer accepts your account “{name}”", timeout=15_000)
    text = item.inner_text()
    assert f"#{account['id']}" not in text and "acme" not in text, text  # no internal ids
    assert_not_blank(page, "alert-expired-en")

    item.get_by_role("button", name="Bind again").click()
    wait_rendered(page)
    expect(page.get_by_role("radio", name="Acme AI", exact=True)).to_be_checked()

    open_view(page, "accounts")
    item.get_by_role("button", name="Refresh").click()  # the key still works: it serves again
    expect(page.locator("#toast")).to_contain_text("The credential still works.")
    expect(page.locator("li.alert")).to_have_count(0, timeout=15_000)
