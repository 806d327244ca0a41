"""One Chromium per process, a fresh locked-down context per login, and a FIFO cap on logins.

The app lifespan owns a `BrowserPool` (`await pool.close()` at shutdown); Chromium is launched
on first use. Each login takes a slot (`pool.queue.slot()`, queued in order beyond
`max_concurrent`) and a `GuardedContext`: no downloads, no permissions, no service workers, and
all traffic through its own proxy that refuses hosts outside the platform's allowed domains.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    Playwright,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from app.services.oauth.browser.egress import EgressProxy
from app.services.oauth.browser.errors import BrowserUnavailable
from app.services.oauth.browser.guard import (
    BlockedRequest,
    GuardedContext,
    host_allowed,
    record_blocked,
)
from app.services.oauth.browser.queue import LoginQueue

if TYPE_CHECKING:
    from app.core.config import Settings

logger = logging.getLogger(__name__)

SYSTEM_CHROMIUM_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/google-chrome",
)

LAUNCH_ARGS = (
    # Root and containers: no user namespaces for the sandbox, a tiny /dev/shm, no GPU.
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    # Nothing but the login: background connections are refused on closed networks anyway.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--disable-notifications",
    "--deny-permission-prompts",
    "--dns-prefetch-disable",
    # Everything goes through the context's allow-list proxy: no direct UDP for WebRTC, no QUIC.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
    # Chromium's own calls home (autofill lookups) would only show up as blocked requests.
    "--disable-features=AutofillServerCommunication",
)


BROWSER_ENV_KEYS = (
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "TZ",
    "DISPLAY",
    "XAUTHORITY",
    "WAYLAND_DISPLAY",
    "XDG_RUNTIME_DIR",
    "FONTCONFIG_PATH",
)
"""What Chromium inherits from the service's environment (never its secrets)."""


def resolve_chromium_executable(
    configured: str | None, *, bundled: str | None = None
) -> str | None:
    """The Chromium to launch: None means Playwright's own browser (`bundled`, when installed).

    Order: `configured` (PLAYWRIGHT_BROWSER_PATH, a path or a command name), Playwright's own
    browser, then a system Chromium. Raises `BrowserUnavailable` when there is none.
    """
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise BrowserUnavailable(
                f"PLAYWRIGHT_BROWSER_PATH={configured} is not an executable Chromium."
            )
        return found
    if bundled and os.access(bundled, os.X_OK):
        return None
    for path in SYSTEM_CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    raise BrowserUnavailable(
        "No Chromium to run browser logins: Playwright's browser is not installed "
        "(`playwright install chromium`) and there is no system Chromium "
        "(Debian: `apt-get install chromium`); or set PLAYWRIGHT_BROWSER_PATH."
    )


def downloaded_chromium() -> str | None:
    """Playwright's own Chromium where `playwright install chromium` puts it, found without
    starting Playwright's driver."""
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache/ms-playwright")
    found = sorted(root.glob("chromium-*/chrome-linux*/chrome"))
    return str(found[-1]) if found else None


