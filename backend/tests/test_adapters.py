"""Binding by key on each of the eight platforms: the key in its real shape, validated against a
fake of the platform's API in its wire format, stored only when the platform accepts it."""

from __future__ import annotations

import time
import warnings

import jwt
import pytest
from sqlalchemy import select

from app.api.deps import app_context
from app.models import OAuthAccount, PlatformConfig
from app.services.oauth.adapters import PLATFORM_ADAPTERS
from app.services.oauth.adapters.zhipu import mint_jwt
from tests.fakes.baidu_iam import FakeBaiduIam
from tests.fakes.server import serve


def decode_zhipu(token: str, secret: str) -> dict:
    # Zhipu's secrets are shorter than PyJWT recommends for HS256; that is the vendor's choice.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})


async def initiate(client, auth, platform: str, credentials: dict[str, str]):
    return await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": platform, "account_name": f"{platform} key", "method": "api_key",
              "credentials": credentials},
        headers=auth,
    )  # fmt: skip


async def accounts(client, auth) -> list[dict]:
    return (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]


# platform, credentials, fake kind, the validation request (method, path), where the key goes
CASES = [
    ("qwen", {"api_key": "sk-qwen-0123456789"}, "openai", ("GET", "/compatible-mode/v1/models"),
     ("authorization", "Bearer sk-qwen-0123456789")),
    ("openai", {"api_key": "sk-proj-0123456789"}, "openai", ("GET", "/v1/models"),
     ("authorization", "Bearer sk-proj-0123456789")),
    ("claude", {"api_key": "sk-ant-api03-0123456789"}, "anthropic", ("GET", "/v1/models"),
     ("x-api-key", "sk-ant-api03-0123456789")),
    ("baidu", {"api_key": "bce-v3/ALTAK-abc/0123456789"}, "openai", ("GET", "/v2/models"),
     ("authorization", "Bearer bce-v3/ALTAK-abc/0123456789")),
    ("zhipu", {"api_key": "0123abcd.s3cr3tvalue"}, "openai",
     ("POST", "/api/paas/v4/chat/completions"), ("authorization", "Bearer 0123abcd.s3cr3tvalue")),
    ("spark", {"api_password": "sparkpassword0123"}, "openai", ("POST", "/v1/chat/completions"),
     ("authorization", "Bearer sparkpassword0123")),
    ("gemini", {"api_key": "AIzaSyA-0123456789abcdefghij"}, "gemini", ("GET", "/v1beta/models"),
     ("x-goog-api-key", "AIzaSyA-0123456789abcdefghij")),
    ("doubao", {"api_key": "ark-0123456789-key"}, "openai", ("GET", "/api/v3/models"),
     ("authorization", "Bearer ark-0123456789-key")),
]  # fmt: skip


def test_every_seed_platform_has_an_adapter():
    assert set(PLATFORM_ADAPTERS) == {c[0] for c in CASES}


@pytest.mark.parametrize(("platform", "credentials", "kind", "request_line", "header"), CASES)
async def test_key_import_is_validated_against_the_platform(
    client, auth, platform_fakes, platform, credentials, kind, request_line, header
):
    response = await initiate(client, auth, platform, credentials)
    assert response.status_code == 200, response.text
    account = response.json()["data"]["account"]
    assert account["platform_id"] == platform and account["status"] == "active"
    seen = getattr(platform_fakes, kind).requests
    assert [(r.method, r.path) for r in seen] == [request_line]
    name, value = header
    assert seen[0].headers[name] == value
    if platform == "claude":
        assert seen[0].headers["anthropic-version"] == "2023-06-01"
    secret = next(iter(credentials.values()))
    assert secret not in response.text
    assert account["credential_hint"].endswith(secret[-4:])


@pytest.mark.parametrize(("platform", "credentials", "kind", "request_line", "header"), CASES)
async def test_a_rejected_key_is_a_clear_400_and_nothing_is_stored(
    client, auth, platform_fakes, platform, credentials, kind, request_line, header
):
    bad = {k: v + "-invalid" for k, v in credentials.items()}
    response = await initiate(client, auth, platform, bad)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    async with app_context(client._transport.app).factory() as session:  # the platform's own name
        name = await session.scalar(
            select(PlatformConfig.platform_name).where(PlatformConfig.platform_id == platform)
        )
    assert message.startswith(f"{name} refused") and "HTTP 4" in message
    assert next(iter(bad.values())) not in message
    assert await accounts(client, auth) == []


async def test_an_unreachable_platform_is_a_502_and_nothing_is_stored(client, auth, platform_fakes):
    from tests.fakes.upstream import Drop

    platform_fakes.openai.script(Drop())
    response = await initiate(client, auth, "spark", {"api_password": "pw-0123456789"})
    assert response.status_code == 502
    assert "try again in a minute" in response.json()["message"]
    assert "ConnectError" not in response.json()["message"]
    assert await accounts(client, auth) == []


async def test_openai_organization_and_project_are_sent(client, auth, platform_fakes):
    response = await initiate(
        client, auth, "openai",
        {"api_key": "sk-proj-org0123456", "organization": "org-abc", "project": "proj_123"},
    )  # fmt: skip
    assert response.status_code == 200
    headers = platform_fakes.openai.requests[0].headers
    assert headers["openai-organization"] == "org-abc" and headers["openai-project"] == "proj_123"


