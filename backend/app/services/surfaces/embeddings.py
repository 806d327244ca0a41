"""`POST /v1/embeddings` on the call path: the same account choice, quota, failover and books as a
chat call, the request sent to the platform's embeddings API — OpenAI's `/embeddings` on the
platforms that speak OpenAI's API, Google's `batchEmbedContents` on Gemini — and the answer
made OpenAI's `list` of embeddings.

The platform is always asked for floats; `encoding_format: base64` is encoded here (float32,
little-endian, as OpenAI's API does), so it works on platforms that know only floats.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any, Protocol

from app.core.errors import BadRequest
from app.models import PlatformConfig
from app.schemas.embeddings import EmbeddingsRequest
from app.services.calls import served
from app.services.calls.call_path import CallPath
from app.services.calls.native import NativeCall, NativeWire, model_name
from app.services.calls.stream_relay import StreamFormat
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.base import CallTarget
from app.services.surfaces import chat_call

_NO_EMBEDDINGS = ("anthropic",)
"""Providers with no embeddings API."""


class EmbeddingsWire(NativeWire, Protocol):
    def vectors(self, answer: dict[str, Any]) -> list[list[float]]:
        """The answer's embeddings, in the order of the inputs."""
        ...


async def create(proxy: CallPath, user_id: int, request: EmbeddingsRequest) -> dict[str, Any]:
    inputs = _inputs(request.input)
    texts = [item for item in inputs if isinstance(item, str)]
    # The chat call carries the inputs' words, for the estimate and a count when none is reported.
    counted = {"role": "user", "content": "\n".join(texts) or "-"}
    call = await chat_call.prepare(proxy, user_id, {"model": request.model, "messages": [counted]})
    wire = _wire(_provider(call.platform), call.platform.platform_name, inputs)
    body = request.model_dump(exclude_none=True, exclude={"model", "encoding_format"})
    body["input"] = inputs
    answer = await proxy.complete_native(call, NativeCall(wire, body, speakers=_speakers(wire)))
    usage = wire.usage(answer) or TokenUsage(await proxy.count_prompt(call), 0)
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": _encoded(vector, request)}
            for index, vector in enumerate(wire.vectors(answer))
        ],
        "model": (call.route and served.model()) or request.model,  # a route's: what served
        "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.prompt_tokens},
    }


def _inputs(given: str | list[Any]) -> list[str] | list[list[int]]:
    """The inputs as a list: of strings, or of token lists."""
    if given == "":
        raise BadRequest("input: must not be empty.")
    if isinstance(given, str):
        return [given]
    if all(isinstance(item, int) for item in given):
        return [given]  # one input given as tokens
    if len(given) > 2048:
        raise BadRequest("input: at most 2048 inputs per request.")
    if any(item in ("", []) for item in given):
        raise BadRequest("input: an input must not be empty.")
    return given


def _encoded(vector: list[float], request: EmbeddingsRequest) -> list[float] | str:
    if request.encoding_format == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _provider(platform: PlatformConfig) -> object:
    return platform.litellm_config.get("provider")


def _speakers(wire: EmbeddingsWire) -> Callable[[PlatformConfig], bool]:
    """A route's targets the call may move on to: those whose platform speaks the same
    embeddings API as the first's."""
    google = isinstance(wire, GoogleEmbeddings)
    return lambda p: _provider(p) not in _NO_EMBEDDINGS and (_provider(p) == "gemini") == google


def _wire(provider: object, platform_name: str, inputs: list[Any]) -> EmbeddingsWire:
    if provider in _NO_EMBEDDINGS:
        raise BadRequest(f"{platform_name} has no embeddings API; choose a platform that has one.")
    if provider != "gemini":
        return OpenAIEmbeddings()
    if not all(isinstance(item, str) for item in inputs):
        raise BadRequest("input: Gemini takes text; token arrays cannot be sent to it.")
    return GoogleEmbeddings()


class _Whole:
    """What an embeddings wire says of streams: they never stream."""

    def text(self, answer: dict[str, Any]) -> str:
        return ""

    def carries_answer(self, event: dict[str, Any]) -> bool:
        return True

    def format(self) -> StreamFormat:
        raise NotImplementedError("embeddings are never streamed")


class OpenAIEmbeddings(_Whole):
    """OpenAI's `/embeddings`, spoken by OpenAI, DashScope, Zhipu, Qianfan and Ark."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        url = target.api_base.rstrip("/") + "/embeddings"
        headers = {**target.extra_headers, "Authorization": f"Bearer {target.api_key}"}
        headers["Content-Type"] = "application/json"
        return url, headers, {**call.body, "model": model_name(target)}

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        usage = answer.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or usage.get("total_tokens") or 0)
        return TokenUsage(prompt, 0) if prompt else None

    def vectors(self, answer: dict[str, Any]) -> list[list[float]]:
        data = sorted(answer.get("data") or [], key=lambda item: int(item.get("index") or 0))
        return [list(item.get("embedding") or []) for item in data]


class GoogleEmbeddings(_Whole):
    """Google's `models/{model}:batchEmbedContents` (it reports no usage: counted here)."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        model = model_name(target)
        url = f"{target.api_base.rstrip('/')}/models/{model}:batchEmbedContents"
        # An OAuth-bound account's Bearer header is in extra_headers; a key goes as Google's.
        headers = dict(target.extra_headers) or {"x-goog-api-key": target.api_key}
        headers["content-type"] = "application/json"
        requests = []
        for text in call.body["input"]:
            one: dict[str, Any] = {
                "model": f"models/{model}",
                "content": {"parts": [{"text": text}]},
            }
            if call.body.get("dimensions"):
                one["outputDimensionality"] = call.body["dimensions"]
            requests.append(one)
        return url, headers, {"requests": requests}

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        return None

    def vectors(self, answer: dict[str, Any]) -> list[list[float]]:
        return [list(item.get("values") or []) for item in answer.get("embeddings") or []]
