"""A platform's quota day: it starts at midnight in the platform's `quota_config.reset_timezone`
(Asia/Shanghai unless the platform says otherwise; Gemini's daily limits reset at midnight
Pacific), so usage is keyed by that day and a daily reset needs no job."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.models import PlatformConfig

DEFAULT_RESET_TIMEZONE = "Asia/Shanghai"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_RESET_TIMEZONE)


def reset_zone(platform: PlatformConfig) -> ZoneInfo:
    name = (platform.quota_config or {}).get("reset_timezone") or DEFAULT_RESET_TIMEZONE
    return _zone(str(name))


def quota_day(platform: PlatformConfig, now: datetime) -> date:
    return now.astimezone(reset_zone(platform)).date()


def next_reset(platform: PlatformConfig, now: datetime) -> datetime:
    """The next midnight of the platform's quota day, in UTC."""
    zone = reset_zone(platform)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


def daily_limit(platform: PlatformConfig, account_limit: int | None) -> int | None:
    """Tokens per day: the account's own limit, else the platform's default."""
    if account_limit is not None:
        return account_limit
    limit = (platform.quota_config or {}).get("daily_limit")
    return int(limit) if isinstance(limit, int) else None
