"""The OpenAI-compatible API under /v1: what OpenAI's SDKs and tools call, unmodified.

Authenticated by an API key (`Authorization: Bearer op-…`) or a JWT; errors in OpenAI's shape.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header
from fastapi.responses import Response, StreamingResponse

from app.api.deps import AppDep, Caller, ModelCaller, SessionDep
from app.api.errors import OPENAI_ERRORS
from app.schemas.chat import ChatCompletionOut, ChatCompletionRequest, ModelList, ModelOut
from app.services.calls import routing
from app.services.calls.answer_cache import Answer

router = APIRouter(prefix="/v1", tags=["openai"], responses=OPENAI_ERRORS)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
CacheControl = Annotated[
    str | None,
    Header(description="`no-cache`: not answered from the answer cache; `no-store`: not kept"),
]


def cache_headers(answer: Answer) -> dict[str, str]:
    return {"x-cache": "hit"} if answer.from_cache else {}


# With `stream: true` the answer is `chat.completion.chunk` events ending in `data: [DONE]`.
STREAMED_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The answer, or with `stream: true` its event stream",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/chat/completions",
    response_model=ChatCompletionOut,
    responses=STREAMED_ANSWER,
    summary="Chat completion (OpenAI's API); `stream: true` answers server-sent events",
)
async def chat_completions(
    body: ChatCompletionRequest,
    caller: ModelCaller,
    ctx: AppDep,
    cache_control: CacheControl = None,
) -> Response:
    proxy = ctx.call_path
    call = await proxy.prepare(caller.id, body, cache_control=cache_control)
    if body.stream:
        events = await proxy.open_stream(call)
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)
    answer = await proxy.answer(call)
    return Response(
        orjson.dumps(answer.body), media_type="application/json", headers=cache_headers(answer)
    )


@router.get("/models", response_model=ModelList, summary="The models of your platforms")
async def list_models(session: SessionDep, caller: Caller) -> ModelList:
    entries = await routing.list_models(session, caller.id)
    return ModelList(
        data=[ModelOut(id=e.id, created=e.created, owned_by=e.platform_id) for e in entries]
    )
