"""The answer cache: per user and request, bounded, and forgetful after its TTL."""

from __future__ import annotations

import time

from app.services.calls.answer_cache import AnswerCache


def test_answers_are_kept_per_user_and_request_for_their_ttl(monkeypatch):
    cache = AnswerCache(ttl_s=60, max_entries=2)
    request = {"messages": [{"role": "user", "content": "hi"}], "params": {}}
    mine, theirs = cache.key(1, "qwen", "m", request), cache.key(2, "qwen", "m", request)
    assert mine != theirs
    cache.put(mine, {"id": "a"})
    assert cache.get(mine) == {"id": "a"} and cache.get(theirs) is None
    assert cache.key(1, "qwen", "m", request | {"params": {"temperature": 1}}) != mine

    cache.put(theirs, {"id": "b"})
    cache.put(cache.key(3, "qwen", "m", request), {"id": "c"})  # over the bound: oldest goes
    assert cache.get(mine) is None and cache.get(theirs) == {"id": "b"}

    later = time.monotonic() + 61
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert cache.get(theirs) is None
