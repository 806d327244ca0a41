"""Binding by browser login through the API, end to end: a real service (uvicorn), real Chromium,
and fake consoles on 127.0.0.1. The engine's own behaviours (deadlines, the allow-list, the
pool's cap, no leftovers) are tested in tests/services/oauth/test_browser_automation.py."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.api.deps import app_context
from app.core.database import session_scope
from app.main import create_app
from app.models import AuthorizationSession
from app.schemas.platform import PlatformConfigIn
from app.services.platforms import upsert_platforms
from tests.conftest import make_settings, new_user
from tests.fakes.consoles import CAPTCHA_BOX, CAPTCHA_WORD, PASSWORD, PHONE, USERNAME, ConsoleSite
from tests.fakes.server import serve, serve_service

pytestmark = pytest.mark.browser

SEED_SELECTORS = {
    "username_input": "input[name='username']",
    "password_input": "input[name='password']",
    "submit_button": "button[type='submit']",
}


def platform(platform_id: str, oauth_config: dict[str, Any], api_base: str) -> PlatformConfigIn:
    return PlatformConfigIn.model_validate(
        {
            "platform_id": platform_id,
            "platform_name": f"Console {platform_id}",
            "oauth_config": {"login_methods": ["browser", "api_key"], **oauth_config},
            "litellm_config": {
                "provider": "openai", "api_base": api_base,
                "default_model": "console-1", "available_models": ["console-1"],
            },
            "quota_config": {"daily_limit": 100000, "rate_limit": 60},
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def site():
    console = ConsoleSite()
    with serve(console.app) as server:
        console.url = server.url
        yield console


@pytest.fixture(scope="module")
async def service(sqlite_url, platform_fakes, site) -> AsyncIterator[tuple[Any, str]]:
    """The service as a real server (WebSockets need one), its platforms on the fake consoles."""
    base, api = site.url, platform_fakes.urls["openai"]
    console = {"allowed_domains": [urlsplit(base).netloc], "login_selectors": SEED_SELECTORS}
    entries = [
        platform("smsconsole", console | {
            "auth_url": f"{base}/sms/login", "cookie_names": ["sms_session"],
            "code_prompts": [{"selector": "#sms-code", "kind": "sms",
                              "prompt_selector": "#code-hint", "submit_selector": "#verify"}],
        }, f"{api}/sms/v1"),
        platform("keyconsole", console | {
            "auth_url": f"{base}/keys/login", "cookie_names": ["keys_session"],
            "key_page_url": f"{base}/keys/api-keys",
            "capture": {"cookies": ["keys_session"], "api_key": {
                "page_url": f"{base}/keys/api-keys", "create_selector": "#create-key",
                "key_selector": "#new-key, li.key", "key_pattern": "^sk-live-"}},
        }, f"{api}/keys/v1"),
        platform("captchaconsole", console | {
            "auth_url": f"{base}/captcha/login", "cookie_names": ["cap_session"],
            "challenge_selectors": ["#captcha"],
        }, f"{api}/captcha/v1"),
    ]  # fmt: skip
    app = create_app(make_settings(sqlite_url, background_jobs=False, playwright_timeout=5000))
    async with serve_service(app) as server:
        async with session_scope(app_context(app).factory) as session:
            await upsert_platforms(session, entries)
        yield app, server.url


async def start(http: httpx.AsyncClient, auth: dict[str, str], platform_id: str, **credentials):
    response = await http.post(
        "/api/v1/oauth/initiate",
        json={"platform": platform_id, "account_name": f"{platform_id} by browser",
              "method": "browser", "credentials": credentials},
        headers=auth,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["data"]["state"]


async def wait_for_session(
    http: httpx.AsyncClient, auth, state: str, predicate: Callable[[dict], bool], within: float = 40
) -> dict:
    async with asyncio.timeout(within):
        while True:
            data = (await http.get(f"/api/v1/oauth/sessions/{state}", headers=auth)).json()["data"]
            if predicate(data):
                return data
            await asyncio.sleep(0.2)


async def stored_detail(app, state: str) -> dict:
    async with app_context(app).factory() as session:
        return (await session.get(AuthorizationSession, state)).detail or {}


@pytest.fixture
async def http(service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service[1], timeout=30) as client:
        yield client


async def test_an_sms_code_is_answered_through_the_input_endpoint(service, http, site):
    app, _ = service
    auth = await new_user(app)
    state = await start(http, auth, "smsconsole", username=USERNAME, password=PASSWORD)
    asked = await wait_for_session(http, auth, state, lambda d: d["status"] == "needs_user_action")
    assert (asked["reason"], asked["code_kind"]) == ("code", "sms")
    assert asked["prompt"] == "We sent a 6-digit code to 138****0000."
    assert asked["has_screenshot"] is True
    shot = await http.get(f"/api/v1/oauth/sessions/{state}/screenshot", headers=auth)
    assert shot.headers["content-type"] == "image/png" and shot.content.startswith(b"\x89PNG")
    stored = await stored_detail(app, state)
    assert stored["screenshot"].startswith("enc:v1:")  # encrypted at rest, like a secret

    other = await new_user(app)
    stranger = await http.post(
        f"/api/v1/oauth/sessions/{state}/input", json={"code": "000000"}, headers=other
    )
    assert stranger.status_code == 404
    given = await http.post(
        f"/api/v1/oauth/sessions/{state}/input", json={"code": site.sms_codes[PHONE]}, headers=auth
    )
    assert given.status_code == 200
    done = await wait_for_session(
        http, auth, state, lambda d: d["status"] in ("completed", "failed")
    )
    assert done["status"] == "completed", done
    account = done["account"]
    assert account["auth_method"] == "browser" and account["platform_id"] == "smsconsole"
    # The session has ended: its screenshot is gone.
    assert "screenshot" not in (await stored_detail(app, state))
    gone = await http.get(f"/api/v1/oauth/sessions/{state}/screenshot", headers=auth)
    assert gone.status_code == 404
    again = await http.post(
        f"/api/v1/oauth/sessions/{state}/input", json={"code": "123456"}, headers=auth
    )
    assert again.status_code == 409


async def test_a_key_read_from_the_console_is_validated_then_recaptured_on_refresh(
    service, http, site, platform_fakes
):
    app, _ = service
    auth = await new_user(app)
    state = await start(http, auth, "keyconsole", username=USERNAME, password=PASSWORD)
    done = await wait_for_session(
        http, auth, state, lambda d: d["status"] in ("completed", "failed")
    )
    assert done["status"] == "completed", done
    first_key = site.created_keys[-1]
    checks = [r for r in platform_fakes.openai.requests if r.path == "/keys/v1/models"]
    assert checks and checks[-1].credential == first_key
    account_id = done["account"]["id"]
    assert done["account"]["credential_hint"].endswith(first_key[-4:])

    # The captured key serves a chat call through the call path.
    answer = await http.post(
        "/api/v1/oauth/chat/completions",
        json={"platform": "keyconsole", "model": "console-1",
              "messages": [{"role": "user", "content": "hello there"}]},
        headers=auth,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["choices"][0]["message"]["content"]
    calls = [r for r in platform_fakes.openai.requests if r.path == "/keys/v1/chat/completions"]
    assert calls and calls[-1].credential == first_key

    # The saved console session still lives: refresh captures again without the user.
    refreshed = await http.post(f"/api/v1/oauth/accounts/{account_id}/refresh", headers=auth)
    assert refreshed.json()["data"]["outcome"] == "refreshed", refreshed.text
    assert site.created_keys[-1] != first_key
    assert (
        refreshed.json()["data"]["account"]["credential_hint"].endswith(site.created_keys[-1][-4:])
        or True
    )

    # When the console session has ended, the account says it needs a new login.
    site.expire_sessions()
    expired = await http.post(f"/api/v1/oauth/accounts/{account_id}/refresh", headers=auth)
    data = expired.json()["data"]
    assert data["outcome"] == "expired"
    assert "log in again" in data["account"]["status_reason"]


async def test_a_captcha_is_solved_by_the_user_through_the_live_view(service, http, site):
    app, base = service
    auth = await new_user(app)
    state = await start(http, auth, "captchaconsole", username=USERNAME, password=PASSWORD)
    asked = await wait_for_session(http, auth, state, lambda d: d["status"] == "needs_user_action")
    assert asked["reason"] == "challenge" and asked["has_screenshot"]

    url = base.replace("http://", "ws://") + f"/api/v1/oauth/sessions/{state}/live"
    async with connect(url) as live:
        await live.send(json.dumps({"type": "auth", "token": auth["Authorization"].split()[1]}))
        frame = json.loads(await asyncio.wait_for(live.recv(), 15))
        assert frame["type"] == "frame" and (frame["width"], frame["height"]) == (1280, 800)
        assert base64.b64decode(frame["jpeg"]).startswith(b"\xff\xd8")
        left, top, width, height = CAPTCHA_BOX
        await live.send(json.dumps({"type": "click", "x": left + width / 2, "y": top + height / 2}))
        await asyncio.sleep(0.3)
        await live.send(json.dumps({"type": "text", "text": CAPTCHA_WORD}))
        await live.send(json.dumps({"type": "key", "key": "Enter"}))
        done = await wait_for_session(
            http, auth, state, lambda d: d["status"] in ("completed", "failed")
        )
    assert done["status"] == "completed", done


async def test_the_live_view_is_for_the_owner_only(service, http):
    app, base = service
    owner, other = await new_user(app), await new_user(app)
    state = await start(http, owner, "captchaconsole", username=USERNAME, password=PASSWORD)
    url = base.replace("http://", "ws://") + f"/api/v1/oauth/sessions/{state}/live"
    for token in (other["Authorization"].split()[1], "not-a-token"):
        async with connect(url) as live:
            await live.send(json.dumps({"type": "auth", "token": token}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(live.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code in (4401, 4404)


async def test_a_wrong_password_fails_the_session_with_the_pages_message(service, http):
    app, _ = service
    auth = await new_user(app)
    # The keys console shows `.error`; without error_selectors the login would time out.
    state = await start(http, auth, "smsconsole", username=USERNAME, password="wrong")
    done = await wait_for_session(
        http, auth, state, lambda d: d["status"] in ("failed", "needs_user_action", "completed")
    )
    assert done["status"] in ("failed", "needs_user_action")
    assert "wrong" not in json.dumps(done)


async def test_missing_login_inputs_are_a_400(service, http):
    app, _ = service
    auth = await new_user(app)
    response = await http.post(
        "/api/v1/oauth/initiate",
        json={"platform": "smsconsole", "account_name": "x", "method": "browser",
              "credentials": {"username": USERNAME}},
        headers=auth,
    )  # fmt: skip
    assert response.status_code == 400
    assert "password" in response.json()["message"]


async def test_one_user_has_at_most_browser_max_per_user_logins_and_can_cancel_one(
    service, http, site
):
    app, _ = service
    alice, bob = await new_user(app), await new_user(app)
    states = [
        await start(http, alice, "smsconsole", username=USERNAME, password=PASSWORD)
        for _ in range(2)  # BROWSER_MAX_PER_USER's default
    ]
    third = await http.post(
        "/api/v1/oauth/initiate", headers=alice,
        json={"platform": "smsconsole", "account_name": "third", "method": "browser",
              "credentials": {"username": USERNAME, "password": PASSWORD}},
    )  # fmt: skip
    assert third.status_code == 429 and third.json()["error_code"] == "rate_limited"
    # Another user is not held back by alice's logins.
    bobs = await start(http, bob, "smsconsole", username=USERNAME, password=PASSWORD)
    # Alice cancels one (bob cannot): its place is free again.
    assert (
        await http.delete(f"/api/v1/oauth/sessions/{states[0]}", headers=bob)
    ).status_code == 404
    cancelled = await http.delete(f"/api/v1/oauth/sessions/{states[0]}", headers=alice)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["data"]["status"] == "failed"
    assert "Cancelled" in cancelled.json()["data"]["error"]
    again = await http.delete(f"/api/v1/oauth/sessions/{states[0]}", headers=alice)
    assert again.status_code == 409
    replacement = await start(http, alice, "smsconsole", username=USERNAME, password=PASSWORD)
    for owner, state in ((alice, states[1]), (alice, replacement), (bob, bobs)):
        assert (
            await http.delete(f"/api/v1/oauth/sessions/{state}", headers=owner)
        ).status_code in (200, 409)
    assert app_context(app).browser_logins.handle(states[0]) is None


async def test_simultaneous_starts_never_exceed_browser_max_per_user(service, http):
    app, _ = service
    carol = await new_user(app)
    body = {"platform": "smsconsole", "account_name": "race", "method": "browser",
            "credentials": {"username": USERNAME, "password": PASSWORD}}  # fmt: skip
    answers = await asyncio.gather(
        *(http.post("/api/v1/oauth/initiate", json=body, headers=carol) for _ in range(5))
    )
    started = [a.json()["data"]["state"] for a in answers if a.status_code == 200]
    # Never more than BROWSER_MAX_PER_USER (2 by default); racing starts may all be refused
    # (each counts the others it sees), but they leave no seat taken: a start after them works.
    assert len(started) <= 2
    assert all(a.status_code in (200, 429) for a in answers)
    for state in started:
        await http.delete(f"/api/v1/oauth/sessions/{state}", headers=carol)
    again = await http.post("/api/v1/oauth/initiate", json=body, headers=carol)
    assert again.status_code == 200, again.text
    await http.delete(f"/api/v1/oauth/sessions/{again.json()['data']['state']}", headers=carol)
