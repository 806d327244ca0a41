"""`scripts/init_oauth_platforms.py`: an idempotent upsert from the shipped file or another."""

from __future__ import annotations

import json
import subprocess
import sys

from sqlalchemy import select

from app.core.database import create_engine, create_session_factory
from app.models import PlatformConfig
from tests.conftest import BACKEND_DIR, migrate_async

SCRIPT = BACKEND_DIR / "scripts" / "init_oauth_platforms.py"

NEW_PLATFORM = {
    "platform_id": "acme",
    "platform_name": "Acme AI",
    "description": "an OpenAI-compatible platform added by an operator",
    "oauth_config": {"login_methods": ["api_key"]},
    "litellm_config": {
        "provider": "openai",
        "api_base": "http://127.0.0.1:9/v1",
        "default_model": "acme-1",
        "available_models": ["acme-1"],
    },
    "quota_config": {"daily_limit": 5000, "rate_limit": 10},
    "is_enabled": True,
}


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "ENVIRONMENT": "test",
             "JWT_SECRET": "x", "CREDENTIAL_KEYS": "k:" + "A" * 43},
        capture_output=True,
        text=True,
        cwd=BACKEND_DIR,
        check=False,
    )  # fmt: skip


async def platforms(url: str) -> dict[str, PlatformConfig]:
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        rows = {p.platform_id: p for p in await session.scalars(select(PlatformConfig))}
    await engine.dispose()
    return rows


async def test_upsert_is_idempotent_adds_and_updates(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await migrate_async(url)
    first = run(url)
    assert first.returncode == 0, first.stderr
    assert "added: qwen, openai, claude, baidu, zhipu, spark, gemini, doubao" in first.stdout
    before = await platforms(url)
    second = run(url)
    assert "added: -; updated: -; unchanged: 8" in second.stdout
    assert {k: v.updated_at for k, v in (await platforms(url)).items()} == {
        k: v.updated_at for k, v in before.items()
    }

    extra = tmp_path / "acme.json"
    extra.write_text(json.dumps([NEW_PLATFORM]))
    assert "added: acme" in run(url, "--file", str(extra)).stdout
    changed = NEW_PLATFORM | {"platform_name": "Acme AI 2"}
    extra.write_text(json.dumps(changed))  # a single object is accepted too
    assert "updated: acme" in run(url, "--file", str(extra)).stdout
    assert (await platforms(url))["acme"].platform_name == "Acme AI 2"


async def test_only_missing_keeps_an_operators_edits(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await migrate_async(url)
    run(url)
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        qwen = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == "qwen")
        )
        qwen.platform_name = "Qwen (edited)"
        await session.delete(
            await session.scalar(
                select(PlatformConfig).where(PlatformConfig.platform_id == "spark")
            )
        )
        await session.commit()
    await engine.dispose()
    result = run(url, "--only-missing")
    assert "added: spark" in result.stdout
    rows = await platforms(url)
    assert rows["qwen"].platform_name == "Qwen (edited)"
    assert len(rows) == 8


def test_an_invalid_file_is_refused_with_a_reason(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"platform_id": "Bad Id!", "platform_name": "x"}]))
    result = run(f"sqlite+aiosqlite:///{tmp_path / 'never.db'}", "--file", str(bad))
    assert result.returncode == 2
    assert "Invalid platform file" in result.stderr and "platform_id" in result.stderr
    assert "Traceback" not in result.stderr


SEED_EXAMPLE = {  # the seed's own "平台配置示例", as written there
    "platform_id": "qwen",
    "platform_name": "通义千问",
    "oauth_config": {
        "auth_url": "https://dashscope.aliyun.com",
        "login_selectors": {
            "username_input": "input[name='username']",
            "password_input": "input[name='password']",
            "submit_button": "button[type='submit']",
        },
        "cookie_names": ["session_id", "auth_token"],
    },
    "litellm_config": {
        "provider": "qwen",
        "api_base": "https://dashscope.aliyuncs.com/compatible-mode/v1",
        "default_model": "qwen-turbo",
        "available_models": ["qwen-turbo", "qwen-plus", "qwen-max"],
    },
    "quota_config": {"daily_limit": 1000000, "rate_limit": 60},
}


async def test_the_seeds_example_merges_key_by_key_and_its_provider_is_an_alias(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await migrate_async(url)
    run(url)
    shipped = (await platforms(url))["qwen"]
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(SEED_EXAMPLE, ensure_ascii=False))

    loaded = run(url, "--file", str(seed_file))

    assert loaded.returncode == 0, loaded.stderr
    assert "updated: qwen" in loaded.stdout
    assert "litellm_config.available_models" in loaded.stdout  # what changed, by name
    assert "oauth_config.login_methods" not in loaded.stdout
    stored = (await platforms(url))["qwen"]
    assert stored.litellm_config["provider"] == "dashscope"  # the seed's name, resolved
    assert stored.litellm_config["available_models"] == ["qwen-turbo", "qwen-plus", "qwen-max"]
    assert stored.oauth_config["login_methods"] == shipped.oauth_config["login_methods"]
    assert stored.oauth_config["key_page_url"] == shipped.oauth_config["key_page_url"]
    assert stored.litellm_config["validate"] == shipped.litellm_config["validate"]
    assert "unchanged: 1" in run(url, "--file", str(seed_file)).stdout

    replaced = run(url, "--file", str(seed_file), "--replace")
    assert "oauth_config.login_methods" in replaced.stdout
    assert (await platforms(url))["qwen"].oauth_config == SEED_EXAMPLE["oauth_config"]


async def test_a_provider_litellm_cannot_serve_is_refused_with_the_valid_names(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    await migrate_async(url)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(NEW_PLATFORM | {"litellm_config": {
        **NEW_PLATFORM["litellm_config"], "provider": "acme-cloud"}}))  # fmt: skip
    result = run(url, "--file", str(bad))
    assert result.returncode == 2
    assert "Unknown provider 'acme-cloud'" in result.stderr
    assert "dashscope" in result.stderr and "qwen → dashscope" in result.stderr
    assert "acme" not in await platforms(url)


def test_the_providers_known_without_litellm_are_litellms():
    from app.core.llm import start_import
    from app.services.providers import SEED_ALIASES, SHIPPED_PROVIDERS, litellm_providers

    known = litellm_providers(start_import().result())
    assert known >= SHIPPED_PROVIDERS and set(SEED_ALIASES.values()) <= known
