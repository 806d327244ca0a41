"""The classes of platforms.md §2 a failed call is sorted into, and the shape of what each vendor
module knows about its own errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from app.services.oauth.adapters.errors.upstream import UpstreamError

ErrorKind = Literal[
    "auth_expired", "quota_exhausted", "rate_limited", "overloaded", "network", "bad_request"
]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
Scope = Literal["account", "model"]

QUOTA: ErrorKind = "quota_exhausted"
RATE: ErrorKind = "rate_limited"
AUTH: ErrorKind = "auth_expired"
BUSY: ErrorKind = "overloaded"
NET: ErrorKind = "network"
BAD: ErrorKind = "bad_request"


@dataclass(frozen=True)
class Classified:
    kind: ErrorKind
    message: str
    """The platform's own words (redacted, short)."""
    retry_after_s: float | None = None
    """When to try this account (and model) again, from the platform's hints."""
    reset_at: datetime | None = None
    """When an exhausted quota comes back, when the platform says."""
    scope: Scope = "account"
    """What is exhausted: the whole account, or only this model."""
    status: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class VendorErrors:
    """One vendor's error vocabulary."""

    codes: Mapping[str, ErrorKind] = field(default_factory=dict)
    """The body's `error.code` (Google: `error.status`) → class."""
    prefixes: tuple[tuple[str, ErrorKind], ...] = ()
    """Code families matched by their start (`RateLimitExceeded.…`)."""
    model_scoped: frozenset[str] = frozenset()
    """Codes of a quota that belongs to one model, not the whole account."""
    types: Mapping[str, ErrorKind] = field(default_factory=dict)
    """The body's `error.type` → class, where the type says something."""
    reader: Callable[[UpstreamError], tuple[ErrorKind, Scope] | None] | None = None
    """What the codes cannot say, read from the rest of the error (Google's details)."""
