"""The books of attempts: the reservation settled to the tokens used (or released when none were),
the usage row, `last_used_at`, and the account's new state — in one transaction for all the
attempts that end together.

Group commit: each attempt's books join a queue, and one task of this process writes what is
queued in one transaction, then what queued meanwhile in the next. The caller waits for the
transaction that holds its books, so an answer is given only once its usage is recorded. Alone,
an attempt is written at once; under load a transaction carries many, and each counter row (an
account's day, an account's model and day) is written once for all of them. A lot that fails
for any reason but an unavailable database is written again attempt by attempt, so that one
bad entry fails only its own call.

While the database is unavailable (restarting, unreachable), or when the transaction was a
deadlock's victim, it is tried again, with backoff, for up to BOOKS_RETRY_S: the platform has
answered and charged the account, so the answer's usage must not be lost to a database restart.
A try whose COMMIT was cut off may have landed; the next try sees a hold gone or a block already
lowered and stops there, so nothing is counted twice (a lot of accounts without a daily limit
has nothing to tell by: its rare lost COMMIT may count twice).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from app.core.database import deadlocked, session_scope, unavailable
from app.models import PlatformConfig
from app.services.calls import account_state, usage
from app.services.calls.admission import Admitted
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.errors import Classified
from app.services.quota import ledger
from app.services.quota.allowances import Block

BOOKS_RETRY_S = 30.0
MAX_LOT = 256


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


class Books:
    """This process's writer of books."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self._queue: list[tuple[Entry, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, entry: Entry) -> None:
        """Record the attempt's books; returns once they are committed (raises if they cannot
        be). A caller that is cancelled meanwhile does not stop them."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        await asyncio.shield(future)

    async def _write_queued(self) -> None:
        while self._queue:
            lot, self._queue = self._queue[:MAX_LOT], self._queue[MAX_LOT:]
            try:
                await write_lot(self.factory, [entry for entry, _ in lot])
            except Exception as exc:
                if len(lot) > 1 and not unavailable(exc):
                    for entry, future in lot:
                        await _write_alone(self.factory, entry, future)
                else:
                    for _, future in lot:
                        future.set_exception(exc)
            else:
                for _, future in lot:
                    future.set_result(None)
            finally:
                for entry, _ in lot:
                    if entry.admitted.block is not None:
                        entry.admitted.block.give_back(entry.admitted.estimate)


async def _write_alone(
    factory: async_sessionmaker[AsyncSession], entry: Entry, future: asyncio.Future[None]
) -> None:
    try:
        await write_lot(factory, [entry])
    except Exception as exc:
        future.set_exception(exc)
    else:
        future.set_result(None)


async def write_lot(factory: async_sessionmaker[AsyncSession], entries: list[Entry]) -> None:
    """The entries' books in one transaction, tried again while the database is unavailable
    (or after a deadlock)."""
    lowered = _lowered_blocks(entries)
    try:
        await _write_transaction(factory, entries, lowered, again=False)
    except Exception as exc:
        if not _passing(exc):
            raise
        retrying = AsyncRetrying(
            retry=retry_if_exception(_passing),
            wait=wait_exponential(multiplier=0.2, max=5),
            stop=stop_after_delay(BOOKS_RETRY_S),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                await _write_transaction(factory, entries, lowered, again=True)
    for block, left in lowered.items():
        block.tokens = left


def _passing(exc: BaseException) -> bool:
    """A failure that trying again cures: the database unavailable, or a deadlock with the
    reservations of other calls (the victim's transaction was rolled back)."""
    return unavailable(exc) or deadlocked(exc)


async def _write_transaction(
    factory: async_sessionmaker[AsyncSession],
    entries: list[Entry],
    lowered: dict[Block, int],
    *,
    again: bool,
) -> None:
    async with session_scope(factory) as session:
        await _write(session, entries, lowered, again=again)


def _lowered_blocks(entries: list[Entry]) -> dict[Block, int]:
    """What each block's hold holds once the entries' usage is taken from it."""
    lowered: dict[Block, int] = {}
    for entry in entries:
        block = entry.admitted.block
        if block is not None and entry.tokens is not None:
            held = lowered.get(block, block.tokens)
            lowered[block] = max(0, held - entry.tokens.total_tokens)
    return lowered


async def _write(
    session: AsyncSession, entries: list[Entry], lowered: dict[Block, int], *, again: bool
) -> None:
    # Rows are written in one order by every lot (holds, days, usage, accounts; each by key), so
    # two lots of two workers never wait on each other crosswise.
    used: Counter[tuple[int, date]] = Counter()
    reserved: Counter[tuple[int, date]] = Counter()
    for entry in sorted(_with_holds(entries), key=lambda e: e.admitted.hold.id):  # type: ignore[union-attr]
        admitted = entry.admitted
        assert admitted.hold is not None
        if entry.tokens is None:
            done = await ledger.release(session, admitted.hold)
        else:
            tokens = entry.tokens.total_tokens
            done = await ledger.settle(
                session, admitted.account.id, admitted.day, tokens, admitted.hold, again=again
            )
        if again and not done:
            return  # the try before landed
    for entry in entries:
        if entry.admitted.hold is None and entry.tokens is not None:
            used[(entry.admitted.account.id, entry.admitted.day)] += entry.tokens.total_tokens
    for block, left in sorted(lowered.items(), key=lambda item: item[0].hold.id):
        if left == block.tokens:
            continue
        key = (block.hold.account_id, block.hold.day)
        if await ledger.draw_down(session, block.hold, block.tokens, left):
            reserved[key] -= block.tokens - left
        elif again and await ledger.exists(session, block.hold):
            return  # the try before landed
        # Otherwise the hold expired and was swept (its tokens given back): usage alone counts.
    for account_id, day in sorted(used.keys() | reserved.keys()):
        key = (account_id, day)
        await ledger.count(session, account_id, day, used=used[key], reserved=reserved[key])
    await _usage_rows(session, entries)
    touched: dict[int, datetime] = {}
    for entry in entries:
        if entry.touch_last_used and entry.tokens is not None:
            touched[entry.admitted.account.id] = entry.now
    for account_id, now in sorted(touched.items()):
        await usage.mark_used(session, account_id, now)
    for entry in entries:
        await _account_state(session, entry)


def _with_holds(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.admitted.hold is not None]


async def _usage_rows(session: AsyncSession, entries: list[Entry]) -> None:
    """One upsert per (account, model, day) for all the entries."""
    rows: defaultdict[tuple[int, str, date], Counter[str]] = defaultdict(Counter)
    latest: dict[tuple[int, str, date], datetime] = {}
    for entry in entries:
        key = (entry.admitted.account.id, entry.model, entry.admitted.day)
        counts = rows[key]
        if entry.tokens is not None:
            counts["prompt"] += entry.tokens.prompt_tokens
            counts["completion"] += entry.tokens.completion_tokens
            counts["cached"] += entry.tokens.cached_tokens
            counts["reasoning"] += entry.tokens.reasoning_tokens
        counts["requests" if entry.failure is None else "failures"] += 1
        latest[key] = max(latest.get(key, entry.now), entry.now)
    for key, counts in sorted(rows.items()):
        account_id, model, day = key
        await usage.add(
            session,
            account_id,
            model,
            day,
            latest[key],
            usage=TokenUsage(
                counts["prompt"], counts["completion"], counts["cached"], counts["reasoning"]
            ),
            requests=counts["requests"],
            failures=counts["failures"],
        )


async def _account_state(session: AsyncSession, entry: Entry) -> None:
    account_id = entry.admitted.account.id
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
