"""A platform's `litellm_config.provider`: a name the call path can serve, or refused.

The call path hands every call to litellm under this name (the lean path, for `openai`, speaks
the same wire), so a name litellm does not know would fail every call with litellm's "LLM
Provider NOT provided". The seed names providers after platforms (`"provider": "qwen"`); those
names are taken as aliases of litellm's.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from app.core.errors import BadRequest
from app.schemas.platform import PlatformConfigIn

SEED_ALIASES = {
    "qwen": "dashscope",
    "tongyi": "dashscope",
    "claude": "anthropic",
    "doubao": "volcengine",
    "ark": "volcengine",
    # Platforms whose API the shipped configs reach on its OpenAI-compatible endpoint.
    "zhipu": "openai",
    "baidu": "openai",
    "qianfan": "openai",
    "spark": "openai",
}


SHIPPED_PROVIDERS = frozenset({"openai", "anthropic", "gemini", "dashscope", "volcengine"})
"""litellm providers the shipped platforms use: known without importing litellm (which takes
seconds), so loading a file of such platforms does not wait for it."""

ProviderList = Callable[[], frozenset[str]]


def litellm_providers(litellm: ModuleType) -> frozenset[str]:
    return frozenset(str(provider.value) for provider in litellm.provider_list)


def canonical_provider(name: str, providers: ProviderList) -> str:
    """litellm's name for `name` (an alias resolved), or a 400 listing the valid names;
    `providers` (litellm's list) is asked only for a name the shipped platforms do not use."""
    resolved = SEED_ALIASES.get(name, name)
    if resolved in SHIPPED_PROVIDERS:
        return resolved
    known = providers()
    if resolved in known:
        return resolved
    aliases = ", ".join(f"{alias} → {target}" for alias, target in SEED_ALIASES.items())
    raise BadRequest(
        f"Unknown provider {name!r}: litellm_config.provider must be one of litellm's providers "
        f"({', '.join(sorted(known))}) or an alias ({aliases})."
    )


def with_canonical_provider(entry: PlatformConfigIn, providers: ProviderList) -> PlatformConfigIn:
    provider = canonical_provider(entry.litellm_config.provider, providers)
    if provider == entry.litellm_config.provider:
        return entry
    litellm_config = entry.litellm_config.model_copy(update={"provider": provider})
    return entry.model_copy(update={"litellm_config": litellm_config})
