"""litellm is loaded offline, once, with no key from the environment and our log handling."""

from __future__ import annotations

import logging
import os

from sqlalchemy import select

from app.api.deps import app_context
from app.core.database import session_scope
from app.core.llm import LITELLM_LOGGERS, LLM, OFFLINE_SWITCHES, remove_provider_keys, start_import
from app.models import PlatformConfig
from app.services.calls import passthrough


def test_platform_keys_in_the_environment_are_removed():
    environ = {
        "OPENAI_API_KEY": "sk-x",
        "DASHSCOPE_API_KEY": "sk-y",
        "PATH": "/bin",
        "API_KEYS": "1",
    }
    assert sorted(remove_provider_keys(environ)) == ["DASHSCOPE_API_KEY", "OPENAI_API_KEY"]
    assert environ == {"PATH": "/bin", "API_KEYS": "1"}


async def test_litellm_is_imported_once_offline_with_our_logging():
    assert start_import() is start_import()
    module = await LLM(log_level="warning").module()
    for name, value in OFFLINE_SWITCHES.items():
        assert os.environ[name] == value
    assert not any(name.endswith("_API_KEY") for name in os.environ)
    assert module.cache is None and module.api_key is None
    for name in LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.propagate
        assert logger.level == logging.WARNING


def test_litellm_leaves_no_filters_on_other_libraries_loggers():
    start_import().result(timeout=120)
    for name in ("uvicorn.access", "uvicorn.error", "httpx"):
        filters = logging.getLogger(name).filters
        assert not [f for f in filters if type(f).__module__.startswith("litellm")], name


async def test_litellm_loads_at_start_only_when_a_platform_needs_it(app):
    """The shipped platforms include some on litellm's own handlers (Claude, Gemini, …); with
    only OpenAI-format platforms enabled, nothing needs litellm until a call does."""
    proxy = app_context(app).call_path
    assert await proxy.litellm_needed()
    factory = app_context(app).factory
    async with session_scope(factory) as session:
        platforms = list(await session.scalars(select(PlatformConfig)))
        shipped = {p.platform_id: p.is_enabled for p in platforms}
        for platform in platforms:
            platform.is_enabled = passthrough.eligible(platform)
    try:
        assert not await proxy.litellm_needed()
    finally:  # the app is shared by the session's tests
        async with session_scope(factory) as session:
            for platform in await session.scalars(select(PlatformConfig)):
                platform.is_enabled = shipped[platform.platform_id]
    assert await proxy.litellm_needed()
