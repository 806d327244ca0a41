"""What the caller is told when a call cannot be answered: in the user's terms, naming the
platform and the reason, with the status an OpenAI client acts on.

    the platform refused the request itself   its status (400, 404, 413, 422) and words
    every account out of quota or resting      429 with Retry-After (until the first is back)
    every account taken by other calls         429 with Retry-After
    every attempt failed otherwise             503
    no usable account at all                   400: bind, enable or refresh one — the same
                                               answer on the call that found the platform
                                               refusing the last credential and every later one
                                               (`account_expired` when all must be bound again)
"""

from __future__ import annotations

import math
from datetime import datetime

from app.core.errors import (
    AppError,
    BadRequest,
    PlatformUnavailable,
    QuotaExhausted,
    TooManyRequests,
    UpstreamRejected,
)
from app.services.calls.selection import Availability
from app.services.oauth.adapters.errors import Classified

REJECTED_STATUSES = (400, 404, 413, 422)
WORDS = {
    "auth_expired": "rejected the account's credential",
    "quota_exhausted": "is out of quota",
    "rate_limited": "is rate-limiting the account",
    "overloaded": "is overloaded",
    "network": "could not be reached",
    "bad_request": "refused the request",
}


class TargetRefused(UpstreamRejected):
    """A refusal of the model or a parameter by one platform: another route target may serve."""


def rejected(name: str, failure: Classified, on_route: bool = False) -> UpstreamRejected:
    status = failure.status if failure.status in REJECTED_STATUSES else 400
    kind = TargetRefused if on_route and _target_specific(failure) else UpstreamRejected
    return kind(
        f"{name} refused the request: {failure.message}",
        status_code=status or 400,
        code=failure.code or "upstream_bad_request",
    )


def _target_specific(failure: Classified) -> bool:
    said = f"{failure.code} {failure.message}".lower()
    return failure.status == 404 or any(mark in said for mark in _TARGET_MARKS)


_TARGET_MARKS = ("model_not_found", "does not exist", "unsupported", "not supported")
_NO_ACCOUNT = ("no_account", "account_expired", "no_usable_account")


def moves_on(refused: AppError) -> bool:
    """Whether a route's next target is tried after this answer from one target."""
    if isinstance(refused, TargetRefused | TooManyRequests | PlatformUnavailable):
        return True
    return isinstance(refused, BadRequest) and refused.code in _NO_ACCOUNT


def route_exhausted(name: str, passed: list[AppError]) -> AppError:
    """Every target of the route `name` passed: the earliest moment one comes back, if any."""
    waits = [int(r.headers["Retry-After"]) for r in passed if "Retry-After" in r.headers]
    if waits:
        return TooManyRequests(
            f"No target of the route {name!r} can serve now (out of quota, resting or busy); "
            f"the first comes back in {min(waits)} s.",
            retry_after_s=min(waits),
            code="route_exhausted",
        )
    if passed and all(isinstance(r, BadRequest) for r in passed):
        return BadRequest(
            f"None of the route {name!r}'s targets has a usable account of yours: "
            + "; ".join(r.message for r in passed),
            code="no_usable_account",
        )
    last = passed[-1].message if passed else "no target left"
    return PlatformUnavailable(f"No target of the route {name!r} answered: {last}")


def nothing_left(
    name: str, found: Availability, failures: list[Classified], now: datetime
) -> AppError:
    """The answer once no attempt is left (`found`: the accounts as they are now)."""
    retry_s = _seconds_until(found.waiting_until, now)
    if not failures:
        if found.waiting_until is not None:
            return _resting(name, found, retry_s, found.waiting_until)
        return _no_account(name, found)
    last = failures[-1]
    if last.kind == "auth_expired" and not found.usable and found.waiting_until is None:
        return _no_account(name, found)  # not "try again later": nothing left will answer
    waiting = not found.usable and found.waiting_until is not None
    if waiting and found.waiting_until and last.kind in ("quota_exhausted", "rate_limited"):
        return _resting(name, found, retry_s, found.waiting_until, last)
    headers = {"Retry-After": str(retry_s)} if retry_s is not None else None
    return PlatformUnavailable(
        f"{name} {WORDS[last.kind]} on every attempt ({len(failures)} of them): "
        f"{last.message or 'no details'}. Try again later.",
        headers=headers,
    )


def _seconds_until(when: datetime | None, now: datetime) -> int | None:
    if when is None:
        return None
    return max(1, math.ceil((when - now).total_seconds()))


def _resting(
    name: str,
    found: Availability,
    retry_s: int | None,
    until: datetime,
    last: Classified | None = None,
) -> TooManyRequests:
    said = f" ({name} said: {last.message})" if last and last.message else ""
    when = f"{until:%Y-%m-%d %H:%M} UTC, in {retry_s} s"
    if found.waiting_reasons == {"quota_exhausted"}:
        return QuotaExhausted(
            f"All your {name} accounts are out of quota{said}; the first comes back at {when}.",
            retry_after_s=retry_s,
        )
    if found.waiting_reasons <= {"busy", "held"}:
        return TooManyRequests(
            f"All your {name} accounts are busy with other calls (their concurrency or the last "
            f"of their quota is taken); try again in {retry_s} s.",
            retry_after_s=retry_s,
            code="accounts_busy",
        )
    return TooManyRequests(
        f"All your {name} accounts are rate-limited or resting{said}; try again at {when}.",
        retry_after_s=retry_s,
        code="accounts_resting",
    )


def _no_account(name: str, found: Availability) -> AppError:
    if found.usable:
        # Usable as they stand now, yet this call was admitted to none: other calls held them
        # until a moment ago (their busy spell ended while this answer was being made).
        return TooManyRequests(
            f"All your {name} accounts were busy with other calls; try again in 1 s.",
            retry_after_s=1,
            code="accounts_busy",
        )
    if found.total == 0:
        return BadRequest(
            f"You have no {name} account: bind one with POST /api/v1/oauth/initiate.",
            code="no_account",
        )
    if found.expired and not found.disabled:
        reason = found.expired[0].status_reason
        return BadRequest(
            f"Your {name} account{'s' if len(found.expired) > 1 else ''} must be bound again: "
            f"{reason or 'its credential expired'}",
            code="account_expired",
        )
    parts = []
    if found.disabled:
        parts.append(f"{found.disabled} disabled")
    if found.expired:
        reason = found.expired[0].status_reason
        parts.append(f"{len(found.expired)} expired" + (f" ({reason})" if reason else ""))
    return BadRequest(
        f"None of your {name} accounts can be used now: {', '.join(parts)}. "
        "Enable, refresh or bind one.",
        code="no_usable_account",
    )