async def test_qwen_region_picks_the_regions_base_url(client, auth, platform_fakes):
    response = await initiate(
        client, auth, "qwen", {"api_key": "sk-intl-0123456789", "region": "ap-southeast-1"}
    )
    assert response.status_code == 200
    assert platform_fakes.openai.requests[0].path == "/ap-southeast-1/compatible-mode/v1/models"
    unknown = await initiate(client, auth, "qwen", {"api_key": "sk-x-0123456789", "region": "mars"})
    assert unknown.status_code == 400 and "cn-beijing" in unknown.json()["message"]


async def test_spark_accepts_key_and_secret(client, auth, platform_fakes):
    response = await initiate(
        client, auth, "spark", {"api_key": "key123", "api_secret": "secret456"}
    )
    assert response.status_code == 200
    assert platform_fakes.openai.requests[0].headers["authorization"] == "Bearer key123:secret456"
    assert platform_fakes.openai.requests[0].json["model"] == "lite"


@pytest.mark.parametrize(
    ("platform", "credentials", "expected"),
    [
        ("baidu", {"api_key": "sk-not-a-qianfan-key"}, "bce-v3/"),
        ("zhipu", {"api_key": "no-dot-here"}, "<id>.<secret>"),
        ("zhipu", {"api_key": "a.b", "auth_mode": "magic"}, "auth_mode"),
        ("openai", {"api_key": "sk-x-0123456789", "organization": "org/../x"}, "organization"),
        ("baidu", {"access_key": "ak-only"}, "secret_key"),
        ("claude", {"token": "sk-ant"}, "api_key"),
    ],
)
async def test_malformed_keys_are_refused_before_any_request(
    client, auth, platform_fakes, platform, credentials, expected
):
    response = await initiate(client, auth, platform, credentials)
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert platform_fakes.openai.requests == platform_fakes.anthropic.requests == []


async def test_zhipu_jwt_mode_sends_a_minted_token_with_millisecond_timestamps(
    client, auth, platform_fakes
):
    def verify(token: str) -> bool:
        try:
            decode_zhipu(token, "s3cr3tvalue")
        except jwt.PyJWTError:
            return False
        return True

    platform_fakes.openai.keys = verify
    response = await initiate(
        client, auth, "zhipu", {"api_key": "0123abcd.s3cr3tvalue", "auth_mode": "jwt"}
    )
    assert response.status_code == 200, response.text
    token = platform_fakes.openai.requests[0].headers["authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["sign_type"] == "SIGN"
    claims = decode_zhipu(token, "s3cr3tvalue")
    assert claims["api_key"] == "0123abcd"
    now_ms = time.time() * 1000
    assert abs(claims["timestamp"] - now_ms) < 60_000  # milliseconds, not seconds
    assert claims["exp"] - claims["timestamp"] == 3600 * 1000
    assert response.json()["data"]["account"]["expires_at"] is not None


def test_zhipu_jwt_expiry_matches_its_exp_claim():
    token, expires_at = mint_jwt("id.secret", now_s=1_700_000_000, lifetime_s=60)
    claims = decode_zhipu(token, "secret")
    assert claims == {"api_key": "id", "exp": 1_700_000_060_000, "timestamp": 1_700_000_000_000}
    assert expires_at.timestamp() == 1_700_000_060


@pytest.fixture
async def baidu_iam(app):
    """The Baidu platform's IAM endpoint moved onto a fake that checks signatures."""
    iam = FakeBaiduIam("AKfake0123", "SKfake4567")
    with serve(iam.app) as server:
        async with app_context(app).factory() as session:
            baidu = await session.scalar(
                select(PlatformConfig).where(PlatformConfig.platform_id == "baidu")
            )
            original = dict(baidu.oauth_config)
            baidu.oauth_config = original | {
                "iam_token_endpoint": f"{server.url}/v1/BCE-BEARER/token"
            }
            await session.commit()
        yield iam
        async with app_context(app).factory() as session:
            baidu = await session.scalar(
                select(PlatformConfig).where(PlatformConfig.platform_id == "baidu")
            )
            baidu.oauth_config = original
            await session.commit()


async def test_baidu_ak_sk_is_exchanged_for_a_bearer_token_and_renewed(
    app, client, auth, platform_fakes, baidu_iam
):
    response = await initiate(
        client, auth, "baidu", {"access_key": "AKfake0123", "secret_key": "SKfake4567"}
    )
    assert response.status_code == 200, response.text
    account = response.json()["data"]["account"]
    assert account["expires_at"] is not None
    first_token = baidu_iam.issued[0]
    assert platform_fakes.openai.requests[0].headers["authorization"] == f"Bearer {first_token}"

    # The renewer exchanges the pair again and stores the new token.
    outcome = await app_context(app).renewer.renew(account["id"], revalidate=False)
    assert outcome.outcome == "refreshed"
    assert len(baidu_iam.issued) == 2
    async with app_context(app).factory() as session:
        stored = await session.get(OAuthAccount, account["id"])
        assert app_context(app).store.load(stored).access_token == baidu_iam.issued[1]


async def test_baidu_wrong_secret_key_is_refused(client, auth, platform_fakes, baidu_iam):
    response = await initiate(
        client, auth, "baidu", {"access_key": "AKfake0123", "secret_key": "wrong"}
    )
    assert response.status_code == 400
    assert "AK/SK" in response.json()["message"]
    assert baidu_iam.issued == [] and platform_fakes.openai.requests == []
