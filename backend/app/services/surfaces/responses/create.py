"""`POST /v1/responses` on the call path: the conversation (a stored response's, when the request
continues one, then the request's input) translated onto the platform's chat API, the answer
made a `response` and, unless `store` is false, kept for its user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from app.schemas.responses import ResponsesRequest
from app.services.calls.call_path import CallPath
from app.services.surfaces import chat_call
from app.services.surfaces.responses.answer import Shell, new_id, response
from app.services.surfaces.responses.events import ResponseEvents
from app.services.surfaces.responses.native import ResponsesPassed, native_call
from app.services.surfaces.responses.request import (
    chat_body,
    chat_messages,
    chat_tools,
    input_items,
)
from app.services.surfaces.responses.store import ResponseStore

Save = Callable[[dict[str, Any]], Awaitable[None]]


async def create(
    proxy: CallPath, store: ResponseStore, user_id: int, request: ResponsesRequest
) -> dict[str, Any] | AsyncIterator[bytes]:
    """The response, or with `stream` its events."""
    items = [_with_id(item) for item in input_items(request)]
    earlier = []
    if request.previous_response_id:
        earlier = await store.conversation(user_id, request.previous_response_id)
    conversation = [*earlier, *items]
    # Items only the platform's own Responses API takes are counted as text until it is known
    # that the call is translated.
    body = chat_body(request, conversation, as_text=True)
    call = await chat_call.prepare(proxy, user_id, body)

    async def save(answer: dict[str, Any]) -> None:
        if request.store:
            await store.save(user_id, answer, conversation)

    if call.platform.litellm_config.get("responses_api") is True:
        native = native_call(request, earlier)
        if request.stream:
            passed = ResponsesPassed()
            events = await proxy.open_native_stream(call, native, passed)
            return _saved_when_done(events, passed, save)
        answer = await proxy.complete_native(call, native) | {"store": request.store}
        await save(answer)
        return answer
    chat_messages(conversation)  # refuses what no chat API takes
    if request.tools:
        call = replace(call, params=call.params | {"tools": chat_tools(request)})
    shell = Shell(request)
    if request.stream:
        format = ResponseEvents(shell)
        return _saved_when_done(await proxy.open_stream(call, format), format, save)
    answer = response(shell, await proxy.complete(call))
    await save(answer)
    return answer


async def _saved_when_done(
    events: AsyncIterator[bytes], format: ResponseEvents | ResponsesPassed, save: Save
) -> AsyncIterator[bytes]:
    """The events; the whole response is stored before its last event leaves, so a caller that
    continues it at once finds it."""
    saved = False
    async with aclosing(events):  # type: ignore[type-var]
        async for block in events:
            if format.final is not None and not saved:
                await save(format.final)
                saved = True
            yield block


def _with_id(item: dict[str, Any]) -> dict[str, Any]:
    """An input item as `input_items` lists it: with an id, a message's text as parts."""
    kind = item.get("type") or "message"
    item = {"type": kind, **item}
    if kind == "message" and isinstance(item.get("content"), str):
        part = "output_text" if item.get("role") == "assistant" else "input_text"
        item["content"] = [{"type": part, "text": item["content"]}]
    if not item.get("id"):
        item["id"] = new_id("msg" if kind == "message" else "item")
    return item
