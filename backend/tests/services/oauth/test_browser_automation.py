"""The browser login engine against fake consoles on 127.0.0.1, with a real Chromium.

One pool (one Chromium) serves the module. Its Playwright driver runs with a private TMPDIR, so
at the end the test can tell that no profile or artifact directory is left, and that no
Chromium (or driver) process outlives the pool.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from app.services.oauth.browser import pool as pool_module
from app.services.oauth.browser_automation import (
    BrowserPool,
    BrowserUnavailable,
    LiveFrame,
    LoginFailed,
    LoginNotWaiting,
    LoginRecipe,
    LoginResult,
    LoginStatus,
    MissingLoginInput,
    NeedsNewLogin,
    host_allowed,
    recapture,
    resolve_chromium_executable,
    run_login,
    start_login,
)
from tests.fakes.consoles import (
    CAPTCHA_BOX,
    CAPTCHA_WORD,
    EMAIL,
    PASSWORD,
    PHONE,
    USERNAME,
    ConsoleSite,
    OutsideSite,
)
from tests.fakes.server import serve
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.browser

PLATFORMS_FILE = Path(__file__).resolve().parents[3] / "app" / "data" / "platforms.json"
SEED_SELECTORS = {
    "username_input": "input[name='username']",
    "password_input": "input[name='password']",
    "submit_button": "button[type='submit']",
}
USER = {"username": USERNAME, "password": PASSWORD}


# --- processes and temporary directories ---
#
# A pool's processes are told apart from any other Chromium on the machine by their TMPDIR:
# the driver inherits the test's private one, Chromium gets the pool's own. That also finds a
# Chromium orphaned to init, which a walk down from this process would miss.


def processes_with_tmpdir(*tmpdirs: str) -> list[tuple[int, str, list[str]]]:
    """Live processes whose TMPDIR is one of `tmpdirs`: (pid, name, command line)."""
    markers = {f"TMPDIR={d}".encode() for d in tmpdirs}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            if markers.isdisjoint(environ):
                continue
            name = Path(f"/proc/{entry}/comm").read_text().strip()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        found.append((int(entry), name, command))
    return found


def profile_dirs(processes: list[tuple[int, str, list[str]]]) -> set[str]:
    prefix = "--user-data-dir="
    return {
        arg[len(prefix) :] for *_, command in processes for arg in command if arg.startswith(prefix)
    }


def assert_nothing_left(tmpdir: Path, temp_root: str, profiles: set[str]) -> None:
    """No process of the pool, no profile, no temporary file."""
    deadline = time.monotonic() + 5
    while processes_with_tmpdir(str(tmpdir), temp_root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_tmpdir(str(tmpdir), temp_root) == []
    assert [p for p in profiles if os.path.exists(p)] == []
    assert sorted(os.listdir(tmpdir)) == []
    assert not os.path.exists(temp_root)


async def start_watched_pool(pool: BrowserPool, tmpdir: Path) -> tuple[str, set[str]]:
    """Start `pool` with its driver's TMPDIR set to `tmpdir`; returns what to check at the end."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TMPDIR", str(tmpdir))  # the driver, spawned now, makes its dirs here
        await pool.start()
    temp_root = pool.temp_dir
    assert temp_root is not None
    running = processes_with_tmpdir(str(tmpdir), temp_root)
    profiles = profile_dirs(running)
    # Otherwise the checks at the end would prove nothing.
    assert {name for _, name, _ in running} >= {"chromium"} and len(running) > 2
    assert profiles and all(p.startswith(str(tmpdir)) for p in profiles)
    return temp_root, profiles


# --- fixtures ---


@pytest.fixture(scope="module")
def outside() -> Iterator[tuple[OutsideSite, str]]:
    site = OutsideSite()
    with serve(site.app) as server:
        yield site, f"http://localhost:{server.port}"


@pytest.fixture(scope="module")
def consoles(outside: tuple[OutsideSite, str]) -> Iterator[tuple[ConsoleSite, str]]:
    site = ConsoleSite(outside_url=outside[1])
    with serve(site.app) as server:
        yield site, server.url


