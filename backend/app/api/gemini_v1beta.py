"""Google's Gemini API under /v1beta: what Google's SDKs (`google-genai`) call, unmodified.

A model is named in the path as the SDKs put it: `models/gemini-2.5-flash:generateContent`, or
for another platform's model `models/qwen/qwen-plus:generateContent` (what google-genai makes of
`model="qwen/qwen-plus"`). Served under /v1beta and, for the model methods, under /v1 too
(google-genai's default version). Authenticated by an API key (`x-goog-api-key`, `?key=` or
`Authorization: Bearer`) or a JWT; errors in Google's shape (app/api/error_shapes.py).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from app.api.deps import AppDep, SessionDep
from app.api.error_shapes import answer_or_events, documented
from app.api.openai_v1 import SSE_HEADERS
from app.api.surface_auth import GoogleCaller
from app.core.errors import BadRequest, NotFound
from app.schemas.gemini import CountTokensRequest, GenerateContentRequest, GoogleErrorOut
from app.services.calls import routing
from app.services.request_log import trace
from app.services.surfaces.gemini import generate

_GOOGLE_ERRORS = documented(GoogleErrorOut, "Google")
model_methods = APIRouter(tags=["gemini"], responses=_GOOGLE_ERRORS)
"""The model methods, served under /v1beta and /v1."""
router = APIRouter(tags=["gemini"], responses=_GOOGLE_ERRORS)
"""All of Gemini's API served here, under /v1beta."""
_ANSWER = answer_or_events("A `GenerateContentResponse`, or its event stream")


@model_methods.post(
    "/models/{model:path}:generateContent", responses=_ANSWER, summary="Generate content"
)
async def generate_content(
    model: str, body: GenerateContentRequest, caller: GoogleCaller, ctx: AppDep
) -> Response:
    answer = await generate.answer(ctx.call_path, caller.id, model, body)
    return Response(orjson.dumps(answer), media_type="application/json")


@model_methods.post(
    "/models/{model:path}:streamGenerateContent",
    responses=_ANSWER,
    summary="Generate content as server-sent events (`alt=sse`)",
)
async def stream_generate_content(
    model: str, body: GenerateContentRequest, caller: GoogleCaller, ctx: AppDep
) -> Response:
    events = await generate.stream(ctx.call_path, caller.id, model, body)
    return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)


@model_methods.post(
    "/models/{model:path}:countTokens",
    summary="Count a request's tokens (counted by the service, not the platform)",
)
async def count_tokens(
    model: str, body: CountTokensRequest, caller: GoogleCaller, ctx: AppDep
) -> dict[str, int]:
    trace.not_a_call()
    request = body.generate_content_request
    if request is None:
        if not body.contents:
            raise BadRequest("contents or generateContentRequest is required.")
        request = GenerateContentRequest(contents=body.contents)
    tokens = await generate.count_tokens(ctx.call_path, caller.id, model, request)
    return {"totalTokens": tokens}


router.include_router(model_methods)


@router.get("/models", summary="The models of your platforms, as Gemini's API lists them")
async def list_models(session: SessionDep, caller: GoogleCaller) -> dict[str, Any]:
    entries = await routing.list_models(session, caller.id)
    return {"models": [_model(entry.id) for entry in entries]}


@router.get("/models/{model:path}", summary="One of your models, as Gemini's API shows it")
async def get_model(model: str, session: SessionDep, caller: GoogleCaller) -> dict[str, Any]:
    entries = await routing.list_models(session, caller.id)
    if model not in {entry.id for entry in entries}:
        raise NotFound(f"No model of yours is named {model[:100]!r}.", code="model_not_found")
    return _model(model)


def _model(name: str) -> dict[str, Any]:
    return {
        "name": f"models/{name}",
        "displayName": name,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
