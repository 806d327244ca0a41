"""The books of one attempt, in one transaction: the reservation settled to the tokens used (or
released when none were), the usage row, `last_used_at`, and the account's new state.

While the database is unavailable (restarting, unreachable) the transaction is tried again, with
backoff, for up to BOOKS_RETRY_S: the platform has answered and charged the account, so the
answer's usage must not be lost to a database restart. A try whose COMMIT was cut off may have
landed; the next try sees the hold gone and stops there, so nothing is counted twice (an account
without a daily limit holds nothing to tell by: its rare lost COMMIT may count twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from app.core.database import session_scope, unavailable
from app.models import PlatformConfig
from app.services.calls import account_state, ledger, usage
from app.services.calls.admission import Admitted
from app.services.calls.classification import Classified
from app.services.calls.usage import TokenUsage

BOOKS_RETRY_S = 30.0


@dataclass(frozen=True)
class Entry:
    user_id: int
    platform: PlatformConfig
    model: str
    admitted: Admitted
    tokens: TokenUsage | None
    """What the attempt used; None: nothing (it failed before answering)."""
    failure: Classified | None
    """Why it failed; with `tokens`: a stream that broke after delivering part of its answer."""
    clear_cooldown: bool
    clear_exhaustion: bool
    touch_last_used: bool
    now: datetime


async def write(factory: async_sessionmaker[AsyncSession], entry: Entry) -> None:
    retrying = AsyncRetrying(
        retry=retry_if_exception(unavailable),
        wait=wait_exponential(multiplier=0.2, max=5),
        stop=stop_after_delay(BOOKS_RETRY_S),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            async with session_scope(factory) as session:
                await _write(session, entry, again=attempt.retry_state.attempt_number > 1)


async def _write(session: AsyncSession, entry: Entry, *, again: bool) -> None:
    admitted = entry.admitted
    account_id = admitted.account.id
    hold = admitted.hold
    if entry.tokens is None:
        if hold is not None and not await ledger.release(session, hold) and again:
            return  # the try before landed
    else:
        used = entry.tokens.total_tokens
        if not await ledger.settle(session, account_id, admitted.day, used, hold, again=again):
            return  # the try before landed
        if entry.touch_last_used:
            await usage.mark_used(session, account_id, entry.now)
    await usage.add(
        session,
        account_id,
        entry.model,
        admitted.day,
        entry.now,
        usage=entry.tokens,
        requests=1 if entry.failure is None else 0,
        failures=0 if entry.failure is None else 1,
    )
    if entry.failure is not None:
        await account_state.apply_failure(
            session, entry.user_id, account_id, entry.model, entry.platform, entry.failure,
            entry.now,
        )  # fmt: skip
    elif entry.clear_cooldown or entry.clear_exhaustion:
        await account_state.clear_after_success(
            session,
            entry.user_id,
            account_id,
            entry.model,
            cooldown=entry.clear_cooldown,
            exhausted=entry.clear_exhaustion,
        )
