"""What a fake vendor does with the next model request.

Behaviours are plain, frozen data so that a test reads as a description of the vendor ("the
first call is rate-limited, the second answers slowly") and the same behaviour plays in every
wire format: the fake renders it as OpenAI chat, Anthropic Messages or Gemini generateContent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Reply:
    """A successful answer.

    Token counts default to deterministic values so tests can compare usage exactly:
    `prompt_tokens` = number of whitespace-separated words in the request's text (system prompt
    and messages), `completion_tokens` = number of words in `text` (each at least 1).
    A streamed reply sends `text` in `chunks` pieces (split on character positions, so the
    pieces are distinct and litellm's "same chunk repeated 100 times" guard never trips),
    waiting `chunk_delay_s` between pieces (for idle/read-timeout tests).
    """

    text: str = "Hello!"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chunks: int = 3
    chunk_delay_s: float = 0.0
    headers: Mapping[str, str] = field(default_factory=dict)
    cached_tokens: int = 0
    """OpenAI wire: of the prompt tokens, those read from the prompt cache (usage details)."""
    reasoning_tokens: int = 0
    """OpenAI wire: of the completion tokens, those spent thinking (usage details)."""
    extras: Mapping[str, Any] = field(default_factory=dict)
    refusal: str | None = None
    """OpenAI wire, whole answers: the model refuses (`message.refusal`, no content)."""
    """OpenAI wire: more top-level fields of the answer and its chunks (`service_tier`,
    `system_fingerprint`)."""


@dataclass(frozen=True)
class Error:
    """An HTTP error answered before any stream starts: `body` is sent as JSON, unchanged."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)

    def mid_stream(self, after_chunks: int = 0) -> MidStreamError:
        """The same vendor error delivered inside a 200 event stream instead."""
        return MidStreamError(after_chunks, self.body)


@dataclass(frozen=True)
class MidStreamError:
    """A 200 stream that sends `after_chunks` content chunks of `text`, then an error event.

    With `after_chunks=0` the error is the first event (no preamble such as OpenAI's role chunk
    or Anthropic's message_start), which is how vendors report errors found after they have
    committed to a 200. Only meaningful for streaming requests; a non-streaming request
    scripted with it gets a loud 500 naming the mistake.
    """

    after_chunks: int
    body: dict[str, Any]
    text: str = "Partial answer"


@dataclass(frozen=True)
class Slow:
    """Wait `delay_s` before playing `then` (stops waiting if the client hangs up)."""

    delay_s: float
    then: Behaviour = field(default_factory=Reply)


@dataclass(frozen=True)
class Drop:
    """Kill the TCP connection: before any response (`after_chunks=None`) or mid-answer.

    For a stream, `after_chunks` content chunks of `text` are delivered first; for a
    non-streaming request the status line, headers and half the JSON body are sent. The
    connection is closed without finishing the HTTP message (httpx: RemoteProtocolError), or
    with a TCP reset when `reset=True` (httpx: ReadError), as a crashed proxy would.
    """

    after_chunks: int | None = None
    text: str = "Partial answer"
    reset: bool = False


@dataclass(frozen=True)
class ErrorIn200:
    """HTTP 200 whose JSON body is an error object (Baidu v1, some gateways, Zhipu at times)."""

    body: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """An answer that asks the caller to run one tool: `name` with `arguments` (a JSON object),
    as each vendor asks (OpenAI `tool_calls`, Anthropic `tool_use`, Gemini `functionCall`), with
    `finish_reason` / `stop_reason` saying so. Streamed, the arguments come in two pieces.
    `completion_tokens` defaults to the words of the arguments' JSON."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str = "call_fake_1"
    completion_tokens: int | None = None


Behaviour: TypeAlias = Reply | Error | MidStreamError | Slow | Drop | ErrorIn200 | ToolCall


def split_text(text: str, pieces: int) -> list[str]:
    """Split `text` into at most `pieces` non-empty, order-preserving parts."""
    if pieces <= 0 or not text:
        return []
    size = len(text)
    parts = [text[size * i // pieces : size * (i + 1) // pieces] for i in range(pieces)]
    return [part for part in parts if part]


def word_count(text: str) -> int:
    """The fake's token count: words, at least 1 (deterministic and easy to do by hand)."""
    return max(1, len(text.split()))
