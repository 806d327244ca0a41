"""The audit log in the admin view: who did what, when and from where, filtered by user and by
action, with older pages appended on request; in English and Chinese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.models import AuditEvent
from tests.helpers.pages import assert_not_blank, open_view
from tests.ui.conftest import Service, sign_in_as

pytestmark = pytest.mark.browser

MANY = 55  # more than one page (50)


def record_key_creations(service: Service, user_id: int) -> None:
    """As many API keys created by the user as the log has room for on more than one page."""
    start = datetime.now(UTC) - timedelta(hours=1)
    engine = create_engine(f"sqlite:///{service.database}")
    with Session(engine) as session:
        session.add_all(
            AuditEvent(
                action="api_key.create",
                user_id=user_id,
                target=f"api_key:{n}",
                outcome="success",
                client="203.0.113.7",
                created_at=start + timedelta(seconds=n),
            )
            for n in range(MANY)
        )
        session.commit()
    engine.dispose()


def test_an_administrator_reads_the_audit_log_by_user_and_action(
    service: Service, context: BrowserContext, page: Page
) -> None:
    username, token = service.new_user()
    user_id = service.call("GET", "/api/v1/auth/me", token)["id"]
    record_key_creations(service, user_id)
    other, other_token = service.new_user()
    service.add_key_account(other_token, "audited key")

    sign_in_as(context, service.admin_token)
    open_view(page, "admin")
    section = page.locator("section").filter(has=page.get_by_role("heading", name="Audit log"))
    rows = section.locator("tbody tr")
    expect(rows.first).to_be_visible()

    section.locator("#audit-user").select_option(label=username)
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text(username)
    expect(rows.first).to_contain_text("Created an API key")
    expect(rows.first).to_contain_text("203.0.113.7")
    section.get_by_role("button", name="Show older").click()
    expect(rows).to_have_count(MANY)
    expect(section.get_by_role("button", name="Show older")).to_be_hidden()
    assert_not_blank(page, "admin-audit")

    section.locator("#audit-action").select_option(label="Added an account")
    expect(section.get_by_text("Nothing recorded")).to_be_visible()
    section.locator("#audit-user").select_option(label=other)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(other)
    expect(rows.first).to_contain_text("Added an account")
    expect(rows.first).to_contain_text("127.0.0.1")

    page.get_by_role("button", name="中文").click()
    open_view(page, "admin")
    section = page.locator("section").filter(has=page.get_by_role("heading", name="审计日志"))
    section.locator("#audit-action").select_option(label="添加账号")
    section.locator("#audit-user").select_option(label=other)
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section.locator("tbody tr").first).to_contain_text("成功")
