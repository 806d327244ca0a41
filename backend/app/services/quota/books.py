"""The books of attempts: the reservation settled to the tokens used (or released when none were),
the usage row with its list-price cost (quota/cost.py), the call's budget holds settled to what
it spent (quota/budget_ledger.py), the account's `quota_used` (and now and then `last_used_at`),
and its new state — in one transaction for all the attempts that end together.

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
A try whose COMMIT was cut off may have landed; the next try sees its first hold gone or its
first block already lowered and stops there, so nothing is counted twice (a lot of accounts
without a daily limit has nothing to tell by: its rare lost COMMIT may count twice). Rows are
written in the ledger's lock order (quota/ledger.py). The request log's rows go in the same
transaction: those of the calls these books end (`Entry.log`), and those of calls that end
without any (`Books.record`: refused, or every attempt failed), so logging costs no transaction
of its own.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import retried, unavailable
from app.core.metrics import COST
from app.models import PlatformConfig
from app.services.calls import account_state, usage
from app.services.calls.admission import Admitted
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.errors import Classified
from app.services.quota import budget_ledger, budgets, key_usage, ledger, route_usage
from app.services.quota.allowances import Block
from app.services.quota.budget_ledger import Held
from app.services.quota.cost import NOTHING, Cost, call_cost
from app.services.quota.key_usage import KeyUse
from app.services.request_log import store as request_log
from app.services.request_log.trace import Row

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
    api_key_id: int | None = None
    """The API key the call was made with: its usage is booked per key too."""
    route: str | None = None
    """The route the call asked for: its usage is booked per route too."""
    budget_holds: tuple[Held, ...] = ()
    """What the answered call holds on its budgets: settled to what it spent."""
    log: Row | None = None
    """The request log's row of the call this attempt ends (it answered)."""

    @cached_property
    def spent(self) -> Cost | None:
        """The attempt's list-price cost (None: the model is unpriced), worked out once for the
        three books that count it."""
        return call_cost(self.platform.pricing, self.model, self.tokens)


Queued = Entry | Row
"""An attempt's books, or the request log's row of a call that ended without books."""


