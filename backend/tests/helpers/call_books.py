"""Calls driven at a running service (tests/processes.py), and its books held against what the
callers were told: for the fault tests, where some calls fail, some break off and some land on a
process or a server that dies.

    outcomes = await load(service.url, key, calls=60, concurrency=6)
    books = await read_books(database_url)          # straight from the database
    assert_books_exact(outcomes, books)             # usage told == used == recorded; nothing held
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import AccountCooldown, AccountQuotaDay, AccountUsage, OAuthAccount, QuotaHold
from tests.conftest import PlatformFakes
from tests.fakes.upstream import Slow
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

MODEL = "openai/gpt-4.1-mini"
DAILY_LIMIT = 100_000
"""Each account's tokens a day: far more than the tests use, so only a FILL call fills one."""
FILL = DAILY_LIMIT
"""`max_tokens` whose estimate alone fills an account: such a call holds its account by itself,
and a call that then finds the account full sweeps the holds that have expired."""
HOLD_S = 3
"""CALL_HOLD_SECONDS: how long the holds of a call whose books were never closed are kept."""
OK_STATUSES = {200, 429, 503}
"""What a caller may be answered under faults: the answer, or a clear refusal; never a 500."""


@dataclass
class Caller:
    """A user with `account_keys` bound on OpenAI (served by the fake) and an API key."""

    key: str
    account_keys: list[str]


@dataclass
class Outcome:
    stream: bool
    status: int = 0
    """The HTTP status; 0 when the connection broke before one arrived."""
    tokens: int = 0
    """The usage the caller was told (total tokens)."""
    complete: bool = False
    """Answered in full: 200 with its usage (and for a stream, `data: [DONE]`)."""
    error: str = ""
    """What the caller was told went wrong (body, stream error event or broken connection)."""
    retry_after: str | None = None
    started: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Books:
    used: int
    """Sum of account_quota_days.used_tokens."""
    reserved: int
    """Sum of account_quota_days.reserved_tokens."""
    holds: dict[int, int]
    """quota_holds rows per account."""
    recorded: int
    """Sum of account_usage.total_tokens."""
    answered: int
    """Sum of account_usage.requests: the calls booked as answered."""
    failed_attempts: int
    """Sum of account_usage.failures."""


def service_env(
    database_url: str, *, call_timeout_s: float, quota_blocks: bool = False
) -> dict[str, str]:
    """The service's settings for a fault test: its own database and Redis keys, no answer
    cache (every call reaches the platform), no per-user limit in the way. Without
    `quota_blocks` every call holds its own reservation, which the tests follow hold by hold."""
    return {
        "CALL_QUOTA_BLOCKS": str(quota_blocks).lower(),
        "DATABASE_URL": database_url,
        "LITELLM_CACHE_ENABLED": "false",
        "CALL_USER_RATE_LIMIT": "100000/minute",
        "CALL_TIMEOUT": str(call_timeout_s),
        "CALL_HOLD_SECONDS": str(HOLD_S),
        "REDIS_KEY_PREFIX": f"faults:{uuid.uuid4().hex}",
    }


def platforms_file(fakes: PlatformFakes, directory: Path) -> Path:
    """The shipped platforms on the fakes; OpenAI's accounts take turns (so a few calls reach
    each one), have DAILY_LIMIT tokens a day, and count requests and calls in flight (high caps,
    never reached: they only make the service keep those counts)."""
    path = fake_platforms_file(fakes, directory, unlimited=True, lean_only=True)
    entries = json.loads(path.read_text())
    for entry in entries:
        if entry["platform_id"] == "openai":
            entry["quota_config"] = {
                "daily_limit": DAILY_LIMIT,
                "strategy": "round_robin",
                "rate_limit": 100_000,
                "max_concurrency": 64,
            }
    path.write_text(json.dumps(entries))
    return path


def new_caller(url: str, accounts: int) -> Caller:
    with httpx.Client(base_url=url, timeout=30) as http:
        auth = sign_up(http)
        keys = [f"sk-faults-{n}-{uuid.uuid4().hex}" for n in range(accounts)]
        for key in keys:
            bind(http, auth, "openai", key)
        return Caller(api_key(http, auth), keys)


