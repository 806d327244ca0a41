"""The adapter registry: `PLATFORM_ADAPTERS` names the platforms that need code of their own.

A platform absent from it is served by the adapter of its litellm provider's wire format, so a
platform added only as data (the platform config file) works without a release.
"""

from __future__ import annotations

import httpx

from app.models import PlatformConfig
from app.services.oauth.adapters.baidu import BaiduAdapter
from app.services.oauth.adapters.base import BasePlatformAdapter
from app.services.oauth.adapters.claude import ClaudeAdapter
from app.services.oauth.adapters.doubao import DoubaoAdapter
from app.services.oauth.adapters.gemini import GeminiAdapter
from app.services.oauth.adapters.openai import OpenAIAdapter
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter
from app.services.oauth.adapters.qwen import QwenAdapter
from app.services.oauth.adapters.spark import SparkAdapter
from app.services.oauth.adapters.zhipu import ZhipuAdapter

PLATFORM_ADAPTERS: dict[str, type[BasePlatformAdapter]] = {
    "qwen": QwenAdapter,
    "openai": OpenAIAdapter,
    "claude": ClaudeAdapter,
    "baidu": BaiduAdapter,
    "zhipu": ZhipuAdapter,
    "spark": SparkAdapter,
    "gemini": GeminiAdapter,
    "doubao": DoubaoAdapter,
}

ADAPTERS_BY_PROVIDER: dict[str, type[BasePlatformAdapter]] = {
    "anthropic": ClaudeAdapter,
    "gemini": GeminiAdapter,
}


def create_adapter(config: PlatformConfig, http: httpx.AsyncClient) -> BasePlatformAdapter:
    cls = PLATFORM_ADAPTERS.get(config.platform_id) or ADAPTERS_BY_PROVIDER.get(
        config.litellm_config.get("provider", ""), OpenAICompatibleAdapter
    )
    return cls(config, http)


__all__ = ["PLATFORM_ADAPTERS", "BasePlatformAdapter", "create_adapter"]
