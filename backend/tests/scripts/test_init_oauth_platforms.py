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
