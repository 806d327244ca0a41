"""One call followed as it goes, in the request's context: api/request_log.py opens a trace for
each POST, the model-call dependencies name the caller (only calls with a caller are recorded),
the call path notes what it asks, tries and is answered, and the books of the attempt that
answered write the row (quota/books.py). A call that ends without such books — refused, every
attempt failed, served from the answer cache — is written by the middleware once answered."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.core.database import utcnow

if TYPE_CHECKING:
    from app.services.calls.usage import TokenUsage
    from app.services.oauth.adapters.errors import Classified


@dataclass(frozen=True)
class Row:
    """A row of `request_log` as written."""

    created_at: datetime
    user_id: int
    surface: str
    model_asked: str | None
    route: str | None
    platform_id: str | None
    model: str | None
    account_id: int | None
    status: int
    error_kind: str | None
    error_code: str | None
    attempts: int
    latency_ms: int
    first_byte_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None


@dataclass
class CallTrace:
    path: str
    """The path called; the row names the endpoint as declared (`surface`) once it is known."""
    scope: Mapping[str, Any] = field(default_factory=dict, repr=False)
    at: datetime = field(default_factory=utcnow)
    started: float = field(default_factory=time.monotonic)
    user_id: int | None = None
    """The caller; None: not a model call (or not known), so nothing is recorded."""
    model_asked: str | None = None
    route: str | None = None
    platform_id: str | None = None
    model: str | None = None
    account_id: int | None = None
    attempts: int = 0
    first_byte_ms: int | None = None
    error_kind: str | None = None
    error_code: str | None = None
    status: int | None = None
    """The call's own status, where the endpoint answers another (an account's test)."""
    written: bool = False

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self.started) * 1000)

    @property
    def surface(self) -> str:
        """The endpoint as declared (`/v1beta/models/{model}:generateContent`): the path with
        the values of its parameters named instead (the model, an account's id)."""
        path = self.path
        for name, value in (self.scope.get("path_params") or {}).items():
            segment = re.compile(rf"/{re.escape(str(value))}(?=[/:]|$)")
            path = segment.sub(f"/{{{name}}}", path, count=1)  # a name has no backslash
        return path[:100]

    def row(self, status: int, tokens: TokenUsage | None = None) -> Row:
        assert self.user_id is not None
        self.written = True
        return Row(
            created_at=self.at,
            user_id=self.user_id,
            surface=self.surface,
            model_asked=self.model_asked[:200] if self.model_asked else None,
            route=self.route,
            platform_id=self.platform_id,
            model=self.model[:100] if self.model else None,
            account_id=self.account_id,
            status=self.status or status,
            error_kind=self.error_kind,
            error_code=self.error_code[:64] if self.error_code else None,
            attempts=self.attempts,
            latency_ms=self.elapsed_ms(),
            first_byte_ms=self.first_byte_ms,
            prompt_tokens=tokens.prompt_tokens if tokens else None,
            completion_tokens=tokens.completion_tokens if tokens else None,
        )


TRACE: ContextVar[CallTrace | None] = ContextVar("call_trace", default=None)


def caller(user_id: int) -> None:
    """The request is a model call of this user's: it is recorded."""
    trace = TRACE.get()
    if trace is not None:
        trace.user_id = user_id


def not_a_call() -> None:
    """The request asks no platform (counting tokens): it is not recorded."""
    trace = TRACE.get()
    if trace is not None:
        trace.user_id = None


def asked(model: str | None) -> None:
    trace = TRACE.get()
    if trace is not None and trace.model_asked is None:
        trace.model_asked = model


def attempt(route: str | None, platform_id: str, model: str, account_id: int) -> None:
    trace = TRACE.get()
    if trace is not None:
        trace.attempts += 1
        trace.route, trace.platform_id, trace.model = route, platform_id, model
        trace.account_id = account_id


def from_cache(platform_id: str, model: str) -> None:
    """Answered from the answer cache: what it is the answer of, and no attempt."""
    trace = TRACE.get()
    if trace is not None:
        trace.platform_id, trace.model = platform_id, model


def failed(failure: Classified) -> None:
    trace = TRACE.get()
    if trace is not None:
        trace.error_kind, trace.error_code = failure.kind, failure.code


def answered() -> None:
    """The attempt's first byte of answer (a whole answer when not streamed) is here."""
    trace = TRACE.get()
    if trace is not None:
        trace.first_byte_ms = trace.elapsed_ms()
        trace.error_kind = trace.error_code = None  # the failures before it were failed over


def refused(error_code: str) -> None:
    trace = TRACE.get()
    if trace is not None:
        trace.error_code = error_code


def refused_as(status: int, error_code: str) -> None:
    """The call was refused so, though the endpoint reports it in an answer of its own."""
    trace = TRACE.get()
    if trace is not None:
        trace.status, trace.error_code = status, error_code


def ended(tokens: TokenUsage | None, failure: Classified | None) -> Row | None:
    """The row of a call whose last attempt's books are being written: one with `tokens`
    answered and ends it (None: a failed attempt, no trace, or the row written already)."""
    trace = TRACE.get()
    if tokens is None or trace is None or trace.user_id is None or trace.written:
        return None
    if failure is not None:  # a stream that broke after its first byte
        trace.error_kind, trace.error_code = failure.kind, failure.code or "stream_broken"
    return trace.row(200, tokens)