class BrowserPool:
    """The process's Chromium, launched lazily, and the cap on logins running at once."""

    def __init__(
        self,
        *,
        headless: bool = True,
        step_timeout_ms: int = 30_000,
        max_concurrent: int = 3,
        login_deadline_s: float = 600,
        browser_path: str | None = None,
        launch_args: Sequence[str] = LAUNCH_ARGS,
        allow_private: bool = False,
    ) -> None:
        self.headless = headless
        self.allow_private = allow_private
        """Whether an allowed name may resolve to a private address (OUTBOUND_ALLOW_PRIVATE)."""
        self.step_timeout_ms = step_timeout_ms
        self.login_deadline_s = login_deadline_s
        self.queue = LoginQueue(max_concurrent)
        self._browser_path = browser_path
        self._launch_args = list(launch_args)
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._start_lock = asyncio.Lock()
        self._contexts: set[BrowserContext] = set()
        self._temp_root: str | None = None
        self.peak_open_contexts = 0
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> BrowserPool:
        return cls(
            headless=settings.playwright_headless,
            step_timeout_ms=settings.playwright_timeout,
            max_concurrent=settings.browser_max_concurrent,
            login_deadline_s=settings.browser_login_deadline,
            browser_path=settings.playwright_browser_path,
            allow_private=settings.allows_private_outbound,
        )

    def missing(self) -> str | None:
        """Why no Chromium can run browser logins here (None: one can), so that `browser` is
        offered only where it can work."""
        try:
            resolve_chromium_executable(self._browser_path, bundled=downloaded_chromium())
        except BrowserUnavailable as exc:
            return exc.message
        return None

    @property
    def open_contexts(self) -> int:
        return len(self._contexts)

    @property
    def temp_dir(self) -> str | None:
        """Chromium's TMPDIR while it runs; removed at close."""
        return self._temp_root

    def queue_position(self, run_id: str) -> int | None:
        return self.queue.position(run_id)

    async def start(self) -> Browser:
        """Launch Chromium unless it runs already (it is relaunched after a crash)."""
        async with self._start_lock:
            if self._closed:
                raise BrowserUnavailable("The browser pool is shut down.")
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            executable = resolve_chromium_executable(
                self._browser_path, bundled=self._playwright.chromium.executable_path
            )
            self._remove_temp_root()
            # Chromium's own temporary files go to a directory the pool removes at close.
            self._temp_root = tempfile.mkdtemp(prefix="oauth-proxy-chromium-")
            env: dict[str, str | float | bool] = {
                key: os.environ[key] for key in BROWSER_ENV_KEYS if key in os.environ
            }
            env["TMPDIR"] = self._temp_root
            try:
                self._browser = await self._playwright.chromium.launch(
                    executable_path=executable,
                    headless=self.headless,
                    args=self._launch_args,
                    env=env,
                    handle_sigint=False,
                    handle_sigterm=False,
                    handle_sighup=False,
                )
            except PlaywrightError as exc:
                raise BrowserUnavailable(
                    f"Chromium would not start ({executable or 'Playwright browser'}): "
                    f"{str(exc).splitlines()[0]}"
                ) from exc
            logger.info(
                "browser started",
                extra={"version": self._browser.version, "headless": self.headless},
            )
            return self._browser

    async def close(self) -> None:
        """Close every context, the browser and Playwright's driver (their temp dirs go too)."""
        async with self._start_lock:
            self._closed = True
            for context in list(self._contexts):
                await _close_quietly(context)
            self._contexts.clear()
            if self._browser is not None:
                await _close_quietly(self._browser)
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
            self._remove_temp_root()

    def _remove_temp_root(self) -> None:
        if self._temp_root is not None:
            shutil.rmtree(self._temp_root, ignore_errors=True)
            self._temp_root = None

    @asynccontextmanager
    async def context(
        self,
        allowed_domains: Sequence[str],
        *,
        storage_state: dict[str, Any] | None = None,
        user_agent: str | None = None,
    ) -> AsyncIterator[GuardedContext]:
        """A fresh context for one login, closed (and its data gone) when the block ends.

        All its traffic, loopback included, goes through its own `EgressProxy`, which refuses
        hosts outside `allowed_domains` (redirect hops too, which Playwright's routing never
        sees); the context's request events say which refusals were the page being sent away.
        """
        browser = await self.start()
        allowed = tuple(allowed_domains)
        blocked: list[BlockedRequest] = []
        proxy = EgressProxy(
            lambda host, port: host_allowed(host, allowed, port),
            lambda url: record_blocked(blocked, url, navigation=False),
            allow_private=self.allow_private,
        )
        try:
            proxy_url = await proxy.start()
            context = await browser.new_context(
                accept_downloads=False,
                permissions=[],
                service_workers="block",
                storage_state=storage_state,  # type: ignore[arg-type]
                user_agent=user_agent,
                viewport={"width": 1280, "height": 800},
                # "<-loopback>": Chromium would otherwise reach 127.0.0.1 directly.
                proxy={"server": proxy_url, "bypass": "<-loopback>"},
            )
        except BaseException:
            await proxy.close()
            raise
        self._contexts.add(context)
        self.peak_open_contexts = max(self.peak_open_contexts, len(self._contexts))
        try:
            context.set_default_timeout(self.step_timeout_ms)
            guarded = GuardedContext(context, allowed, blocked)
            context.on("request", guarded._on_request)
            yield guarded
        finally:
            self._contexts.discard(context)
            await _close_quietly(context)
            await proxy.close()


async def _close_quietly(target: BrowserContext | Browser) -> None:
    with suppress(PlaywrightError):  # already gone with the browser
        await target.close()
