"""LITELLM_CACHE_ENABLED: a user's non-streaming answer reused for an identical request.

In-process, per user, bounded, for LITELLM_CACHE_TTL seconds. A hit calls no platform and charges
no quota. (litellm's own cache is not used: in 1.110.2 its hit path imports optional audio
packages this service does not install, and fails.)
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

import orjson

MAX_ENTRIES = 1024
MAX_ANSWER_BYTES = 256 * 1024


class AnswerCache:
    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    @staticmethod
    def key(user_id: int, platform_id: str, model: str, request: dict[str, Any]) -> str:
        material = orjson.dumps([user_id, platform_id, model, request], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(material).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, answer = entry
        if time.monotonic() - stored_at > self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        found: dict[str, Any] = orjson.loads(answer)
        return found

    def put(self, key: str, answer: dict[str, Any]) -> None:
        data = orjson.dumps(answer)
        if len(data) > MAX_ANSWER_BYTES:
            return
        self._entries[key] = (time.monotonic(), data)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
