"""DEMO_MODE: a platform called `demo`, served in-process, so that a newcomer sees a call work
without any real account. Bind it with any key (`{"api_key": "demo"}`), then call `demo/demo-echo`.

Off by default; the settings refuse it in production. When it is off, a `demo` platform left in the
database by an earlier run is disabled.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import session_scope
from app.models import PlatformConfig
from app.schemas.platform import PlatformConfigIn
from app.services.demo.upstream import DEMO_MODELS, DemoUpstream
from app.services.platforms import upsert_platforms

logger = logging.getLogger(__name__)

DEMO_PLATFORM_ID = "demo"


def demo_platform(api_base: str) -> PlatformConfigIn:
    return PlatformConfigIn.model_validate(
        {
            "platform_id": DEMO_PLATFORM_ID,
            "platform_name": "Demo",
            "description": "A fake platform served by this service (DEMO_MODE); any key works.",
            "oauth_config": {"login_methods": ["api_key"]},
            "litellm_config": {
                "provider": "openai",
                "api_base": api_base,
                "default_model": DEMO_MODELS[0],
                "available_models": list(DEMO_MODELS),
            },
            "quota_config": {"daily_limit": 1_000_000, "rate_limit": 60},
            "is_enabled": True,
        }
    )


async def start_demo(factory: async_sessionmaker[AsyncSession]) -> DemoUpstream:
    upstream = await DemoUpstream(chunks=8).start()
    async with session_scope(factory) as session:
        await upsert_platforms(session, [demo_platform(upstream.url + "/v1")])
    logger.warning("DEMO_MODE: the `demo` platform answers at %s", upstream.url)
    return upstream


async def retire_demo(factory: async_sessionmaker[AsyncSession]) -> None:
    """Disable a demo platform left by an earlier run (its server is gone)."""
    try:
        async with session_scope(factory) as session:
            await session.execute(
                update(PlatformConfig)
                .where(
                    PlatformConfig.platform_id == DEMO_PLATFORM_ID,
                    PlatformConfig.is_enabled.is_(True),
                )
                .values(is_enabled=False)
            )
    except SQLAlchemyError:  # an unmigrated database: /readyz reports it, start-up goes on
        logger.debug("could not check for a demo platform", exc_info=True)
