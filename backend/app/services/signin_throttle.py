"""Sign-in throttling that slows a guesser without letting anyone lock a user out.

    per address             SIGNIN_IP_LIMIT attempts, whatever the name
    per (name, address)     SIGNIN_FAILURE_LIMIT failures: a guesser at one address stops here
    per name, any address   SIGNIN_USER_LIMIT failures, tiers well above the pair's (e.g.
                            `30/minute;100/hour;300/day`): a guesser spread over many addresses
                            waits a minute, then an hour, then a day — growing delays, no
                            flat lockout — and an address that has signed in as that user
                            before is never held back by failures from elsewhere.

Client addresses come from X-Forwarded-For only behind FORWARDED_ALLOW_IPS (app/main.py).
"""

from __future__ import annotations

from limits import RateLimitItem, parse_many
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.core.rate_limit import RateLimiter
from app.models import AuditEvent, User


class SignInThrottle:
    def __init__(self, limiter: RateLimiter, settings: Settings, name: str, client: str) -> None:
        self.limiter = limiter
        self.client = client
        self.name = name
        self.per_client = limiter.item(settings.signin_ip_limit)
        self.per_pair = limiter.item(settings.signin_failure_limit)
        self.per_name: list[RateLimitItem] = list(parse_many(settings.signin_user_limit))
        self.pair_key = ("signin-failures", name.casefold(), client)
        self.name_key = ("signin-name-failures", name.casefold())

    async def check(self, session: AsyncSession) -> None:
        """Raises 429 (with Retry-After) when this attempt must wait."""
        if not await self.limiter.hit(self.per_client, "signin", self.client):
            await self._refuse("from this address", self.per_client, "signin", self.client)
        if not await self.limiter.allows(self.per_pair, *self.pair_key):
            await self._refuse("for this user name from this address", self.per_pair,
                               *self.pair_key)  # fmt: skip
        blocked = [
            limit for limit in self.per_name if not await self.limiter.allows(limit, *self.name_key)
        ]
        if blocked and not await self._signed_in_here_before(session):
            await self._refuse("for this user name", blocked[-1], *self.name_key)

    async def failed(self) -> None:
        await self.limiter.hit(self.per_pair, *self.pair_key)
        for limit in self.per_name:
            await self.limiter.hit(limit, *self.name_key)

    async def _signed_in_here_before(self, session: AsyncSession) -> bool:
        user_id = await session.scalar(select(User.id).where(User.username == self.name))
        if user_id is None:
            return False
        found = await session.scalar(
            select(AuditEvent.id)
            .where(
                AuditEvent.user_id == user_id,
                AuditEvent.action == "user.sign_in",
                AuditEvent.outcome == "success",
                AuditEvent.client == self.client,
            )
            .limit(1)
        )
        return found is not None

    async def _refuse(self, scope: str, limit: RateLimitItem, *key: str) -> None:
        raise TooManyRequests(
            f"Too many failed sign-ins {scope}; try again later.",
            retry_after_s=await self.limiter.retry_after_s(limit, *key),
        )