@pytest.fixture(scope="module")
async def pool(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserPool]:
    tmpdir = tmp_path_factory.mktemp("playwright-tmp")
    pool = BrowserPool(headless=True, step_timeout_ms=5_000, max_concurrent=3)
    try:
        temp_root, profiles = await start_watched_pool(pool, tmpdir)
        yield pool
    finally:
        await pool.close()
    assert_nothing_left(tmpdir, temp_root, profiles)


@pytest.fixture(autouse=True)
async def no_context_left(pool: BrowserPool) -> AsyncIterator[None]:
    yield
    browser = await pool.start()
    assert pool.open_contexts == 0
    assert browser.contexts == []


class Statuses:
    """An `on_update` that keeps every status and lets a test wait for one."""

    def __init__(self) -> None:
        self.items: list[LoginStatus] = []
        self._changed = asyncio.Event()

    async def __call__(self, status: LoginStatus) -> None:
        self.items.append(status)
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[LoginStatus], bool], within: float = 20
    ) -> LoginStatus:
        async with asyncio.timeout(within):
            while True:
                self._changed.clear()
                for status in self.items:
                    if predicate(status):
                        return status
                await self._changed.wait()

    def states(self) -> list[str]:
        return [s.state for s in self.items]


def seed_config(base: str, console: str, cookies: list[str], **extra: Any) -> dict[str, Any]:
    """An oauth_config in the seed's form, for one of the fake consoles."""
    return {
        "auth_url": f"{base}/{console}/login",
        "allowed_domains": [urlsplit(base).netloc],
        "login_selectors": SEED_SELECTORS,
        "cookie_names": cookies,
        **extra,
    }


def is_png(data: bytes | None) -> bool:
    return data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")


# --- the logins ---


