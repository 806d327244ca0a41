"""LITELLM_CACHE_ENABLED: a user's non-streaming answer reused for an identical request.

In-process, per user, bounded, for LITELLM_CACHE_TTL seconds. A hit calls no platform and charges
no quota. (litellm's own cache is not used: in 1.110.2 its hit path imports optional audio
packages this service does not install, and fails.)

Only what the caller can expect to be reused is served from it (`cache_use`): a request that
samples (temperature above 0, no seed) expects a new sample, and one carrying tool results
expects an answer to them — unless it asks for the cache with LiteLLM's `cache` request field
(`{}`, `{"ttl": seconds}`, `{"s-maxage": seconds}`; `{"no-cache": true}` skips reading it,
`{"no-store": true}` skips it both ways). `Cache-Control: no-cache` / `no-store` in the request's
headers mean the same.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

MAX_ENTRIES = 1024
MAX_ANSWER_BYTES = 256 * 1024
_TOOL_RESULT_ROLES = frozenset({"tool", "function"})


@dataclass(frozen=True)
class CacheUse:
    """Whether a request's answer may come from the cache and may be kept in it, and for how
    long (None: the configured TTL); `max_age_s` bounds the age of an answer it accepts."""

    read: bool = False
    write: bool = False
    ttl_s: float | None = None
    max_age_s: float | None = None


NO_CACHE = CacheUse()


@dataclass(frozen=True)
class Answer:
    """A whole `chat.completion`, and whether it came from the cache (`x-cache: hit`)."""

    body: dict[str, Any]
    from_cache: bool = False


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def cache_use(
    messages: list[dict[str, Any]],
    params: dict[str, Any],
    asked: dict[str, Any] | None,
    cache_control: str | None,
) -> CacheUse:
    """How a request may use the cache: from its parameters, its `cache` field (`asked`) and
    its Cache-Control header."""
    directives = {d.strip().lower() for d in (cache_control or "").split(",")}
    asked = asked if isinstance(asked, dict) else None
    no_store = "no-store" in directives or bool(asked and asked.get("no-store"))
    no_cache = no_store or "no-cache" in directives or bool(asked and asked.get("no-cache"))
    repeatable = params.get("temperature") == 0 or params.get("seed") is not None
    answers_tools = any(m.get("role") in _TOOL_RESULT_ROLES for m in messages)
    reusable = asked is not None or (repeatable and not answers_tools)
    if not reusable or no_store:
        return NO_CACHE
    return CacheUse(
        read=not no_cache,
        write=True,
        ttl_s=_seconds(asked.get("ttl")) if asked else None,
        max_age_s=_seconds(asked.get("s-maxage")) if asked else None,
    )


class AnswerCache:
    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, float, bytes]] = OrderedDict()
        """key → (expires at, stored at, answer), on the monotonic clock."""

    @staticmethod
    def key(user_id: int, platform_id: str, model: str, request: dict[str, Any]) -> str:
        material = orjson.dumps([user_id, platform_id, model, request], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(material).hexdigest()

    def get(self, key: str, max_age_s: float | None = None) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, stored_at, answer = entry
        now = time.monotonic()
        if now > expires_at:
            del self._entries[key]
            return None
        if max_age_s is not None and now - stored_at > max_age_s:
            return None
        self._entries.move_to_end(key)
        found: dict[str, Any] = orjson.loads(answer)
        return found

    def put(self, key: str, answer: dict[str, Any], ttl_s: float | None = None) -> None:
        data = orjson.dumps(answer)
        if len(data) > MAX_ANSWER_BYTES:
            return
        now = time.monotonic()
        self._entries[key] = (now + (self.ttl_s if ttl_s is None else ttl_s), now, data)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
