"""Keeping credentials alive: renewal ahead of expiry, on demand, and after a 401.

One renewal per account at a time across every worker and instance: a worker first claims the
account's `refresh_lock_until` with a conditional UPDATE (committed before any network call);
a worker that finds it claimed waits for the holder and reads its result, so concurrent
renewals collapse into one request to the platform.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.crypto import DecryptionError
from app.core.database import session_scope, utcnow
from app.core.metrics import CREDENTIAL_RENEWALS
from app.core.outbound import OutboundGuard
from app.models import OAuthAccount, PlatformConfig
from app.services import platform_secrets
from app.services.calls import account_state
from app.services.oauth import oauth2_client
from app.services.oauth.adapters import create_adapter
from app.services.oauth.adapters.base import (
    BoundCredential,
    CredentialRejected,
    PlatformUnreachable,
    RefreshRejected,
)
from app.services.oauth.adapters.errors import Classified
from app.services.oauth.browser_automation import (
    BrowserPool,
    LoginFailed,
    NeedsNewLogin,
    recapture,
)
from app.services.oauth.browser_credentials import bound_from, recipe_for
from app.services.oauth.credential_store import AccountSecrets, CredentialStore

logger = logging.getLogger(__name__)

LOCK_TTL = timedelta(seconds=90)
OAUTH_REFRESH_ATTEMPTS = 2
Outcome = Literal["refreshed", "valid", "expired", "unreachable", "gone"]
# Written before the reason of a renewal that could not reach the platform: how a worker that
# waited for another's renewal tells that failure from a success.
RENEWAL_FAILED = "Renewal failed: "


@dataclass(frozen=True)
class RenewalOutcome:
    outcome: Outcome
    message: str


class CredentialRenewer:
    def __init__(
        self,
        settings: Settings,
        factory: async_sessionmaker[AsyncSession],
        store: CredentialStore,
        http: httpx.AsyncClient,
        browser_pool: BrowserPool | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.store = store
        self.http = http
        self.browser_pool = browser_pool
        self.outbound = OutboundGuard(allow_private=settings.allows_private_outbound)
        self._local: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last: dict[int, tuple[float, RenewalOutcome]] = {}

    async def renew(self, account_id: int, *, revalidate: bool = True) -> RenewalOutcome:
        """Refresh the account's credential if it can be refreshed, else (with `revalidate`)
        check it against the platform. Marks the account expired when the platform refuses."""
        # Within this process a lock queues renewals of one account (a caller that waited gets
        # the result of the renewal that finished meanwhile); across processes, the claim.
        asked_at = time.monotonic()
        async with self._local[account_id]:
            finished = self._last.get(account_id)
            if finished is not None and finished[0] > asked_at:
                return finished[1]
            if await self._claim(account_id):
                try:
                    outcome = await self._renew_claimed(account_id, revalidate)
                finally:
                    await self._release(account_id)
                CREDENTIAL_RENEWALS.labels(outcome.outcome).inc()
            else:
                outcome = await self._await_other_worker(account_id)
            self._last[account_id] = (time.monotonic(), outcome)
            return outcome

    async def refresh_after_unauthorized(self, account_id: int) -> bool:
        """For the call path: one renewal after a 401. True when the credential may now work."""
        outcome = await self.renew(account_id, revalidate=False)
        return outcome.outcome in ("refreshed", "valid")

    async def renew_due(self) -> int:
        """Renew every active credential that expires within its platform's lead time."""
        horizon = utcnow() + timedelta(seconds=self.settings.token_refresh_lead)
        async with self.factory() as session:
            due = list(
                await session.scalars(
                    select(OAuthAccount.id).where(
                        OAuthAccount.is_active.is_(True),
                        OAuthAccount.is_expired.is_(False),
                        OAuthAccount.expires_at.is_not(None),
                        OAuthAccount.expires_at < horizon,
                    )
                )
            )
        for account_id in due:
            outcome = await self.renew(account_id, revalidate=False)
            logger.info("renewal of account %s: %s", account_id, outcome.outcome)
        return len(due)

    # --- the cross-worker claim ---

    async def _claim(self, account_id: int) -> bool:
        now = utcnow()
        async with session_scope(self.factory) as session:
            result = await session.execute(
                update(OAuthAccount)
                .where(
                    OAuthAccount.id == account_id,
                    or_(
                        OAuthAccount.refresh_lock_until.is_(None),
                        OAuthAccount.refresh_lock_until < now,
                    ),
                )
                .values(refresh_lock_until=now + LOCK_TTL)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    async def _release(self, account_id: int) -> None:
        async with session_scope(self.factory) as session:
            await session.execute(
                update(OAuthAccount)
                .where(OAuthAccount.id == account_id)
                .values(refresh_lock_until=None)
                .execution_options(synchronize_session=False)
            )

    async def _await_other_worker(self, account_id: int) -> RenewalOutcome:
        deadline = utcnow() + LOCK_TTL
        while utcnow() < deadline:
            await asyncio.sleep(0.05)
            async with self.factory() as session:
                account = await session.get(OAuthAccount, account_id)
                if account is None:
                    return RenewalOutcome("gone", "The account no longer exists.")
                lock_until = account.refresh_lock_until
                if lock_until is None or lock_until < utcnow():
                    return _outcome_left_by_other_worker(account)
        return RenewalOutcome("unreachable", "Another renewal of this account did not finish.")

    # --- the renewal itself ---

    async def _renew_claimed(self, account_id: int, revalidate: bool) -> RenewalOutcome:
        async with self.factory() as session:
            account = await session.get(OAuthAccount, account_id)
            platform = (
                await session.scalar(
                    select(PlatformConfig).where(PlatformConfig.platform_id == account.platform_id)
                )
                if account
                else None
            )
        if account is None or platform is None:
            return RenewalOutcome("gone", "The account or its platform no longer exists.")
        try:
            secrets = self.store.load(account)
        except DecryptionError:
            return await self._mark_expired(
                account_id, "The stored credential can no longer be read; bind the account again."
            )
        adapter = create_adapter(platform, self.http)
        settings = dict(account.settings or {})
        try:
            if account.auth_method in ("oauth", "device") and secrets.refresh_token:
                return await self._refresh_oauth(account_id, platform, secrets)
            if account.auth_method == "browser" and self.browser_pool is not None:
                return await self._recapture(account_id, platform, secrets)
            if adapter.supports_refresh and account.expires_at is not None:
                renewed = await adapter.refresh_token(secrets, settings)
                await self._save(account_id, renewed.secrets, renewed.expires_at)
                return RenewalOutcome("refreshed", "The credential was renewed.")
            if not revalidate:
                return RenewalOutcome(
                    "unreachable",
                    f"{platform.platform_name} credentials of this kind cannot be renewed.",
                )
            _, limited = await adapter.checked(BoundCredential(secrets, settings=settings))
            await self._save(account_id, None, account.expires_at)
            if limited is not None:
                return await self._note_limit(account, platform, limited)
            return RenewalOutcome("valid", f"{platform.platform_name} accepted the credential.")
        except oauth2_client.ProviderError as exc:
            if exc.error == "invalid_grant":
                return await self._mark_expired(
                    account_id,
                    f"{platform.platform_name} refused to renew the authorization (invalid_grant); "
                    "authorize the account again.",
                )
            return RenewalOutcome("unreachable", f"The authorization server answered {exc.error}.")
        except RefreshRejected as exc:
            return await self._mark_expired(account_id, exc.reason)
        except CredentialRejected as exc:
            return await self._mark_expired(account_id, exc.message)
        except PlatformUnreachable as exc:
            return await self._mark_unreachable(account_id, exc.message)

    async def _refresh_oauth(
        self, account_id: int, platform: PlatformConfig, secrets: AccountSecrets
    ) -> RenewalOutcome:
        """An OAuth refresh-token grant, tried again once when the server cannot be reached or
        fails (5xx, a stall); the new tokens saved."""
        assert secrets.refresh_token is not None
        config = oauth2_client.OAuthClientConfig.for_method(
            platform.platform_name,
            platform_secrets.opened(self.store.cipher, platform.platform_id, platform.oauth_config),
            "refresh",
            timeout_s=self.settings.outbound_timeout,
            outbound=self.outbound,
        )
        for attempt in range(1, OAUTH_REFRESH_ATTEMPTS + 1):
            try:
                tokens = await oauth2_client.refresh(config, secrets.refresh_token)
                break
            except PlatformUnreachable:
                if attempt == OAUTH_REFRESH_ATTEMPTS:
                    raise
        secrets.access_token = tokens.access_token
        secrets.refresh_token = tokens.refresh_token
        await self._save(account_id, secrets, tokens.expires_at)
        return RenewalOutcome("refreshed", "The access token was renewed.")

    async def _recapture(
        self, account_id: int, platform: PlatformConfig, secrets: AccountSecrets
    ) -> RenewalOutcome:
        """Reopen the console with the saved browser session and capture the credential again."""
        assert self.browser_pool is not None
        saved = secrets.extra.get("storage_state")
        if not saved:
            return await self._mark_expired(account_id, "No saved browser session: log in again.")
        try:
            result = await recapture(
                self.browser_pool, recipe_for(platform), saved, secrets.extra.get("user_agent")
            )
        except LoginFailed as exc:
            return RenewalOutcome("unreachable", exc.message)
        if isinstance(result, NeedsNewLogin):
            return await self._mark_expired(
                account_id, f"The {platform.platform_name} console session ended: log in again."
            )
        bound = bound_from(result)
        if bound.secrets.access_token:  # a spent or rate-limited key is still the account's
            await create_adapter(platform, self.http).checked(bound)
        await self._save(account_id, bound.secrets, None, bound.hint)
        return RenewalOutcome("refreshed", "The credential was captured again from the console.")

    async def _save(
        self,
        account_id: int,
        secrets: AccountSecrets | None,
        expires_at: datetime | None,
        hint: str | None = None,
    ) -> None:
        async with session_scope(self.factory) as session:
            account = await session.get(OAuthAccount, account_id)
            if account is None:
                return
            if secrets is not None:
                await self.store.store(session, account, secrets)
            if hint is not None:
                account.credential_hint = hint
            account.expires_at = expires_at
            account.is_expired = False
            account.status_reason = None

    async def _note_limit(
        self, account: OAuthAccount, platform: PlatformConfig, limited: Classified
    ) -> RenewalOutcome:
        """A credential the platform knows but will not serve now: the account rests."""
        model = platform.litellm_config.get("default_model") or ""
        async with session_scope(self.factory) as session:
            await account_state.apply_failure(
                session, account.user_id, account.id, model, platform, limited, utcnow()
            )
        return RenewalOutcome(
            "valid", f"{platform.platform_name} accepted the credential but said: {limited.message}"
        )

    async def _mark_unreachable(self, account_id: int, reason: str) -> RenewalOutcome:
        """The platform could not be asked: the credential may still be good, so the account
        keeps its status and says why its renewal failed (the next round tries again)."""
        async with session_scope(self.factory) as session:
            account = await session.get(OAuthAccount, account_id)
            if account is not None:
                account.status_reason = f"{RENEWAL_FAILED}{reason}"[:255]
        return RenewalOutcome("unreachable", reason)

    async def _mark_expired(self, account_id: int, reason: str) -> RenewalOutcome:
        async with session_scope(self.factory) as session:
            account = await session.get(OAuthAccount, account_id)
            if account is not None:
                account.is_expired = True
                account.status_reason = reason[:255]
        return RenewalOutcome("expired", reason)


def _outcome_left_by_other_worker(account: OAuthAccount) -> RenewalOutcome:
    """The other worker's result, read from the account it left: expired, its renewal failed
    (`_mark_unreachable`), or renewed (`_save` clears the reason)."""
    reason = account.status_reason or ""
    if account.is_expired:
        return RenewalOutcome("expired", reason or "The credential expired.")
    if reason.startswith(RENEWAL_FAILED):
        return RenewalOutcome("unreachable", reason.removeprefix(RENEWAL_FAILED))
    return RenewalOutcome("refreshed", "Renewed by another worker.")
