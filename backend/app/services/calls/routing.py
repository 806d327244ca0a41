"""Which platform and model a request means, and which models a user can call.

`model` may be `platform/model` (any model name the platform accepts, listed or not), a plain
model name found in exactly one of the caller's platforms (or, failing that, of all enabled
platforms), or a platform id alone (its default model). A plain name no platform lists goes to
the one platform of the caller's whose `model_prefixes` it starts with (`claude-opus-5-5`, which
Claude Code asks for, to Claude); without one it is unknown (404). The seed's route names the
platform separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import BadRequest, NotFound
from app.models import OAuthAccount, PlatformConfig

# Model names go into URLs (Gemini: /models/{model}:generateContent): no path tricks.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,99}$")


@dataclass(frozen=True)
class Route:
    platform: PlatformConfig
    model: str


@dataclass(frozen=True)
class ModelEntry:
    id: str
    platform_id: str
    created: int
    kind: str = "chat"
    """chat, or embedding (a platform's `embedding_models`)."""


async def load_platforms(session: AsyncSession) -> dict[str, PlatformConfig]:
    rows = await session.scalars(select(PlatformConfig).order_by(PlatformConfig.id))
    return {row.platform_id: row for row in rows}


async def bound_platforms(session: AsyncSession, user_id: int) -> set[str]:
    """Platforms where the user has an enabled, unexpired account."""
    rows = await session.scalars(
        select(OAuthAccount.platform_id)
        .where(
            OAuthAccount.user_id == user_id,
            OAuthAccount.is_active.is_(True),
            OAuthAccount.is_expired.is_(False),
        )
        .distinct()
    )
    return set(rows)


async def route(
    factory: async_sessionmaker[AsyncSession],
    user_id: int,
    model: str | None,
    platforms: dict[str, PlatformConfig],
    platform_id: str | None = None,
) -> Route:
    """The route of a request, given the platform configs (the call path caches them)."""
    head = (model or "").partition("/")[0]
    if platform_id is not None or head in platforms:
        return resolve(model, platform_id, platforms, set())
    # Only a plain model name needs to know where the user has accounts.
    async with factory() as session:
        bound = await bound_platforms(session, user_id)
    return resolve(model, platform_id, platforms, bound)


def resolve(
    model: str | None,
    platform_id: str | None,
    platforms: dict[str, PlatformConfig],
    bound: set[str],
) -> Route:
    if platform_id is not None:
        platform = _platform(platforms, platform_id)
        name = model or ""
        if name.startswith(platform_id + "/"):
            name = name[len(platform_id) + 1 :]
        return Route(platform, _model_name(name or _default(platform)))
    if not model:
        raise BadRequest("`model` is required: `platform/model`, a model name, or a platform id.")
    head, slash, tail = model.partition("/")
    if slash and head in platforms:
        platform = _platform(platforms, head)
        return Route(platform, _model_name(tail or _default(platform)))
    if model in platforms:
        platform = _platform(platforms, model)
        return Route(platform, _default(platform))
    name = _model_name(model)
    offering = [p for p in platforms.values() if p.is_enabled and name in offered(p)]
    if not offering:  # a model newer than the list, named as its family's (claude-…, gemini-…)
        offering = [
            p
            for p in platforms.values()
            if p.is_enabled and p.platform_id in bound and _of_family(p, name)
        ]
    mine = [p for p in offering if p.platform_id in bound]
    choices = mine or offering
    if len(choices) == 1:
        return Route(choices[0], name)
    if not choices:
        raise NotFound(
            f"No platform offers the model {name!r}; GET /v1/models lists yours, and "
            "`platform/model` calls a model a platform does not list.",
            code="model_not_found",
        )
    options = ", ".join(f"{p.platform_id}/{name}" for p in choices)
    raise BadRequest(
        f"The model {name!r} is offered by several platforms; choose one of: {options}."
    )


def models_for(platforms: dict[str, PlatformConfig], bound: set[str]) -> list[ModelEntry]:
    """`platform/model` for each model of the user's platforms, and the plain name of each model
    that only one of them offers."""
    mine = [p for p in platforms.values() if p.is_enabled and p.platform_id in bound]
    owners: dict[str, list[str]] = {}
    entries: list[ModelEntry] = []
    for platform in mine:
        created = int(platform.created_at.timestamp()) if platform.created_at else 0
        embedding = set(_embedding_models(platform))
        for name in offered(platform):
            owners.setdefault(name, []).append(platform.platform_id)
            kind = "embedding" if name in embedding else "chat"
            entries.append(
                ModelEntry(f"{platform.platform_id}/{name}", platform.platform_id, created, kind)
            )
    plain = [
        ModelEntry(entry.id.split("/", 1)[1], entry.platform_id, entry.created, entry.kind)
        for entry in entries
        if len(owners[entry.id.split("/", 1)[1]]) == 1
    ]
    return entries + plain


def _platform(platforms: dict[str, PlatformConfig], platform_id: str) -> PlatformConfig:
    platform = platforms.get(platform_id)
    if platform is None:
        raise NotFound(f"Unknown platform {platform_id!r}.", code="platform_not_found")
    if not platform.is_enabled:
        raise BadRequest(
            f"The platform {platform.platform_name!r} is disabled by the administrator."
        )
    return platform


def _default(platform: PlatformConfig) -> str:
    return str(platform.litellm_config.get("default_model") or "")


def offered(platform: PlatformConfig) -> list[str]:
    """The models a platform lists: its chat models, then its embedding models."""
    listed = platform.litellm_config.get("available_models") or []
    return [str(m) for m in listed] + _embedding_models(platform)


def _embedding_models(platform: PlatformConfig) -> list[str]:
    return [str(m) for m in platform.litellm_config.get("embedding_models") or []]


def _of_family(platform: PlatformConfig, name: str) -> bool:
    prefixes = platform.litellm_config.get("model_prefixes") or []
    return any(name.startswith(str(prefix)) for prefix in prefixes)


def _model_name(name: str) -> str:
    if not _MODEL_NAME.match(name) or ".." in name:
        raise BadRequest(f"{name[:100]!r} is not a valid model name.")
    return name


async def list_models(session: AsyncSession, user_id: int) -> list[ModelEntry]:
    return models_for(await load_platforms(session), await bound_platforms(session, user_id))
