"""`POST /v1/messages` and `/v1/messages/count_tokens` on the call path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.schemas.anthropic import MessagesRequest, TokenCountRequest
from app.services.calls.call_path import CallPath
from app.services.calls.native import NativeCall
from app.services.surfaces import chat_call
from app.services.surfaces.anthropic.answer import MessageEvents, message
from app.services.surfaces.anthropic.native import MessagesWire
from app.services.surfaces.anthropic.request import chat_body


async def create(
    proxy: CallPath, user_id: int, request: MessagesRequest, headers: dict[str, str]
) -> dict[str, Any] | AsyncIterator[bytes]:
    """The message, or with `stream` its events. `headers`: the caller's Anthropic headers."""
    call = await chat_call.prepare(proxy, user_id, chat_body(request))
    if chat_call.speaks(call, "anthropic"):
        native = NativeCall(MessagesWire(), request.model_dump(exclude_unset=True), headers)
        if request.stream:
            return await proxy.open_native_stream(call, native)
        return await proxy.complete_native(call, native)
    if request.stream:
        return await proxy.open_stream(call, MessageEvents(request.model))
    return message(await proxy.complete(call))


async def count_tokens(proxy: CallPath, user_id: int, request: TokenCountRequest) -> int:
    """The prompt's tokens, counted here for the model's platform."""
    call = await chat_call.prepare(proxy, user_id, chat_body(request))
    return await proxy.count_prompt(call)
