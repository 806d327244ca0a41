"""Alerts in the page, raised by the service's own checks (every second here): the admin panel
with its open/resolved filter, by keyboard and in both languages, and a user's own alerts above
their accounts."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from app.models import OAuthAccount
from tests.helpers.pages import (
    assert_keyboard_reachable,
    assert_no_horizontal_scroll,
    assert_not_blank,
    open_view,
)
from tests.ui.conftest import DESKTOP, PHONE, Service, sign_in_as, unique

pytestmark = pytest.mark.browser


def set_account(service: Service, account_id: int, **values: Any) -> None:
    """Change an account as the call path or the renewer would."""
    engine = create_engine(f"sqlite:///{service.database}")
    with Session(engine) as session:
        session.execute(update(OAuthAccount).where(OAuthAccount.id == account_id).values(**values))
        session.commit()
    engine.dispose()


def wait_for_alert(
    service: Service, path: str, token: str, state: str, **match: Any
) -> dict[str, Any]:
    """The alert the checks raise (or resolve) within a few of their rounds."""
    with httpx.Client(base_url=service.url, timeout=10) as http:
        for _ in range(100):
            answer = http.get(
                f"{path}?state={state}", headers={"Authorization": f"Bearer {token}"}
            ).json()["data"]
            found = [a for a in answer if all(a.get(k) == v for k, v in match.items())]
            if found:
                return found[0]
            time.sleep(0.1)
    raise AssertionError(f"no {state} alert matching {match} appeared")


def test_the_admin_panel_lists_alerts_and_filters_them_by_keyboard(
    service: Service, context: BrowserContext, page: Page
) -> None:
    name = unique("expiring")
    account = service.add_key_account(service.admin_token, name)
    set_account(service, account["id"], is_expired=True)
    raised = wait_for_alert(
        service, "/api/v1/admin/alerts", service.admin_token, "open", account_id=account["id"]
    )

    sign_in_as(context, service.admin_token)
    open_view(page, "admin")
    item = page.locator(f'li.alert[data-alert-id="{raised["id"]}"]')
    expect(item).to_contain_text("Account expired")
    expect(item).to_contain_text(name)
    expect(item.locator(".badge")).to_have_text("Open")
    assert_keyboard_reachable(page)
    assert_not_blank(page, "admin-alerts")
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    page.set_viewport_size(DESKTOP)

    set_account(service, account["id"], is_expired=False)
    wait_for_alert(
        service, "/api/v1/admin/alerts", service.admin_token, "resolved", id=raised["id"]
    )
    page.get_by_label("Show").focus()
    page.keyboard.press("ArrowDown")  # Open → Resolved, as a keyboard user picks it
    expect(page.get_by_label("Show")).to_have_value("resolved")
    expect(page.get_by_label("Show")).to_be_focused()
    expect(item).to_contain_text("Resolved")
    expect(page.locator("li.alert-open")).to_have_count(0)

    page.get_by_role("button", name="中文").click()
    open_view(page, "admin")
    expect(page.get_by_role("heading", name="告警", exact=True)).to_be_visible()
    expect(page.locator("#alert-filter")).to_have_value("open")
    expect(page.locator(f'li.alert[data-alert-id="{raised["id"]}"]')).to_have_count(0)
    page.locator("#alert-filter").select_option("all")
    expect(page.locator(f'li.alert[data-alert-id="{raised["id"]}"]')).to_contain_text("账号已过期")


def test_a_user_sees_their_own_alerts_above_their_accounts(
    service: Service, context: BrowserContext, page: Page
) -> None:
    _, token = service.new_user()
    _, other_token = service.new_user()
    mine = service.add_key_account(token, "daily key")
    theirs = service.add_key_account(other_token, "their key")
    later = datetime.now(UTC) + timedelta(hours=2)
    for account in (mine, theirs):
        set_account(service, account["id"], exhausted_until=later)
    user_id = service.call("GET", "/api/v1/auth/me", token)["id"]
    wait_for_alert(service, "/api/v1/oauth/alerts", token, "open", user_id=user_id)

    sign_in_as(context, token)
    open_view(page, "accounts")
    box = page.get_by_role("region", name="Alerts on your accounts")
    expect(box).to_contain_text("Out of quota")
    expect(box).to_contain_text("Acme AI accounts are out of quota until")
    expect(box.locator("li.alert")).to_have_count(1)
    assert_not_blank(page, "accounts-alerts")

    # Quota back: the checks resolve the alert and the page drops it on its next poll.
    set_account(service, mine["id"], exhausted_until=None)
    expect(box).to_have_count(0, timeout=15_000)
