"""Sorting a failed call into the six classes of platforms.md §2.

    auth_expired     refresh once if the credential can be renewed, else mark it expired;
                     fail over
    quota_exhausted  the account (or account+model) is done until its reset; fail over
    rate_limited     cooldown for (account, model) until the platform's hint, else backoff;
                     fail over
    overloaded       short cooldown; fail over
    network          no answer (connection, timeout, 502/504, 500); retry on another account
    bad_request      the request itself is wrong: straight back to the caller, nothing charged

Each vendor's module says what its codes and types mean; the body's code decides before the HTTP
status (DashScope's overdue bill is a 400, Zhipu's arrears a 429, Ark's a 403). Codes from
different vendors do not collide, so their tables are read as one: a platform added as data is
understood whichever vendor's codes it sends. A platform's `litellm_config.error_codes`
({"code": "class"}) extends or corrects them without a release. What no code says, the words
and then the status decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from app.services.oauth.adapters.errors import (
    anthropic,
    ark,
    dashscope,
    google,
    openai,
    qianfan,
    spark,
    zhipu,
)
from app.services.oauth.adapters.errors.hints import reset_hint, retry_after_s
from app.services.oauth.adapters.errors.kinds import (
    AUTH,
    BAD,
    BUSY,
    ERROR_KINDS,
    NET,
    QUOTA,
    RATE,
    Classified,
    ErrorKind,
    Scope,
    VendorErrors,
)
from app.services.oauth.adapters.errors.upstream import UpstreamError

VENDORS: tuple[VendorErrors, ...] = tuple(
    vendor.ERRORS for vendor in (openai, dashscope, zhipu, spark, qianfan, ark, google, anthropic)
)


def _merged(tables: list[Mapping[str, ErrorKind]]) -> dict[str, ErrorKind]:
    merged: dict[str, ErrorKind] = {}
    for table in tables:
        clash = merged.keys() & table.keys()
        if clash:
            raise ValueError(f"error codes claimed by two vendors: {sorted(clash)}")
        merged.update(table)
    return merged


CODE_KINDS = _merged([v.codes for v in VENDORS])
TYPE_KINDS = _merged([v.types for v in VENDORS])
CODE_PREFIXES = tuple(prefix for v in VENDORS for prefix in v.prefixes)
MODEL_SCOPED_CODES = frozenset().union(*(v.model_scoped for v in VENDORS))
READERS = tuple(v.reader for v in VENDORS if v.reader is not None)

# Words that settle the class when no code does (mid-stream errors keep only the text).
_TEXT_RULES: tuple[tuple[re.Pattern[str], ErrorKind, Scope], ...] = (
    (re.compile(r"free allocated quota exceeded", re.I), QUOTA, "model"),  # DashScope's grant
    (
        re.compile(
            r"exceeded your current quota|insufficient[_ ]quota|credit balance is too low"
            r"|insufficient balance|欠费|余额不足",
            re.I,
        ),
        QUOTA,
        "account",
    ),
    (re.compile(r"rate[\s_-]*limit|too many requests|频率过高|并发数过高", re.I), RATE, "account"),
    (re.compile(r"overloaded|访问量过大", re.I), BUSY, "account"),
    (
        re.compile(
            r"connection error|timed out|timeout|stream ended before|connection reset", re.I
        ),
        NET,
        "account",
    ),
)


def classify(error: UpstreamError, overrides: dict[str, str] | None = None) -> Classified:
    kind, scope = _kind(error, overrides or {})
    classified = Classified(
        kind=kind, message=error.message, scope=scope, status=error.status, code=error.code
    )
    if kind in (RATE, BUSY):
        classified = replace(classified, retry_after_s=retry_after_s(error))
    elif kind == QUOTA:
        classified = replace(classified, reset_at=reset_hint(error.message))
    return classified


def _kind(error: UpstreamError, overrides: dict[str, str]) -> tuple[ErrorKind, Scope]:
    code = error.code or ""
    if code in overrides and overrides[code] in ERROR_KINDS:
        return overrides[code], "account"  # type: ignore[return-value]
    for reader in READERS:
        found = reader(error)
        if found is not None:
            return found
    if code in CODE_KINDS:
        kind = CODE_KINDS[code]
        if kind == RATE and _text_kind(error.message) == (QUOTA, "model"):
            return QUOTA, "model"  # DashScope's free grant, under a throttling code
        return kind, "model" if code in MODEL_SCOPED_CODES else "account"
    for prefix, kind in CODE_PREFIXES:
        if code.startswith(prefix):
            return kind, "account"
    if error.error_type in TYPE_KINDS:
        return TYPE_KINDS[error.error_type], "account"
    if error.status == 401:
        return AUTH, "account"
    by_text = _text_kind(error.message)
    if by_text is not None:
        return by_text
    if error.transport:
        return NET, "account"
    return _status_kind(error.status), "account"


def _text_kind(message: str) -> tuple[ErrorKind, Scope] | None:
    for pattern, kind, scope in _TEXT_RULES:
        if pattern.search(message):
            return kind, scope
    return None


def _status_kind(status: int | None) -> ErrorKind:
    if status is None or status in (408, 500, 502, 504) or status >= 505:
        return NET
    if status == 401:
        return AUTH
    if status == 402:
        return QUOTA
    if status == 429:
        return RATE
    if status in (503, 529):
        return BUSY
    return BAD
