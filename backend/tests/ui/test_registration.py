"""The sign-up form tells the first user that they will administer the service, from
`GET /api/v1/auth/registration`, in the page's language."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.helpers.pages import wait_rendered

pytestmark = pytest.mark.browser

NOTICE = {"en": "You will administer this service", "zh": "你将成为本服务的管理员"}
CREATE = {"en": "Create a user", "zh": "注册用户"}


def open_sign_up(page: Page, lang: str) -> None:
    page.add_init_script(f"localStorage.setItem('oauth-proxy.lang', '{lang}')")
    page.goto("/")
    wait_rendered(page)
    page.get_by_role("button", name=CREATE[lang], exact=True).click()
    expect(page.locator("input[autocomplete='new-password']")).to_be_visible()


@pytest.mark.parametrize("lang", NOTICE)
def test_the_first_user_is_told_they_become_the_administrator(page: Page, lang: str) -> None:
    """The service's answer on an empty database (tests/api/test_auth.py checks the service
    gives it exactly then): here it is given to the page, whose service has users already."""
    answer = {"code": 200, "message": "success", "data": {"open": True, "becomes_admin": True}}
    page.route("**/api/v1/auth/registration", lambda route: route.fulfill(json=answer))
    open_sign_up(page, lang)
    expect(page.get_by_text(NOTICE[lang])).to_be_visible()


def test_later_users_are_not_told_so(page: Page) -> None:
    open_sign_up(page, "en")
    expect(page.get_by_role("heading", name="Create your user")).to_be_visible()
    expect(page.get_by_text(NOTICE["en"])).to_have_count(0)
