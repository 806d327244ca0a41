"""The settings page in real Chromium: the service as a uvicorn process, one browser per module.

The service (a temporary SQLite database built by the migrations, the shipped platforms pointed
at the fake upstreams, "acme" on the fake OAuth server, "console" on the fake console site, and
OAUTH_CALLBACK_URL on the service itself) starts once for the whole package: a start costs some
20 s of CPU (the app, litellm loading in the background, the migrations), too much to repeat per
module, and every test works as a user of its own. Each module launches one Chromium; each test
gets a fresh browser context whose pages fail the test when they log a console error.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.conftest import PlatformFakes, shipped_platforms_on
from tests.fakes.consoles import ConsoleSite
from tests.fakes.oauth_server import ClientSpec, FakeOAuthServer
from tests.fakes.server import serve
from tests.helpers.processes import free_port, running_service
from tests.helpers.service_client import PASSWORD

CHROMIUM = os.environ.get("PLAYWRIGHT_BROWSER_PATH") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TOKEN_KEY = "oauth-proxy.token"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def acme_platform(oauth_url: str, upstream_url: str) -> dict[str, Any]:
    """An OpenAI-compatible platform on the fakes, bound by OAuth, device code or key."""
    return {
        "platform_id": "acme",
        "platform_name": "Acme AI",
        "description": "OpenAI-compatible platform with a standard OAuth 2.0 server",
        "oauth_config": {
            "login_methods": ["oauth", "device", "api_key"],
            "authorization_endpoint": f"{oauth_url}/authorize",
            "token_endpoint": f"{oauth_url}/token",
            "device_authorization_endpoint": f"{oauth_url}/device/code",
            "client_id": "acme-client",
            "scopes": ["models.read", "chat"],
            "use_pkce": True,
        },
        "litellm_config": {
            "provider": "openai",
            "api_base": f"{upstream_url}/acme/v1",
            "default_model": "acme-1",
            "available_models": ["acme-1", "acme-2"],
        },
        "quota_config": {"daily_limit": 100000, "rate_limit": 60},
        "is_enabled": True,
    }


def console_platform(
    platform_id: str, name: str, login_url: str, upstream_url: str, **recipe: Any
) -> dict[str, Any]:
    """A platform bound by browser login on one of the fake consoles (tests/fakes/consoles.py)."""
    return {
        "platform_id": platform_id,
        "platform_name": name,
        "description": "A console that logs in with a password, then asks for more",
        "oauth_config": {
            "login_methods": ["browser"],
            "auth_url": login_url,
            "allowed_domains": [urlsplit(login_url).netloc],
            "login_selectors": {
                "username_input": "input[name='username']",
                "password_input": "input[name='password']",
                "submit_button": "button[type='submit']",
            },
            **recipe,
        },
        "litellm_config": {
            "provider": "openai",
            "api_base": f"{upstream_url}/{platform_id}/v1",
            "default_model": f"{platform_id}-1",
            "available_models": [f"{platform_id}-1"],
        },
        "quota_config": {"daily_limit": 50000, "rate_limit": 60},
        "is_enabled": True,
    }


@dataclass
class Service:
    url: str
    oauth: FakeOAuthServer
    fakes: PlatformFakes
    log: Path
    database: Path
    consoles: ConsoleSite
    admin_token: str = ""

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def register(self, username: str | None = None) -> tuple[str, str]:
        """A new user through the API: (username, access token)."""
        username = username or unique("user")
        body = {"username": username, "password": PASSWORD}
        self.call("POST", "/api/v1/auth/register", json=body)
        return username, self.call("POST", "/api/v1/auth/login", json=body)["access_token"]

    def new_user(self, *, admin: bool = False, seat: bool = False) -> tuple[str, str]:
        """A user made directly in the database, with a token the service accepts (same
        JWT_SECRET): quicker than registering, for tests that are not about signing in."""
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        from app.core.config import Settings
        from app.core.security import TokenService
        from app.models import User

        username = unique("admin" if admin else "user")
        engine = create_engine(f"sqlite:///{self.database}")
        with Session(engine) as session:
            seat_held = True if seat else None  # the one administrator's seat (users.py)
            session.add(
                User(username=username, password_hash=None, is_admin=admin, admin_seat=seat_held)
            )
            session.commit()
        engine.dispose()
        return username, TokenService(Settings()).issue(username).access_token

    def add_key_account(
        self, token: str, name: str, platform: str = "acme", api_key: str | None = None
    ) -> dict[str, Any]:
        body = {
            "platform": platform,
            "account_name": name,
            "method": "api_key",
            "credentials": {"api_key": api_key or f"sk-{uuid.uuid4().hex}"},
        }
        return self.call("POST", "/api/v1/oauth/initiate", token, json=body)["account"]


@pytest.fixture(scope="package")
def service(
    platform_fakes: PlatformFakes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callback = f"{base}/api/v1/oauth/callback"
    oauth = FakeOAuthServer(
        clients={"acme-client": ClientSpec(redirect_uris=(callback,))},
        device_interval_s=1,
        slow_down_increment_s=0,
    )
    consoles = ConsoleSite()
    with serve(oauth.app) as oauth_server, serve(consoles.app) as console_server:
        data = tmp_path_factory.mktemp("ui-service")
        database = data / "ui.db"
        platforms_file = data / "platforms.json"
        platforms_file.write_text(json.dumps(ui_platforms(platform_fakes, oauth_server.url,
                                                          console_server.url)))  # fmt: skip
        env = {
            # The test process's secrets: a token it issues (Service.new_user) is the service's.
            "ENVIRONMENT": "test",
            "JWT_SECRET": os.environ["JWT_SECRET"],
            "CREDENTIAL_KEYS": os.environ["CREDENTIAL_KEYS"],
            # Every test registers from one address.
            "SIGNIN_IP_LIMIT": os.environ["SIGNIN_IP_LIMIT"],
            "REGISTRATION_LIMIT": os.environ["REGISTRATION_LIMIT"],
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "OAUTH_CALLBACK_URL": callback,
            "BACKGROUND_JOBS": "true",
            # Alerts raised and resolved within a second of their cause (tests/ui/test_alerts.py).
            "ALERT_CHECK_INTERVAL": "1",
            "PLAYWRIGHT_BROWSER_PATH": CHROMIUM,
        }
        with running_service(data, env, platforms_file=platforms_file, port=port) as process:
            running = Service(process.url, oauth, platform_fakes, process.log_path, database,
                              consoles)  # fmt: skip
            # The first user is the administrator: take that seat before any test registers, so
            # that no test's user becomes one by running first.
            _, running.admin_token = running.new_user(admin=True, seat=True)
            yield running


def ui_platforms(fakes: PlatformFakes, oauth_url: str, console_url: str) -> list[dict[str, Any]]:
    """The shipped platforms on the fakes, plus "acme" (OAuth, device code, key) and two
    platforms bound by browser login on the fake consoles."""
    entries = [e.model_dump(mode="json") for e in shipped_platforms_on(fakes)]
    entries.append(acme_platform(oauth_url, fakes.urls["openai"]))
    upstream = fakes.urls["openai"]
    sms_prompt = {"selector": "#sms-code", "kind": "sms", "prompt_selector": "#code-hint",
                  "submit_selector": "#verify"}  # fmt: skip
    return [
        *entries,
        console_platform("console", "Console Cloud", f"{console_url}/sms/login", upstream,
                         cookie_names=["sms_session"], code_prompts=[sms_prompt]),
        console_platform("captcha", "Captcha Cloud", f"{console_url}/captcha/login", upstream,
                         cookie_names=["cap_session"], challenge_selectors=["#captcha"]),
    ]  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pages' screenshots go: UI_SCREENSHOT_DIR, else a temporary directory."""
    given = os.environ.get("UI_SCREENSHOT_DIR")
    path = Path(given) if given else tmp_path_factory.getbasetemp() / "screenshots"
    os.environ["UI_SCREENSHOT_DIR"] = str(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "UI_SCREENSHOT_DIR" in os.environ:
        terminalreporter.write_line(f"settings page screenshots: {os.environ['UI_SCREENSHOT_DIR']}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of the service's own pages."""

    origin: str
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        if where and not where.startswith(self.origin):
            return  # a fake OAuth server's page, not ours
        self.errors.append(f"{message.text} ({where})")

    def allow_http_errors(self, *statuses: int) -> None:
        """A test that provokes a refusal expects the browser's own "Failed to load resource"
        line for it; nothing else may appear."""
        codes = "|".join(str(s) for s in statuses)
        self.allowed.append(
            re.compile(
                rf"^Failed to load resource: the server responded with a status of ({codes})"
            )
        )

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console(service: Service) -> ConsoleWatch:
    return ConsoleWatch(service.url)


@pytest.fixture
def context(browser: Browser, service: Service, console: ConsoleWatch) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESKTOP, base_url=service.url, locale="en-GB")
    ctx.set_default_timeout(10_000)
    ctx.on("page", console.attach)
    yield ctx
    ctx.close()
    assert console.unexpected() == [], "the page logged console errors"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in_as(context: BrowserContext, token: str) -> None:
    """Start every page of the context signed in (as the page itself would after signing in)."""
    context.add_init_script(
        f"if (location.protocol.startsWith('http')) "
        f"sessionStorage.setItem({TOKEN_KEY!r}, {json.dumps(token)})"
    )


@pytest.fixture
def user(service: Service, context: BrowserContext) -> tuple[str, str]:
    """A fresh user, already signed in in this test's browser context."""
    username, token = service.new_user()
    sign_in_as(context, token)
    return username, token
