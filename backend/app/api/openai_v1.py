"""The OpenAI-compatible API under /v1: what OpenAI's SDKs and tools call, unmodified.

Authenticated by an API key (`Authorization: Bearer op-…`) or a JWT; errors in OpenAI's shape.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import AppDep, Caller, ModelCaller, SessionDep
from app.api.errors import OPENAI_ERRORS
from app.core.errors import NotFound
from app.schemas.chat import ChatCompletionOut, ChatCompletionRequest, ModelList, ModelOut
from app.schemas.completions import CompletionRequest
from app.schemas.embeddings import EmbeddingsRequest
from app.services import model_routes
from app.services.calls import routing
from app.services.calls.answer_cache import Answer
from app.services.surfaces import completions, embeddings

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


@router.post(
    "/completions",
    responses=STREAMED_ANSWER,
    summary="Legacy completion (OpenAI's API), answered by the model's chat API",
)
async def legacy_completions(body: CompletionRequest, caller: ModelCaller, ctx: AppDep) -> Response:
    answer = await completions.create(ctx.call_path, caller.id, body)
    if isinstance(answer, dict):
        return Response(orjson.dumps(answer), media_type="application/json")
    return StreamingResponse(answer, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/embeddings", summary="Embeddings (OpenAI's API) from a platform's embedding model")
async def create_embeddings(body: EmbeddingsRequest, caller: ModelCaller, ctx: AppDep) -> Response:
    answer = await embeddings.create(ctx.call_path, caller.id, body)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get("/models", response_model=ModelList, summary="The models of your platforms")
async def list_models(session: SessionDep, caller: Caller) -> ModelList:
    entries = await _models(session, caller.id)
    return ModelList(data=[_model(entry) for entry in entries])


@router.get("/models/{model_id:path}", response_model=ModelOut, summary="One of your models")
async def retrieve_model(model_id: str, session: SessionDep, caller: Caller) -> ModelOut:
    for entry in await _models(session, caller.id):
        if entry.id == model_id:
            return _model(entry)
    raise NotFound(f"The model '{model_id}' does not exist", code="model_not_found")


async def _models(session: AsyncSession, user_id: int) -> list[routing.ModelEntry]:
    """The models of the caller's platforms and the routes they see."""
    return await model_routes.with_routes(
        session, user_id, await routing.list_models(session, user_id)
    )


def _model(entry: routing.ModelEntry) -> ModelOut:
    return ModelOut(id=entry.id, created=entry.created, owned_by=entry.platform_id, type=entry.kind)
