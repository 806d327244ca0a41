"""The application's context: its long-lived parts, built once by the lifespan (`app/main.py`),
typed, and reached by routes through one dependency (`AppDep` in `app/api/deps.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from app.core.config import Settings
    from app.core.outbound import OutboundGuard
    from app.core.rate_limit import RateLimiter
    from app.core.security import TokenService
    from app.services.api_keys import ApiKeyCache
    from app.services.background import BackgroundJobs
    from app.services.calls.call_path import CallPath
    from app.services.oauth.browser_sessions import BrowserLogins
    from app.services.oauth.credential_store import CredentialStore
    from app.services.oauth.token_lifecycle import CredentialRenewer


@dataclass
class AppContext:
    """Settings, the database, Redis, the HTTP pool, credentials and tokens; then the parts built
    on them, which take this context themselves and so are attached right after it is made."""

    settings: Settings
    engine: AsyncEngine
    factory: async_sessionmaker[AsyncSession]
    redis: Redis | None
    http: httpx.AsyncClient
    outbound: OutboundGuard
    store: CredentialStore
    renewer: CredentialRenewer
    tokens: TokenService
    limiter: RateLimiter  # calls: a sliding-window counter
    guard_limiter: RateLimiter  # sign-ins and registrations: exact
    api_key_cache: ApiKeyCache
    # The schema revision this code expects (readiness compares the database's with it).
    migration_head: str | None
    call_path: CallPath = field(init=False)
    browser_logins: BrowserLogins = field(init=False)
    jobs: BackgroundJobs = field(init=False)
