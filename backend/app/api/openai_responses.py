"""OpenAI's Responses API under /v1/responses: what the openai SDKs' `responses`, the Agents SDK,
the Vercel AI SDK's `openai()` and Codex CLI call, unmodified. Authenticated and refused as the
rest of /v1 (an API key or JWT as `Authorization: Bearer`; OpenAI's error shape)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from app.api.deps import AppDep, Caller, ModelCaller
from app.api.errors import OPENAI_ERRORS
from app.api.openai_v1 import SSE_HEADERS, STREAMED_ANSWER
from app.schemas.responses import ResponsesRequest
from app.services.context import AppContext
from app.services.surfaces.responses import create
from app.services.surfaces.responses.store import ResponseStore

router = APIRouter(prefix="/v1/responses", tags=["openai"], responses=OPENAI_ERRORS)


def _store(ctx: AppContext) -> ResponseStore:
    return ResponseStore(ctx.factory, ctx.settings.responses_retention_days)


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.post(
    "",
    responses=STREAMED_ANSWER,
    summary="Create a response (OpenAI's Responses API); `stream: true` answers its events",
)
async def create_response(body: ResponsesRequest, caller: ModelCaller, ctx: AppDep) -> Response:
    answer = await create.create(ctx.call_path, _store(ctx), caller.id, body)
    if isinstance(answer, dict):
        return _json(answer)
    return StreamingResponse(answer, media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/{response_id}", summary="A stored response of yours")
async def get_response(response_id: str, caller: Caller, ctx: AppDep) -> Response:
    return _json((await _store(ctx).get(caller.id, response_id)).response)


@router.delete("/{response_id}", summary="Delete a stored response of yours")
async def delete_response(response_id: str, caller: Caller, ctx: AppDep) -> Response:
    await _store(ctx).delete(caller.id, response_id)
    return _json({"id": response_id, "object": "response", "deleted": True})


@router.get("/{response_id}/input_items", summary="The input items a stored response came from")
async def input_items(
    response_id: str,
    caller: Caller,
    ctx: AppDep,
    order: str = "desc",
    limit: int = 20,
    after: str | None = None,
) -> Response:
    items = list((await _store(ctx).get(caller.id, response_id)).input_items)
    if order != "asc":
        items.reverse()
    if after is not None:
        ids = [item.get("id") for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[: max(1, min(limit, 100))]
    return _json(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > len(page),
        }
    )