class Books:
    """This process's writer of books."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self._queue: list[tuple[Queued, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, entry: Queued) -> None:
        """Record the attempt's books (or a call's row of the request log); returns once they
        are committed (raises if they cannot be). A caller that is cancelled meanwhile does not
        stop them."""
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
                    if isinstance(entry, Entry) and entry.admitted.block is not None:
                        entry.admitted.block.give_back(entry.admitted.estimate)


async def _write_alone(
    factory: async_sessionmaker[AsyncSession], entry: Queued, future: asyncio.Future[None]
) -> None:
    try:
        await write_lot(factory, [entry])
    except Exception as exc:
        future.set_exception(exc)
    else:
        future.set_result(None)


async def write_lot(factory: async_sessionmaker[AsyncSession], queued: list[Queued]) -> None:
    """The entries' books in one transaction, tried again while the database is unavailable
    (or after a deadlock)."""
    entries = [entry for entry in queued if isinstance(entry, Entry)]
    logged = [entry.log for entry in entries if entry.log is not None]
    logged += [row for row in queued if isinstance(row, Row)]
    lowered = _lowered_blocks(entries)

    async def write(session: AsyncSession, again: bool) -> None:
        await _write(session, entries, lowered, again=again, logged=logged)

    await retried(factory, write, within_s=BOOKS_RETRY_S)
    for block, left in lowered.items():
        block.tokens = left
    for entry in entries:
        spent = entry.spent
        if spent is not None and spent.cost:
            currency = entry.platform.pricing["currency"]  # type: ignore[index]
            COST.labels(entry.platform.platform_id, currency).inc(float(spent.cost))


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
    session: AsyncSession,
    entries: list[Entry],
    lowered: dict[Block, int],
    *,
    again: bool,
    logged: Sequence[Row] = (),
) -> None:
    # The ledger's lock order (ledger.py): hold rows, day rows, then usage rows, accounts and
    # rests, each by key; so no two writers wait on each other crosswise. The request log's rows
    # (insert only, nothing to lock) go in last.
    tally = ledger.Tally()
    if not await _write_holds(session, entries, lowered, tally, again=again):
        return  # the try before landed
    for entry in entries:
        if entry.admitted.hold is None and entry.tokens is not None:
            tally.add(entry.admitted.account.id, entry.admitted.day, used=entry.tokens.total_tokens)
    await tally.write(session)
    await _usage_rows(session, entries)
    await _key_usage_rows(session, entries)
    await _route_usage_rows(session, entries)
    await _budget_rows(session, entries)
    used: dict[int, tuple[date, datetime | None]] = {}
    for entry in entries:
        if entry.tokens is not None:
            _, touched = used.get(entry.admitted.account.id, (None, None))
            now = entry.now if entry.touch_last_used else touched
            used[entry.admitted.account.id] = (entry.admitted.day, now)
    for account_id, (day, now) in sorted(used.items()):
        await usage.mark_used(session, account_id, day, now)
    for entry in entries:
        await _account_state(session, entry)
    await request_log.write(session, logged)


async def _write_holds(
    session: AsyncSession,
    entries: list[Entry],
    lowered: dict[Block, int],
    tally: ledger.Tally,
    *,
    again: bool,
) -> bool:
    """Delete the calls' holds and lower the blocks' holds, by hold id, tallying what that
    changes on their days. `again`: False when the first hold shows that the try before landed
    (gone, or a block already lowered); a hold gone after one that was not was swept."""
    steps: list[tuple[int, Entry | Block]] = [
        (entry.admitted.hold.id, entry) for entry in entries if entry.admitted.hold is not None
    ]
    steps += [(block.hold.id, block) for block, left in lowered.items() if left != block.tokens]
    for _, step in sorted(steps, key=lambda item: item[0]):
        if isinstance(step, Block):
            done = await _lower_block(session, step, lowered[step], tally)
            if again and not done and await ledger.exists(session, step.hold):
                return False
        else:
            done = await _close_hold(session, step, tally)
            if again and not done:
                return False
        again = again and not done
    return True


async def _close_hold(session: AsyncSession, entry: Entry, tally: ledger.Tally) -> bool:
    """Settle the call's hold to its usage, or give it back (no usage); False when the hold was
    gone: swept once it expired (its estimate given back then), so its usage alone counts."""
    hold = entry.admitted.hold
    assert hold is not None
    forgotten = await ledger.forget(session, hold)
    used = 0 if entry.tokens is None else entry.tokens.total_tokens
    tally.add(hold.account_id, hold.day, used=used, reserved=-hold.tokens if forgotten else 0)
    return forgotten


async def _lower_block(session: AsyncSession, block: Block, left: int, tally: ledger.Tally) -> bool:
    """Lower the block's hold to `left`; False when it is not at what this process last wrote
    (lowered by a try that landed, or swept: its calls' usage then counts without it)."""
    if not await ledger.draw_down(session, block.hold, block.tokens, left):
        return False
    tally.add(block.hold.account_id, block.hold.day, reserved=left - block.tokens)
    return True


async def _usage_rows(session: AsyncSession, entries: list[Entry]) -> None:
    """One upsert per (account, model, day) for all the entries."""
    rows: defaultdict[tuple[int, str, date], Counter[str]] = defaultdict(Counter)
    latest: dict[tuple[int, str, date], datetime] = {}
    costs: dict[tuple[int, str, date], Cost | None] = {}
    for entry in entries:
        key = (entry.admitted.account.id, entry.model, entry.admitted.day)
        counts = rows[key]
        spent = entry.spent
        summed = costs.get(key, NOTHING)
        costs[key] = None if spent is None or summed is None else summed + spent
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
            cost=costs[key],
        )


async def _key_usage_rows(session: AsyncSession, entries: list[Entry]) -> None:
    """One upsert per (API key, platform, model, day) for the answered calls made with a key."""
    rows: dict[tuple[int, str, str, date], KeyUse] = {}
    for entry in entries:
        if entry.api_key_id is None or entry.tokens is None:
            continue
        key = (entry.api_key_id, entry.platform.platform_id, entry.model, entry.admitted.day)
        spent = entry.spent
        rows[key] = rows.get(key, KeyUse()).plus(entry.tokens, spent, entry.now)
    for (key_id, platform_id, model, day), use in sorted(rows.items()):
        await key_usage.add(session, key_id, platform_id, model, day, use)


async def _route_usage_rows(session: AsyncSession, entries: list[Entry]) -> None:
    """One upsert per (user, route, platform, model, day) for the answered calls of a route."""
    rows: dict[tuple[int, str, str, str, date], tuple[int, int, datetime]] = {}
    for entry in entries:
        if entry.route is None or entry.tokens is None:
            continue
        key = (
            entry.user_id, entry.route, entry.platform.platform_id, entry.model,
            entry.admitted.day,
        )  # fmt: skip
        tokens, requests, latest = rows.get(key, (0, 0, entry.now))
        rows[key] = (tokens + entry.tokens.total_tokens, requests + 1, max(latest, entry.now))
    for key, (tokens, requests, latest) in sorted(rows.items()):
        await route_usage.add(session, key, tokens, requests, latest)


async def _budget_rows(session: AsyncSession, entries: list[Entry]) -> None:
    """The answered calls' budget holds settled to what each spent on its budget."""
    spent = [
        (held, budgets.spent(held.budget, entry.platform, entry.model, entry.tokens))
        for entry in entries
        if entry.tokens is not None
        for held in entry.budget_holds
    ]
    if spent:
        await budget_ledger.settle(session, spent)


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