def chat_body(stream: bool, max_tokens: int) -> dict[str, Any]:
    # A fresh prompt each time: the fake counts one prompt token a word.
    words = " ".join(uuid.uuid4().hex[:6] for _ in range(8))
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": words}],
        "max_tokens": max_tokens,
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


async def chat(
    client: httpx.AsyncClient,
    key: str,
    *,
    stream: bool,
    max_tokens: int = 16,
    on_first_chunk: Callable[[], None] | None = None,
) -> Outcome:
    """One call through /v1/chat/completions; never raises for what the service does."""
    outcome = Outcome(stream)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with client.stream(
            "POST", "/v1/chat/completions", json=chat_body(stream, max_tokens), headers=headers
        ) as response:
            outcome.status = response.status_code
            outcome.retry_after = response.headers.get("retry-after")
            if response.status_code != 200:
                outcome.error = (await response.aread()).decode(errors="replace")
            elif stream:
                await _read_events(response, outcome, on_first_chunk)
            else:
                usage = json.loads(await response.aread())["usage"]
                outcome.tokens, outcome.complete = int(usage["total_tokens"]), True
    except httpx.TransportError as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


async def _read_events(
    response: httpx.Response, outcome: Outcome, on_first_chunk: Callable[[], None] | None
) -> None:
    usage = None
    async for line in response.aiter_lines():
        if not line.startswith("data: "):
            continue
        data = line.removeprefix("data: ")
        if data == "[DONE]":
            outcome.complete = usage is not None and not outcome.error
            break
        event = json.loads(data)
        if "error" in event:
            outcome.error = event["error"]["message"]
        elif event.get("usage"):
            usage = event["usage"]
        elif on_first_chunk is not None:
            on_first_chunk()
            on_first_chunk = None
    if outcome.complete and usage is not None:
        outcome.tokens = int(usage["total_tokens"])


async def load(
    url: str,
    key: str,
    *,
    calls: int,
    concurrency: int,
    deadline_s: float = 60,
    pause_s: float = 0.0,
) -> list[Outcome]:
    """`calls` calls, every other one streamed, `concurrency` at a time, each worker pausing
    `pause_s` between its calls, for at most `deadline_s` seconds (calls not started by then are
    not made)."""
    numbers = iter(range(calls))
    outcomes: list[Outcome] = []
    stop_at = time.monotonic() + deadline_s
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            for number in numbers:
                if time.monotonic() > stop_at:
                    return
                outcomes.append(await chat(client, key, stream=number % 2 == 1))
                await asyncio.sleep(pause_s)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