async def test_password_login_with_the_seed_recipe_captures_the_named_cookies(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles
    recipe = LoginRecipe.from_oauth_config(seed_config(base, "pw", ["pw_session"]))
    statuses = Statuses()

    result = await run_login(pool, recipe, USER, on_update=statuses, deadline_s=30)

    session = [c for c in result.captured.cookies if c["name"] == "pw_session"]
    assert [c["name"] for c in result.captured.cookies] == ["pw_session"]  # not _ga
    assert site.sessions.get(session[0]["value"]) == "pw"
    assert {"pw_session", "_ga"} <= {c["name"] for c in result.storage_state["cookies"]}
    assert "Chrome/" in result.user_agent
    assert statuses.states()[-1] == "succeeded"
    assert {"fill_username", "fill_password"} <= {s.step for s in statuses.items}
    assert PASSWORD not in repr(statuses.items) + repr(result)


async def test_wrong_password_fails_with_the_pages_message(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    config = seed_config(base, "pw", ["pw_session"], error_selectors=[".error"])
    statuses = Statuses()

    with pytest.raises(LoginFailed) as failure:
        await run_login(
            pool,
            LoginRecipe.from_oauth_config(config),
            {"username": USERNAME, "password": "not-the-password"},
            on_update=statuses,
            deadline_s=30,
        )

    assert failure.value.reason == "rejected"
    assert failure.value.message == "Incorrect username or password."
    final = statuses.items[-1]
    assert (final.state, final.message) == ("failed", "Incorrect username or password.")
    assert "not-the-password" not in repr(statuses.items)


async def test_sms_code_is_asked_for_and_given_through_input(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles
    code_prompt = {
        "selector": "#sms-code",
        "kind": "sms",
        "prompt_selector": "#code-hint",
        "submit_selector": "#verify",
    }
    config = seed_config(base, "sms", ["sms_session"], code_prompts=[code_prompt])
    statuses = Statuses()
    handle = start_login(
        pool, LoginRecipe.from_oauth_config(config), USER, on_update=statuses, deadline_s=30
    )

    asked = await statuses.wait_for(lambda s: s.state == "needs_user_action")
    assert (asked.reason, asked.code_kind) == ("code", "sms")
    assert asked.prompt == "We sent a 6-digit code to 138****0000."
    assert is_png(asked.screenshot_png)
    await handle.provide_input(site.sms_codes[PHONE])
    result = await handle.result()

    assert [c["name"] for c in result.captured.cookies] == ["sms_session"]
    assert site.sessions[result.captured.cookies[0]["value"]] == "sms"
    with pytest.raises(LoginNotWaiting):
        await handle.provide_input("123456")
    assert site.sms_codes[PHONE] not in repr(statuses.items)


async def test_a_code_asked_without_the_platforms_words_says_only_its_kind(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    """No sentence of the service's own: the page words the question in its language."""
    site, base = consoles
    code_prompt = {"selector": "#sms-code", "kind": "sms", "submit_selector": "#verify"}
    config = seed_config(base, "sms", ["sms_session"], code_prompts=[code_prompt])
    statuses = Statuses()
    handle = start_login(
        pool, LoginRecipe.from_oauth_config(config), USER, on_update=statuses, deadline_s=30
    )

    asked = await statuses.wait_for(lambda s: s.state == "needs_user_action")
    assert (asked.reason, asked.code_kind, asked.prompt) == ("code", "sms", None)
    await handle.provide_input(site.sms_codes[PHONE])
    assert (await handle.result()).captured.cookies


async def test_email_code_login(pool: BrowserPool, consoles: tuple[ConsoleSite, str]) -> None:
    site, base = consoles
    config = {
        "auth_url": f"{base}/email/login",
        "allowed_domains": [urlsplit(base).netloc],
        "steps": [
            {"action": "goto", "url": f"{base}/email/login"},
            {"action": "fill", "selector": "#email", "value_from": "email"},
            {"action": "click", "selector": "#next"},
        ],
        "code_prompts": [
            {"selector": "input[name=otp]", "kind": "email", "prompt_selector": ".hint"}
        ],
        "success": {"cookies": ["mail_session"], "url_pattern": r"/email/console$"},
        "cookie_names": ["mail_session"],
    }
    statuses = Statuses()
    handle = start_login(
        pool,
        LoginRecipe.from_oauth_config(config),
        {"email": EMAIL},
        on_update=statuses,
        deadline_s=30,
    )

    asked = await statuses.wait_for(lambda s: s.state == "needs_user_action")
    assert (asked.reason, asked.code_kind) == ("code", "email")
    assert asked.prompt == "Enter the code we e-mailed to a***@example.com"
    await handle.provide_input(site.email_codes[EMAIL])
    result = await handle.result()

    assert site.sessions[result.captured.cookies[0]["value"]] == "email"


async def test_api_key_is_read_after_clicking_create(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles
    config = seed_config(
        base,
        "keys",
        ["keys_session"],
        capture={
            "cookies": ["keys_session"],
            "api_key": {
                "page_url": f"{base}/keys/api-keys",
                "create_selector": "#create-key",
                "key_selector": "#new-key, li.key",
                "key_pattern": "^sk-live-",
            },
        },
    )
    before = len(site.created_keys)

    result = await run_login(pool, LoginRecipe.from_oauth_config(config), USER, deadline_s=30)

    assert len(site.created_keys) == before + 1
    assert result.captured.api_key == site.created_keys[-1]
    assert "sk-live-" not in repr(result)


async def test_token_only_in_a_network_response_is_captured(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles

    result = await run_login(
        pool, LoginRecipe.from_oauth_config(xhr_config(base)), USER, deadline_s=30
    )

    token = site.xhr_tokens[-1]
    assert result.captured.response_field == token
    assert result.captured.request_header == f"Bearer {token}"
    assert result.captured.access_token == token
    assert result.captured.local_storage == {"xhr_user": USERNAME}
    assert result.captured.cookies == ()


def xhr_config(base: str) -> dict[str, Any]:
    return seed_config(
        base,
        "xhr",
        [],
        console_url=f"{base}/xhr/app",
        success={"request_url_pattern": r"/xhr/api/profile$", "local_storage_key": "xhr_user"},
        capture={
            "response_json": {"url_pattern": r"/xhr/api/token$", "field": "data.access_token"},
            "request_header": {"url_pattern": r"/xhr/api/profile$", "header": "Authorization"},
            "local_storage": ["xhr_user"],
        },
    )


async def test_captcha_needs_the_user_and_completes_through_the_live_view(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles
    config = seed_config(base, "captcha", ["cap_session"], challenge_selectors=["#captcha"])
    statuses = Statuses()
    handle = start_login(
        pool, LoginRecipe.from_oauth_config(config), USER, on_update=statuses, deadline_s=40
    )
    asked = await statuses.wait_for(lambda s: s.state == "needs_user_action")
    assert asked.reason == "challenge"
    assert is_png(asked.screenshot_png)

    frames: list[LiveFrame] = []

    async def sink(frame: LiveFrame) -> None:
        frames.append(frame)

    view = await handle.attach_live_view(sink)
    await wait_until(lambda: bool(frames))
    assert frames[0].jpeg.startswith(b"\xff\xd8")
    assert (frames[0].width, frames[0].height) == (1280, 800)
    with pytest.raises(ValidationError):
        await view.send({"type": "click", "x": -5, "y": 10})
    # The human: scrolls, clicks the box where the frame shows it, types the word, presses Enter.
    await view.send({"type": "scroll", "dy": 400})
    await wait_until(lambda: "scrolled" in site.events)
    left, top, width, height = CAPTCHA_BOX
    await view.send({"type": "click", "x": left + width / 2, "y": top + height / 2})
    await wait_until(lambda: "clicked" in site.events)
    await view.send({"type": "text", "text": CAPTCHA_WORD})
    await view.send({"type": "key", "key": "Enter"})
    result = await handle.result()

    assert site.sessions[result.captured.cookies[0]["value"]] == "captcha"
    assert [s.state for s in statuses.items[-2:]] == ["running", "succeeded"]
    assert view.closed


async def test_page_that_never_logs_in_fails_at_the_deadline(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    statuses = Statuses()
    started = time.monotonic()
    handle = start_login(
        pool,
        LoginRecipe.from_oauth_config(seed_config(base, "never", ["never_session"])),
        USER,
        on_update=statuses,
        deadline_s=6,
        step_timeout_ms=1_000,
    )

    with pytest.raises(LoginFailed) as failure:
        await handle.result()

    assert failure.value.reason == "deadline"
    # Not before the deadline; the upper bound only catches a login that ignores it (load varies).
    assert 5.9 < time.monotonic() - started < 60
    asked = [s for s in statuses.items if s.state == "needs_user_action"]
    assert asked and asked[0].reason == "unknown_page" and is_png(asked[0].screenshot_png)
    assert statuses.items[-1].message == "The login did not finish within 6 seconds."


@pytest.mark.parametrize(
    ("link", "refused"),
    [
        ("#help", "{outside}/steal"),  # a link straight out
        ("#sso", "{outside}/links/sso"),  # a link on the site that redirects out
    ],
)
async def test_link_outside_the_allowed_domains_is_blocked(
    pool: BrowserPool,
    consoles: tuple[ConsoleSite, str],
    outside: tuple[OutsideSite, str],
    link: str,
    refused: str,
) -> None:
    _, base = consoles
    outside_site, outside_url = outside
    config = {
        "auth_url": f"{base}/links/login",
        "allowed_domains": [urlsplit(base).netloc],
        "steps": [
            {"action": "goto", "url": f"{base}/links/login"},
            {"action": "click", "selector": link},
        ],
        "cookie_names": ["links_session"],
    }
    statuses = Statuses()

    with pytest.raises(LoginFailed) as failure:
        await run_login(
            pool, LoginRecipe.from_oauth_config(config), {}, on_update=statuses, deadline_s=30
        )

    assert failure.value.reason == "blocked"
    assert "localhost" in failure.value.message
    # (Chromium's own calls home, such as autofill queries, are refused too.)
    assert {
        "http://evil.example/pixel.gif",
        f"{outside_url}/links/logo.png",  # an image redirected out
        refused.format(outside=outside_url),
    } <= set(statuses.items[-1].blocked)
    assert sum(outside_site.hits.values()) == 0


async def test_ten_logins_with_a_cap_of_three_never_run_more_than_three_contexts(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    recipe = LoginRecipe.from_oauth_config(
        {"auth_url": f"{base}/quick/login", "allowed_domains": [urlsplit(base).netloc]}
        | {"cookie_names": ["quick_session"]}
    )
    browser = await pool.start()
    pool.peak_open_contexts = 0
    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, len(browser.contexts))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    logs = [Statuses() for _ in range(10)]
    handles = [start_login(pool, recipe, USER, on_update=log, deadline_s=60) for log in logs]
    for _ in range(3):  # let every login reach the queue; none can finish this soon
        await asyncio.sleep(0)
    positions = sorted(p for h in handles if (p := pool.queue_position(h.run_id)) is not None)
    results = await asyncio.gather(*(h.result() for h in handles))
    sampling = False
    await sampler

    assert positions == [1, 2, 3, 4, 5, 6, 7]
    assert all(isinstance(r, LoginResult) for r in results)
    assert peak == 3
    assert pool.peak_open_contexts == 3
    reported = {s.queue_position for log in logs for s in log.items if s.state == "queued"}
    assert max(p for p in reported if p is not None) == 7


async def test_refresh_recaptures_from_saved_storage_state_without_user_input(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    site, base = consoles
    xhr = LoginRecipe.from_oauth_config(xhr_config(base))
    seed = LoginRecipe.from_oauth_config(
        seed_config(base, "pw", ["pw_session"], console_url=f"{base}/pw/console")
    )
    # A console page that looks the same logged in or not: only the configured request can tell.
    checked = LoginRecipe.from_oauth_config(
        seed_config(
            base,
            "pw",
            ["pw_session"],
            console_url=f"{base}/pw/api/me",
            validate_request={"url": f"{base}/pw/api/me"},
        )
    )
    first_xhr, first_pw = await asyncio.gather(
        run_login(pool, xhr, USER, deadline_s=30), run_login(pool, seed, USER, deadline_s=30)
    )

    again = await asyncio.gather(
        recapture(pool, xhr, first_xhr.storage_state, first_xhr.user_agent),
        recapture(pool, seed, first_pw.storage_state, first_pw.user_agent),
        recapture(pool, checked, first_pw.storage_state, first_pw.user_agent),
    )
    assert all(isinstance(r, LoginResult) for r in again)
    again_xhr, again_pw, _ = (r for r in again if isinstance(r, LoginResult))
    assert again_xhr.captured.access_token == site.xhr_tokens[-1]
    assert again_xhr.captured.access_token != first_xhr.captured.access_token
    assert again_pw.captured.cookies == first_pw.captured.cookies

    site.expire_sessions()
    gone = await asyncio.gather(
        recapture(pool, xhr, again_xhr.storage_state, again_xhr.user_agent),
        recapture(pool, seed, again_pw.storage_state, again_pw.user_agent),
        recapture(pool, checked, again_pw.storage_state, again_pw.user_agent),
    )
    assert all(isinstance(g, NeedsNewLogin) for g in gone)


async def test_cancel_ends_a_login_waiting_for_the_user(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    config = seed_config(base, "sms", ["sms_session"], code_prompts=[{"selector": "#sms-code"}])
    statuses = Statuses()
    handle = start_login(
        pool, LoginRecipe.from_oauth_config(config), USER, on_update=statuses, deadline_s=30
    )
    await statuses.wait_for(lambda s: s.state == "needs_user_action")

    await handle.cancel()

    with pytest.raises(LoginFailed) as failure:
        await handle.result()
    assert failure.value.reason == "cancelled"
    assert statuses.items[-1].failure_reason == "cancelled"
    with pytest.raises(LoginNotWaiting):
        await handle.attach_live_view(lambda frame: asyncio.sleep(0))


async def test_login_without_a_needed_input_is_refused_up_front(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    recipe = LoginRecipe.from_oauth_config(seed_config(base, "pw", ["pw_session"]))

    with pytest.raises(MissingLoginInput, match="password"):
        start_login(pool, recipe, {"username": USERNAME})


async def test_contexts_grant_no_permissions_and_refuse_downloads(
    pool: BrowserPool, consoles: tuple[ConsoleSite, str]
) -> None:
    _, base = consoles
    async with pool.context([urlsplit(base).netloc]) as guarded:
        page = await guarded.context.new_page()
        await page.goto(f"{base}/pw/login")
        states = await page.evaluate(
            """() => Promise.all(['geolocation', 'notifications', 'camera', 'microphone']
                .map(name => navigator.permissions.query({name}).then(s => s.state)))"""
        )
        position = await page.evaluate(
            """() => new Promise(done => navigator.geolocation.getCurrentPosition(
                () => done('granted'), e => done('error ' + e.code), {timeout: 3000}))"""
        )
        async with page.expect_download() as started:
            await page.evaluate(f"location.href = '{base}/pw/report.csv'")
        download = await started.value
        refused = await download.failure()

    assert "granted" not in states
    assert position == "error 1"  # PERMISSION_DENIED
    assert refused is not None


# --- headed mode ---


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("headed mode needs a display or Xvfb (apt-get install xvfb)")
    number = 90 + os.getpid() % 100
    process = subprocess.Popen(
        [xvfb, f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        socket = Path(f"/tmp/.X11-unix/X{number}")  # noqa: S108  (where X puts it)
        while not socket.exists():
            assert process.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_headed_mode_opens_a_real_window(
    consoles: tuple[ConsoleSite, str], xvfb_display: str, tmp_path: Path
) -> None:
    _, base = consoles
    headed = BrowserPool(headless=False, step_timeout_ms=5_000, max_concurrent=1)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("DISPLAY", xvfb_display)
            temp_root, profiles = await start_watched_pool(headed, tmp_path)
        recipe = LoginRecipe.from_oauth_config(seed_config(base, "pw", ["pw_session"]))
        result = await run_login(headed, recipe, USER, deadline_s=30)
    finally:
        await headed.close()
    assert_nothing_left(tmp_path, temp_root, profiles)

    assert "HeadlessChrome" not in result.user_agent
    assert result.captured.cookies[0]["name"] == "pw_session"


# --- no browser needed ---


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("console.aliyun.com", True),
        ("aliyun.com", True),
        ("evilaliyun.com", False),
        ("aliyun.com.evil.example", False),
        ("127.0.0.1", True),
        ("localhost", False),
        ("127.0.0.2", False),
        ("a.b.alicdn.com", True),
        ("cdn.taobao.com", True),
    ],
)
def test_allowed_domains_include_subdomains_and_only_listed_addresses(
    host: str, allowed: bool
) -> None:
    listed = ["aliyun.com", "127.0.0.1", "*.alicdn.com", "https://taobao.com/"]
    assert host_allowed(host, listed) is allowed


def test_every_shipped_platform_config_parses_as_a_login_recipe() -> None:
    for platform in json.loads(PLATFORMS_FILE.read_text()):
        config = platform["oauth_config"]
        if "browser" not in config.get("login_methods", []):
            continue
        recipe = LoginRecipe.from_oauth_config(config)
        assert recipe.steps[0].action == "goto"
        assert recipe.success.cookies == tuple(config["cookie_names"])
        assert recipe.allowed_domains == tuple(config["allowed_domains"])


def test_chromium_is_found_or_named_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert resolve_chromium_executable(chromium) == chromium
    assert resolve_chromium_executable(None, bundled="/nonexistent/chrome") == chromium
    assert resolve_chromium_executable(None, bundled=chromium) is None
    with pytest.raises(BrowserUnavailable, match="PLAYWRIGHT_BROWSER_PATH"):
        resolve_chromium_executable("/nonexistent/chromium")
    monkeypatch.setattr(pool_module, "SYSTEM_CHROMIUM_PATHS", ())
    with pytest.raises(BrowserUnavailable, match="apt-get install chromium"):
        resolve_chromium_executable(None, bundled=None)
