"""Choosing the account for each attempt of a call: survey the caller's accounts, try them in the
platform's order, admit one (calls/admission.py) and make its credential usable for the call.

A call that finds every account merely busy — its concurrency slots taken, or its last tokens
reserved by calls in flight — waits for one (up to CALL_QUEUE_SECONDS, backing off) rather than
being refused. An account whose stored credential cannot be used is marked expired and skipped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import DecryptionError
from app.core.database import session_scope, utcnow
from app.models import OAuthAccount, PlatformConfig
from app.services.calls import account_state, usage
from app.services.calls.admission import QUEUEING, Admission, Admitted
from app.services.calls.answer_cache import NO_CACHE, CacheUse
from app.services.calls.route_plan import RoutePlan
from app.services.calls.selection import Availability
from app.services.context import AppContext
from app.services.oauth.adapters import create_adapter
from app.services.oauth.adapters.base import BasePlatformAdapter, CallTarget, CredentialRejected
from app.services.quota.budget_ledger import Held
from app.services.quota.budgets import Budget

QUEUE_FIRST_PAUSE_S = 0.02
QUEUE_MAX_PAUSE_S = 0.5


@dataclass(frozen=True)
class ChatCall:
    """One chat completion for one user on one platform."""

    user_id: int
    platform: PlatformConfig
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    """OpenAI parameters litellm translates per platform (temperature, tools, …)."""
    extra_body: dict[str, Any] = field(default_factory=dict)
    """Parameters OpenAI does not define, passed to OpenAI-format platforms as they are."""
    include_usage: bool = False
    """Streams: the caller asked for the final usage chunk."""
    cache: CacheUse = NO_CACHE
    """Whether the answer may come from, and go into, the answer cache."""
    route: RoutePlan | None = None
    """The route asked for: its targets, tried in turn (`platform`/`model`: the first)."""
    api_key_id: int | None = None
    """The API key the call was made with (None: a JWT): its usage is booked per key too."""
    budgets: tuple[Budget, ...] = ()
    """The key's and the user's budgets (quota/budgets.py)."""
    budget_holds: tuple[Held, ...] = ()
    """What the call holds on them until its books settle it (calls/budget_gate.py)."""
    account_id: int | None = None
    """Only this account may serve the call (an account's test)."""


@dataclass
class Attempt:
    """An admitted account and how to reach the platform with its credential."""

    admitted: Admitted
    adapter: BasePlatformAdapter
    target: CallTarget
    call: ChatCall
    """The call as made on this attempt's platform and model (a route's target)."""
    clear_cooldown: bool
    clear_exhaustion: bool

    @property
    def account(self) -> OAuthAccount:
        return self.admitted.account


class Chooser:
    def __init__(self, ctx: AppContext, admission: Admission) -> None:
        self.ctx = ctx
        self.admission = admission
        self.clock: Callable[[], datetime] = utcnow
        """The time quota days and rests are judged by (tests move it)."""

    async def next(
        self, call: ChatCall, tried: set[int], again: int | None, transient: Availability
    ) -> Attempt | None:
        """The account for the next attempt (`again`: the one to retry first), or None; the
        accounts found waiting are noted in `transient` for the caller's refusal."""
        deadline = time.monotonic() + self.ctx.settings.call_queue_seconds
        pause = QUEUE_FIRST_PAUSE_S
        while True:
            found = Availability()
            chosen = await self._choose(call, tried, again, found)
            transient.waits.update(found.waits)
            queueing = any(reason in QUEUEING for _, reason in found.waits.values())
            if chosen is not None or not queueing or time.monotonic() + pause > deadline:
                return chosen
            await anyio.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311 - spreads retries
            pause = min(pause * 2, QUEUE_MAX_PAUSE_S)

    async def _choose(
        self, call: ChatCall, tried: set[int], again: int | None, found: Availability
    ) -> Attempt | None:
        """One pass over the accounts; when none is admitted, `found` says who waits why."""
        now = self.clock()
        estimate = usage.estimate(call.messages, call.params)
        async with session_scope(self.ctx.factory) as session:
            surveyed = await self.admission.survey(
                session, call.user_id, call.platform, call.model, now
            )
            ordered = await self.admission.candidates(call.user_id, call.platform, surveyed, tried)
            if call.account_id is not None:
                ordered = [a for a in ordered if a.id == call.account_id]
            ordered.sort(key=lambda a: a.id != again)  # a renewed account goes again first
            for account in ordered:
                admitted = await self.admission.admit(
                    session, account, call.platform, surveyed, estimate, now
                )
                if admitted is None:
                    # Each account is tried in a transaction of its own, so no row of one is
                    # locked while another is waited for (two calls could deadlock).
                    await session.commit()
                    continue
                attempt = await self._usable(session, call, admitted, surveyed)
                if attempt is not None:
                    return attempt
            found.waits.update(surveyed.waits)
            return None

    async def _usable(
        self, session: AsyncSession, call: ChatCall, admitted: Admitted, surveyed: Availability
    ) -> Attempt | None:
        """The attempt on an admitted account, or None (and the account marked expired) when its
        stored credential cannot be used."""
        account = admitted.account
        adapter = create_adapter(call.platform, self.ctx.http)
        try:
            secrets = self.ctx.store.load(account)
            target = adapter.call_target(secrets, dict(account.settings or {}), call.model)
            if not target.api_key:
                # Never let litellm fall back to a key of its own choosing.
                raise CredentialRejected("The account has no usable credential.")
        except (DecryptionError, CredentialRejected) as exc:
            await self.admission.withdraw(session, admitted)
            reason = getattr(exc, "message", None) or "The stored credential is unreadable."
            await account_state.mark_expired(
                session, call.user_id, account.id, f"{reason} Bind the account again."
            )
            return None
        return Attempt(
            admitted,
            adapter,
            target,
            call=call,
            clear_cooldown=account.id in surveyed.stale_cooldowns,
            clear_exhaustion=account.id in surveyed.stale_exhaustion,
        )
