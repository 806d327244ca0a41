"""Anthropic's Messages API under /v1/messages: what Anthropic's SDKs and Claude Code call,
unmodified (any `anthropic-version`). Authenticated by an API key (`x-api-key` or
`Authorization: Bearer`) or a JWT; errors in Anthropic's shape (app/api/error_shapes.py)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app.api.deps import AppDep
from app.api.error_shapes import answer_or_events, documented
from app.api.openai_v1 import SSE_HEADERS
from app.api.surface_auth import AnthropicCaller
from app.schemas.anthropic import (
    AnthropicErrorOut,
    MessagesRequest,
    TokenCountOut,
    TokenCountRequest,
)
from app.services.request_log import trace
from app.services.surfaces.anthropic import messages
from app.services.surfaces.anthropic.native import PASSED_HEADERS

router = APIRouter(
    prefix="/v1/messages", tags=["anthropic"], responses=documented(AnthropicErrorOut, "Anthropic")
)
MESSAGE_OR_EVENTS = answer_or_events("The message, or with `stream: true` Anthropic's events")


@router.post(
    "",
    responses=MESSAGE_OR_EVENTS,
    summary="Create a message (Anthropic's Messages API); `stream: true` answers its events",
)
async def create_message(
    body: MessagesRequest, request: Request, caller: AnthropicCaller, ctx: AppDep
) -> Response:
    headers = {name: request.headers[name] for name in PASSED_HEADERS if name in request.headers}
    answer = await messages.create(ctx.call_path, caller.id, body, headers)
    if isinstance(answer, dict):
        return Response(orjson.dumps(answer), media_type="application/json")
    return StreamingResponse(answer, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post(
    "/count_tokens",
    response_model=TokenCountOut,
    summary="Count a message's input tokens (counted by the service, not the platform)",
)
async def count_tokens(
    body: TokenCountRequest, caller: AnthropicCaller, ctx: AppDep
) -> TokenCountOut:
    trace.not_a_call()
    return TokenCountOut(input_tokens=await messages.count_tokens(ctx.call_path, caller.id, body))