async def settled_books(database_url: str, timeout_s: float) -> Books:
    """The books once nothing is reserved any more: the blocks of quota a process holds go back
    a second after its last call (bounded wait; the last reading when time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        books = await read_books(database_url)
        if (books.reserved, books.holds) == (0, {}) or time.monotonic() > deadline:
            return books
        await asyncio.sleep(0.2)


async def read_books(database_url: str) -> Books:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            used, reserved = (
                await connection.execute(
                    select(
                        func.sum(AccountQuotaDay.used_tokens),
                        func.sum(AccountQuotaDay.reserved_tokens),
                    )
                )
            ).one()
            holds = dict(
                (
                    await connection.execute(
                        select(QuotaHold.account_id, func.count()).group_by(QuotaHold.account_id)
                    )
                ).all()
            )
            recorded, answered, failed = (
                await connection.execute(
                    select(
                        func.sum(AccountUsage.total_tokens),
                        func.sum(AccountUsage.requests),
                        func.sum(AccountUsage.failures),
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return Books(
        int(used or 0),
        int(reserved or 0),
        {int(a): int(n) for a, n in holds.items()},
        int(recorded or 0),
        int(answered or 0),
        int(failed or 0),
    )


def assert_books_exact(outcomes: Sequence[Outcome], books: Books, *, cut_off: int = 0) -> int:
    """The usage told to callers answered in full is what the ledger and the usage table hold,
    one booked answer per such call, and nothing is still reserved. Returns that usage.
    `cut_off`: calls of a killed process, which may have been booked (each at most one answer
    of the fake's usual size: every call here asks the same) before their answer was lost."""
    answered = [o for o in outcomes if o.complete]
    told = sum(o.tokens for o in answered)
    unrecorded = told - books.recorded
    booked_unseen = books.answered - len(answered)
    assert 0 <= booked_unseen <= cut_off, (books, len(answered), cut_off)
    largest = max((o.tokens for o in answered), default=0)
    assert books.used == books.recorded and 0 <= -unrecorded <= booked_unseen * largest, (
        f"usage told to callers {told}, recorded {books.recorded}, used {books.used}: "
        f"{unrecorded} tokens {'lost' if unrecorded > 0 else 'counted twice'}; {books}"
    )
    assert (books.reserved, books.holds) == (0, {}), books
    return told


def error_lines(log: str, *, expected: Sequence[str] = ()) -> list[str]:
    """The lines of a service's log at ERROR or above (our JSON lines, and gunicorn's own) that
    match none of the `expected` patterns (regular expressions, e.g. the fault the test made)."""
    found = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            failed = "[ERROR]" in line or "[CRITICAL]" in line or line.startswith("Traceback")
        else:
            failed = isinstance(entry, dict) and entry.get("level") in {"ERROR", "CRITICAL"}
        if failed and not any(re.search(pattern, line) for pattern in expected):
            found.append(line)
    return found


def assert_refusals_clear(outcomes: Sequence[Outcome]) -> None:
    """Every call was answered, or refused with a 429/503 saying why; none got a 500."""
    for outcome in outcomes:
        assert outcome.status in OK_STATUSES, (outcome.status, outcome.error)
        if outcome.status != 200:
            error = json.loads(outcome.error)["error"]
            assert error["message"] and error["type"] in {"rate_limit_error", "server_error"}
        if outcome.status == 429:
            assert outcome.retry_after is not None and int(outcome.retry_after) > 0


async def blocked_accounts(database_url: str) -> dict[int, str]:
    """Accounts something still keeps from serving: expired, or resting past now."""
    now = datetime.now(UTC)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            expired = await connection.scalars(
                select(OAuthAccount.id).where(
                    or_(OAuthAccount.is_expired.is_(True), OAuthAccount.exhausted_until > now)
                )
            )
            blocked = {account_id: "expired or exhausted" for account_id in expired}
            resting = await connection.execute(
                select(AccountCooldown.account_id, AccountCooldown.reason).where(
                    AccountCooldown.until > now
                )
            )
            blocked |= {account_id: f"resting ({reason})" for account_id, reason in resting}
    finally:
        await engine.dispose()
    return blocked


async def wait_until_unblocked(database_url: str, timeout_s: float) -> None:
    """Rests end by themselves: wait for the last one (bounded)."""
    deadline = time.monotonic() + timeout_s
    while blocked := await blocked_accounts(database_url):
        assert time.monotonic() < deadline, f"accounts still blocked: {blocked}"
        await asyncio.sleep(0.25)


async def serve_on_every_account(
    url: str, caller: Caller, fakes: PlatformFakes, *, max_calls: int
) -> list[Outcome]:
    """Plain calls, one at a time, until every account has answered one (each account is
    usable again); the outcomes, for the books."""
    seen_from = len(fakes.openai.model_requests)
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while len(outcomes) < max_calls:
            outcome = await chat(client, caller.key, stream=False)
            outcomes.append(outcome)
            assert outcome.complete, (outcome.status, outcome.error)
            tried = {r.credential for r in fakes.openai.model_requests[seen_from:]}
            if tried >= set(caller.account_keys):
                return outcomes
    raise AssertionError(f"not every account answered within {max_calls} calls")


async def sweep_expired_holds(url: str, caller: Caller, fakes: PlatformFakes) -> list[Outcome]:
    """Two FILL calls per account at once, each held a moment by the platform: every account is
    then found full by one of them, which gives back its expired holds (as the next call on a
    full account does). The outcomes, for the books."""
    count = 2 * len(caller.account_keys)
    fakes.openai.script(*[Slow(0.5)] * count)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        calls = (chat(client, caller.key, stream=False, max_tokens=FILL) for _ in range(count))
        return list(await asyncio.gather(*calls))
