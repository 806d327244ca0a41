"""Many slow streams against the service (issue 19): 1,000 streaming calls of 2,000 chunks held
open at once by clients that read 1 KiB every 100 ms (bench/slow_streams.py), the service's
memory per open stream while they are held, every answer whole and the books exact once they
have been read; then the time to the first byte of 100 streams (20 chunks) opened at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nginx_upstream
import slow_streams
from processes import rss_mb

OPEN_STREAMS = 1000
HOLD_S = 5.0
TRICKLE = (1024, 0.1)
FIRST_BYTE_STREAMS = 100
DEADLINE_S = 300.0


@dataclass(frozen=True)
class SlowFigures:
    opened: int
    whole: int
    rss_before_mib: float
    rss_held_mib: float
    """The most the service held while the streams were open and read slowly."""
    books: tuple[int, int]
    """Requests and completion tokens the books counted for the slow streams."""
    first_byte_p50_ms: float
    first_byte_p99_ms: float
    first_byte_whole: int

    @property
    def kib_per_stream(self) -> float:
        return (self.rss_held_mib - self.rss_before_mib) * 1024 / self.opened

    @property
    def books_exact(self) -> bool:
        completion = nginx_upstream.usage(nginx_upstream.LONG_CHUNKS)["completion_tokens"]
        return self.books == (self.whole, self.whole * completion)

    def lines(self) -> list[str]:
        return [
            f"  many slow streams ({self.opened:,} open at once, 2,000 chunks each, read 1 KiB "
            f"every 100 ms for {HOLD_S:.0f} s): {self.whole:,} whole; RSS "
            f"{self.rss_before_mib:.0f} -> {self.rss_held_mib:.0f} MiB, "
            f"{self.kib_per_stream:.0f} KiB per open stream; books "
            + ("exact" if self.books_exact else f"NOT exact: {self.books}"),
            f"  time to first byte, {FIRST_BYTE_STREAMS} streams opened at once: p50 "
            f"{self.first_byte_p50_ms:.1f} ms, p99 {self.first_byte_p99_ms:.1f} ms "
            f"({self.first_byte_whole} whole)",
        ]


def sqlite_books(database: Path, platform_id: str) -> Callable[[], tuple[int, int]]:
    """Requests and completion tokens counted for `platform_id`'s accounts."""

    def read() -> tuple[int, int]:
        with sqlite3.connect(database) as books:
            requests, tokens = books.execute(
                "SELECT coalesce(sum(u.requests), 0), coalesce(sum(u.completion_tokens), 0) "
                "FROM account_usage u JOIN oauth_accounts a ON a.id = u.account_id "
                "WHERE a.platform_id = ?",
                (platform_id,),
            ).fetchone()
        return int(requests), int(tokens)

    return read


def measure(
    pid: int, url: str, api_key: str, models: tuple[str, str], books: Callable[[], tuple[int, int]]
) -> SlowFigures:
    """`models`: (the long stream's, the 20-chunk stream's)."""
    return asyncio.run(_measure(pid, url, api_key, models, books))


async def _measure(
    pid: int, url: str, api_key: str, models: tuple[str, str], books: Callable[[], tuple[int, int]]
) -> SlowFigures:
    long_model, short_model = models
    counted_before = books()
    before = rss_mb(pid)
    crowd, tasks = await slow_streams.crowd(url, api_key, long_model, OPEN_STREAMS, trickle=TRICKLE)
    await slow_streams.until_first_bytes(crowd, DEADLINE_S)
    held = before
    hold_until = time.monotonic() + HOLD_S
    while time.monotonic() < hold_until:
        held = max(held, rss_mb(pid))
        await asyncio.sleep(0.25)
    crowd.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE_S)
    counted = books()
    print(f"slow streams: {slow_streams.summary(crowd)}", file=sys.stderr)

    first, first_tasks = await slow_streams.crowd(url, api_key, short_model, FIRST_BYTE_STREAMS)
    first.release.set()  # read at full speed
    await asyncio.wait_for(asyncio.gather(*first_tasks), DEADLINE_S)
    return SlowFigures(
        opened=OPEN_STREAMS,
        whole=crowd.whole,
        rss_before_mib=before,
        rss_held_mib=held,
        books=(counted[0] - counted_before[0], counted[1] - counted_before[1]),
        first_byte_p50_ms=first.first_byte_percentile(0.5) * 1000,
        first_byte_p99_ms=first.first_byte_percentile(0.99) * 1000,
        first_byte_whole=first.whole,
    )
