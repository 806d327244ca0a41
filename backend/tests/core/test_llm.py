"""litellm is loaded offline, once, with no key from the environment and our log handling."""

from __future__ import annotations

import logging
import os

from app.core.llm import LITELLM_LOGGERS, LLM, OFFLINE_SWITCHES, remove_provider_keys, start_import


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
