"""`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` and `:countTokens` on
the call path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.schemas.gemini import GenerateContentRequest
from app.services.calls.call_path import CallPath
from app.services.calls.native import NativeCall
from app.services.surfaces import chat_call
from app.services.surfaces.gemini.answer import ContentEvents, response
from app.services.surfaces.gemini.native import GenerateContentWire
from app.services.surfaces.gemini.request import chat_body


async def answer(
    proxy: CallPath, user_id: int, model: str, request: GenerateContentRequest
) -> dict[str, Any]:
    """The whole `GenerateContentResponse`."""
    call = await chat_call.prepare(proxy, user_id, chat_body(model, request))
    if chat_call.speaks(call, "gemini"):
        return await proxy.complete_native(call, NativeCall(GenerateContentWire(), request.body()))
    return response(await proxy.complete(call))


async def stream(
    proxy: CallPath, user_id: int, model: str, request: GenerateContentRequest
) -> AsyncIterator[bytes]:
    """The response's server-sent events."""
    call = await chat_call.prepare(proxy, user_id, chat_body(model, request))
    if chat_call.speaks(call, "gemini"):
        native = NativeCall(GenerateContentWire(), request.body())
        return await proxy.open_native_stream(call, native)
    return await proxy.open_stream(call, ContentEvents(model))


async def count_tokens(
    proxy: CallPath, user_id: int, model: str, request: GenerateContentRequest
) -> int:
    """The prompt's tokens, counted here for the model's platform."""
    call = await chat_call.prepare(proxy, user_id, chat_body(model, request))
    return await proxy.count_prompt(call)
