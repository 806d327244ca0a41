"""What every JSON body must be before a route sees it: text that is valid Unicode (no lone
UTF-16 surrogate), numbers that are finite and fit in 64 bits, and nesting at most
MAX_JSON_DEPTH deep. Anything else would pass Python's lenient `json` module, then fail deep in
the service (a database driver, the upstream request, a cache key) as a 500."""

from __future__ import annotations

import json
import re

import orjson

MAX_JSON_DEPTH = 64
INVALID_JSON = "The request body is not valid JSON."
NOT_UNICODE = "The request body holds text that is not valid Unicode (a lone UTF-16 surrogate)."
TOO_DEEP = f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."
TOO_LARGE_NUMBER = "The request body holds an integer outside 64 bits."
_LONG_DIGIT_RUN = re.compile(rb"\d{19}")  # the shortest integer that may not fit in 64 bits


def is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON too
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def problem_with(body: bytes) -> str | None:
    """Why `body` is refused, or None. A well-formed body costs one parse in C."""
    if not body.strip():
        return None  # the route says whether it needs a body
    try:
        value = orjson.loads(body)  # refuses lone surrogates, NaN and infinities
    except orjson.JSONDecodeError as exc:
        return NOT_UNICODE if "surrogate" in str(exc) else INVALID_JSON
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        return TOO_DEEP
    if _LONG_DIGIT_RUN.search(body) and not _integers_fit(body):
        return TOO_LARGE_NUMBER
    return None


def _integers_fit(body: bytes) -> bool:
    """orjson reads an integer beyond 64 bits as a float; the `json` module, which FastAPI
    parses with, keeps it whole, and then no database or upstream can take it."""

    def bounded(text: str) -> int:
        number = int(text)
        if not -(2**63) <= number < 2**63:
            raise OverflowError
        return number

    try:
        json.loads(body, parse_int=bounded)
    except OverflowError:
        return False
    return True


def _depth(value: object) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                return level
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest
