"""Structured logs with a request id, and a filter that keeps secrets out of every line.

The redaction filter is the last line of defence: code should never log a secret in the first
place, but a third-party library (litellm, httpx) may put a header or a URL with a key into a
message, so every record is scrubbed before it is written.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from typing import IO, Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
client_address_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_address", default=None
)

REDACTED = "[REDACTED]"

_SECRET_PATTERNS: list[
    tuple[re.Pattern[str], str] | tuple[re.Pattern[str], str, re.Pattern[str]]
] = [
    # Authorization headers and bearer tokens, whatever follows them.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=:\-]{6,}"), rf"\1 {REDACTED}"),
    # key=value, "key": "value" and key: value for secret-looking names. Tried only where the
    # third, cheap pattern finds one of the names it needs: its `[\w-]*` backtracks at every
    # word, ~3/4 of the time a log line's redaction took.
    (
        re.compile(
            r"""(?ix)
            (["']?\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|apikey|cookie|authorization
              |code_verifier|client_secret|x-api-key|x-goog-api-key|credential)s?\b["']?
             \s*[:=]\s*)
            (["']?)([^"'\s,;&}]+)"""
        ),
        rf"\1\2{REDACTED}",
        re.compile(
            r"(?i)passw|secret|token|api[_-]?key|cookie|authorization|code_verifier|credential"
        ),
    ),
    # Well-known key shapes: sk- (OpenAI, Anthropic, DashScope), bce-v3/, AIza, ya29., JWTs.
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), REDACTED),
    (re.compile(r"\bbce-v3/[A-Za-z0-9/_\-]+"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"), REDACTED),
    (re.compile(r"\bya29\.[0-9A-Za-z_\-.]+"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
    (re.compile(r"\benc:v1:[^\s\"']+"), REDACTED),
    # An authorization's state in a path (`/oauth/sessions/<state>/…`): a live one finishes it.
    (re.compile(r"(/sessions/)[A-Za-z0-9_-]{16,}"), rf"\1{REDACTED}"),
    # Query parameters that carry secrets.
    (
        re.compile(r"(?i)([?&](?:key|code|access_token|refresh_token|state)=)[^&\s\"']+"),
        rf"\1{REDACTED}",
    ),
]


_literal_secrets: set[str] = set()


def redact_literally(secret: str) -> None:
    """Also redact this exact text wherever it appears: a secret of no recognisable shape (a
    webhook URL whose path is its token, which httpx logs with each request)."""
    if secret:
        _literal_secrets.add(secret)


def redact(text: str) -> str:
    for secret in _literal_secrets:
        text = text.replace(secret, REDACTED)
    for pattern, replacement, *hint in _SECRET_PATTERNS:
        if not hint or hint[0].search(text):
            text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders each record's message once, scrubbed, and stamps the request id."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        return orjson.dumps(entry).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or "-"
        when = self.formatTime(record)
        return f"{when} {record.levelname} {record.name} [{request_id}] {record.getMessage()}"


class ServiceHandler(logging.StreamHandler[IO[str]]):
    """The service's one handler: a second `configure_logging` replaces it, not adds another."""


def configure_logging(level: str, *, json_lines: bool, stream: IO[str] | None = None) -> None:
    """Route every logger (ours and libraries') through one redacting handler (stderr)."""
    handler = ServiceHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, ServiceHandler):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # SQL is never logged at any level: its parameters hold ciphertext, hashes and names (the
    # engines also hide parameters from error messages: app/core/database.py).
    for driver in ("sqlalchemy", "aiosqlite", "asyncpg", "aiomysql"):
        logging.getLogger(driver).setLevel(logging.WARNING)
    # uvicorn installs its own handlers; make its records flow through ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


_last_said: dict[str, float] = {}


def warn_now_and_then(logger: logging.Logger, message: str, every_s: float = 60.0) -> None:
    """`logger.warning(message)`, at most once every `every_s` seconds: an outage that every
    request meets (Redis down) is said, not repeated a thousand times a minute."""
    now = time.monotonic()
    if now - _last_said.get(message, -every_s) >= every_s:
        _last_said[message] = now
        logger.warning(message)
