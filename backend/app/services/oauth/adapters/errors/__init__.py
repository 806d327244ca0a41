"""Failed calls to platforms: what the platform said (`UpstreamError`, raised inside the service
as `UpstreamFailure`), sorted into the classes of platforms.md §2 (`classify`) from each vendor's
own codes — one module per vendor: openai, anthropic, dashscope, zhipu, spark, qianfan, ark,
google — and the rules they share, with the platform's hints of when to try again (`hints`)."""

from app.services.oauth.adapters.errors.classify import classify
from app.services.oauth.adapters.errors.hints import parse_duration, reset_hint, retry_after_s
from app.services.oauth.adapters.errors.kinds import ERROR_KINDS, Classified, ErrorKind, Scope
from app.services.oauth.adapters.errors.upstream import (
    UpstreamError,
    UpstreamFailure,
    from_parts,
    unreachable,
)

__all__ = [
    "ERROR_KINDS",
    "Classified",
    "ErrorKind",
    "Scope",
    "UpstreamError",
    "UpstreamFailure",
    "classify",
    "from_parts",
    "parse_duration",
    "reset_hint",
    "retry_after_s",
    "unreachable",
]
