"""Calls sent to a platform in its own API, as the caller wrote them: Anthropic's Messages API to
Claude, Google's generateContent to Gemini — so what only that API carries (`cache_control`,
signed thinking blocks, Google's safety settings) survives.

The surface that speaks the API describes it as a `NativeWire`: where a request goes, what its
answers say of usage, when a stream's first byte of answer has come, and how its events are
passed on. The call path runs a `NativeCall` as it runs a chat completion: the same account
choice, quota, failover, books and metrics (calls/call_path.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from app.models import PlatformConfig
from app.services.calls import passthrough
from app.services.calls.stream_relay import StreamFormat
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.base import CallTarget


class NativeWire(Protocol):
    """One platform API spoken as it is."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL, headers and body of the request on this account."""
        ...

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        """The usage a whole answer reports."""
        ...

    def text(self, answer: dict[str, Any]) -> str:
        """A whole answer's words (counted when it reports no usage)."""
        ...

    def carries_answer(self, event: dict[str, Any]) -> bool:
        """Whether a stream's event holds anything of the answer (failover ends there)."""
        ...

    def format(self) -> StreamFormat:
        """How one stream's events go on to the caller (noting its usage)."""
        ...


@dataclass(frozen=True)
class NativeCall:
    """A request in the platform's own API, with the caller's headers the API reads."""

    wire: NativeWire
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    speakers: Callable[[PlatformConfig], bool] | None = None
    """Which platforms of a route's targets take the request as it is (embeddings: every one
    speaking the same embeddings API); None: the call's platform alone."""


async def answer(
    http: aiohttp.ClientSession, target: CallTarget, call: NativeCall, seconds: float
) -> dict[str, Any]:
    url, headers, body = call.wire.request(target, call, stream=False)
    response = await passthrough.post(http, url, headers, body, seconds)
    return await passthrough.read_answer(response)


async def open_stream(
    http: aiohttp.ClientSession, target: CallTarget, call: NativeCall, seconds: float
) -> passthrough.Chunks:
    """The stream's events, parsed (an error event raises as a failure)."""
    url, headers, body = call.wire.request(target, call, stream=True)
    response = await passthrough.post(http, url, headers, body, seconds)
    await passthrough.check_stream(response)
    return passthrough.Chunks(response)


def model_name(target: CallTarget) -> str:
    """The platform's own name of the model (`anthropic/<model>` is litellm's)."""
    return target.model.split("/", 1)[1] if "/" in target.model else target.model
